/**
 * Two proxies in one process share nothing: each instance has its own module states, PV table,
 * transaction layer and script VM. Two instances run with different modparams (rr's
 * enable_full_lr, htable's tables, dispatcher's lists) and each relays as its own config says.
 */
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../../src/app/start.js';
import { defaultConfig, type ProxyConfig } from '../../src/ops/config.js';
import { Logger } from '../../src/lib/log.js';
import { freePort, tempDir, writeScript } from './harness.js';
import { request, udpRequest } from './udp-client.js';

const running: RunningProxy[] = [];
afterAll(async () => {
  for (const p of running) await p.stop();
});

/** A UDP sink that answers 200 and keeps the requests it got. */
async function sink(): Promise<{ port: number; got: string[]; close(): void }> {
  const s = createSocket('udp4');
  const got: string[] = [];
  s.on('message', (m, r) => {
    const text = m.toString('latin1');
    if (/^SIP\/2\.0/.test(text) || text.startsWith('ACK')) return;
    got.push(text);
    const keep = text.split('\r\n\r\n')[0]!.split('\r\n').filter((l) => /^(via|from|to|call-id|cseq):/i.test(l));
    s.send(Buffer.from(['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n'), 'latin1'), r.port, r.address);
  });
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  return { port: (s.address() as { port: number }).port, got, close: () => s.close() };
}

describe('two proxy instances in one process', () => {
  it('keep their own modparams, module state and PVs', async () => {
    const dir = tempDir('kemi-two-');
    const out = await sink();
    const other = await sink();
    const script = writeScript(`
function ksr_request_route()
  KSR.rr.record_route()
  KSR.htable.sht_inc("calls", "n")
  -- $sht reads this instance's table; the dispatcher set says where to go.
  KSR.hdr.append("X-Count: " .. tostring(KSR.pv.get("$sht(calls=>n)")) .. "\\r\\n")
  if KSR.dispatcher.ds_select_dst(1, 0) < 0 then
    KSR.sl.sl_send_reply(503, "No Destination")
    return
  end
  KSR.tm.t_relay()
end
`, dir);
    const list = (name: string, uri: string): string => {
      const f = join(dir, name);
      writeFileSync(f, `1 ${uri}\n`);
      return f;
    };
    const base = (port: number, fullLr: number, initval: number, listFile: string): ProxyConfig => ({
      ...defaultConfig(),
      listen: [`udp:127.0.0.1:${port}`],
      script,
      modules: ['pv', 'hdr', 'sl', 'tm', 'rr', 'htable', 'dispatcher'],
      modparams: {
        rr: { enable_full_lr: fullLr },
        htable: { htable: `calls=>initval=${initval};` },
        dispatcher: { list_file: listFile },
      },
      watch: false,
      metrics: null,
      rpc: null,
    });
    const pa = await freePort();
    const pb = await freePort();
    const log = new Logger('crit');
    running.push(await startProxy(base(pa, 0, 100, list('a.list', `sip:127.0.0.1:${out.port}`)), log));
    running.push(await startProxy(base(pb, 1, 500, list('b.list', `sip:127.0.0.1:${other.port}`)), log));
    // Each instance's dispatcher list names its own sink.
    const seen = async (port: number, at: { got: string[] }): Promise<string> => {
      const before = at.got.length;
      const ex = await udpRequest(port, request('OPTIONS', 'sip:bob@kemi.test'), 2000);
      expect(ex.final).toBe(200);
      return at.got.slice(before).join('');
    };
    const a1 = await seen(pa, out);
    const b1 = await seen(pb, other);
    const a2 = await seen(pa, out);
    expect(a1).toMatch(/^Record-Route: <sip:127\.0\.0\.1:\d+;lr;ftag=[^;>]+>/m);
    expect(b1).toMatch(/^Record-Route: <sip:127\.0\.0\.1:\d+;lr=on;ftag=[^;>]+>/m);
    expect(a1).toMatch(/^OPTIONS sip:bob@kemi\.test SIP\/2\.0[\s\S]*^X-Count: 101$/m);
    expect(b1).toMatch(/^X-Count: 501$/m);
    expect(a2).toMatch(/^X-Count: 102$/m);
    expect(out.got).toHaveLength(2);
    expect(other.got).toHaveLength(1);
    out.close();
    other.close();
  });
});
