/**
 * siptrace next to Kamailio 5.6: with the same modparams (HEP3 to a local collector, capture id,
 * auth key), sip_trace, sip_trace_dst_cid, hlog and hlog_cid send the same HEP3 packets: the same
 * chunks in the same order with the same values, the capture times and the run's ports aside.
 */
import { describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { freePort, tempDir, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';
import { decodeHep3, HEP } from '../../src/lib/hep.js';

const targets = useTargets();

const script = (collector2: number): string => `
function ksr_request_route()
  local t = KSR.siptrace
  local codes = t.sip_trace() .. "," .. t.sip_trace_dst_cid("sip:127.0.0.1:${collector2}", "corr-1")
    .. "," .. t.hlog("hello log") .. "," .. t.hlog_cid("cid-2", "second") .. "," .. t.sip_trace_mode("m")
  KSR.sl.sl_send_reply(200, "OK " .. codes)
end
`;

const REQUEST = [
  'OPTIONS sip:bob@kemi.test SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKst1;rport',
  'Max-Forwards: 20',
  'From: <sip:alice@kemi.test>;tag=f1',
  'To: <sip:bob@kemi.test>',
  'Call-ID: siptrace-1@kemi.test',
  'CSeq: 1 OPTIONS',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

interface Run {
  reply: string;
  packets: string[][];
}

async function run(target: 'kemi' | 'kamailio'): Promise<Run> {
  const coll = createSocket('udp4');
  await new Promise<void>((r) => coll.bind(0, '127.0.0.1', () => r()));
  const collPort = (coll.address() as { port: number }).port;
  const coll2 = createSocket('udp4');
  await new Promise<void>((r) => coll2.bind(0, '127.0.0.1', () => r()));
  const coll2Port = (coll2.address() as { port: number }).port;
  const got: Array<[string, Buffer]> = [];
  coll.on('message', (m) => got.push(['c1', m]));
  coll2.on('message', (m) => got.push(['c2', m]));
  const port = await freePort();
  const params = { trace_on: 1, hep_mode_on: 1, hep_version: 3, trace_to_database: 0, hep_capture_id: 7, auth_key: 'sekrit', duplicate_uri: `sip:127.0.0.1:${collPort}` };
  const cfg = join(tempDir('kemi-st-'), 'config.json');
  writeFileSync(cfg, JSON.stringify({ modparams: { siptrace: params } }));
  const clientPort = await freePort();
  try {
    const h = await targets.start(target, writeScript(script(coll2Port)), {
      port,
      kemiModules: ['pv', 'hdr', 'kx', 'sl', 'siptrace'],
      kemiArgs: ['-c', cfg],
      kamailioModules: ['loadmodule "siptrace.so"', ...Object.entries(params).map(([k, v]) => `modparam("siptrace", "${k}", ${typeof v === 'number' ? v : `"${v}"`})`)].join('\n'),
    });
    const ex = await udpRequest(port, REQUEST, 1500, clientPort);
    const until = Date.now() + 2000;
    while (got.length < 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const mask = (s: string): string => s.replaceAll(String(port), 'PROXY').replaceAll(String(clientPort), 'CLIENT')
      .replaceAll(String(collPort), 'COLL').replaceAll(String(coll2Port), 'COLL2');
    const packets = got.map(([where, b]) => [where, ...decodeHep3(b).map((c) => {
      if (c.type === HEP.TIME_SEC || c.type === HEP.TIME_USEC) return `${c.type}:time(${c.data.length})`;
      if (c.type === HEP.SRC_PORT || c.type === HEP.DST_PORT) return `${c.type}:${mask(String(c.data.readUInt16BE(0)))}`;
      if (c.type === HEP.PAYLOAD || c.type === HEP.CORRELATION_ID || c.type === HEP.AUTH_KEY) return `${c.type}:${c.data.toString('latin1')}`;
      return `${c.type}:${c.data.toString('hex')}`;
    })]);
    const reply = ex.replies[0]?.split('\r\n')[0] ?? '';
    if (!reply) throw new Error(`${target}: no reply\n${h.output().slice(-3000)}`);
    return { reply, packets: packets.sort((a, b) => a.join('|').localeCompare(b.join('|'))) };
  } finally {
    coll.close();
    coll2.close();
  }
}

describe('siptrace next to Kamailio 5.6', () => {
  it('the same HEP3 packets and return codes', async () => {
    const { kemi, kam } = await targets.onBoth((t) => run(t));
    expect(kemi.reply).toBe('SIP/2.0 200 OK 1,1,1,1,1');
    expect(kemi.packets.length).toBe(5);
    expect(kemi).toEqual(kam);
  }, 60_000);
});
