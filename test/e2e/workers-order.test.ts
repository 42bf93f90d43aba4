/**
 * Issue 17, defect 9 and issue 14 (per-call ordering across workers): with `--workers 2`, an ACK
 * and the BYE sent right behind it must reach the UAS in that order. A UAC and a UAS on plain UDP
 * sockets run many short calls through routes/route.lua (record-routed, stateful): the UAC sends
 * ACK and BYE back to back, in one go, as soon as the 200 comes; the UAS records, per call, the
 * order in which ACK and BYE arrived.
 *
 * The ordering holds because each source's datagrams are read by one worker (src/ops/cluster.ts:
 * SO_REUSEPORT on Node >= 22.12, one reading worker through SO_REUSEADDR before). With the
 * workers sharing one socket handle (KEMI_WORKERS_UDP=shared), 0.85-1.6% of these calls reached
 * the UAS with the BYE first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { REPO, startProxy, type ProxyHandle } from './harness.js';
import { hasUdpReusePort } from '../../src/ops/cluster.js';

const CALLS = 4000;
const CONCURRENT = 100;
const DEADLINE_MS = 60_000;
const BIND = hasUdpReusePort() ? 'SO_REUSEPORT' : 'SO_REUSEADDR';

let proxy: ProxyHandle;
beforeAll(async () => {
  proxy = await startProxy({ script: join(REPO, 'routes/route.lua'), protos: ['udp'], extraArgs: ['--workers', '2'] });
});
afterAll(async () => {
  await proxy?.stop();
});

const hdrs = (msg: string, name: string): string[] =>
  [...msg.matchAll(new RegExp(`^${name}:[ \\t]*([^\\r\\n]*)`, 'gim'))].map((m) => m[1]!);
const hdr = (msg: string, name: string): string => hdrs(msg, name)[0] ?? '';

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

/** A UAS that answers INVITE and BYE 200 and notes, per Call-ID, the in-dialog methods in arrival order. */
async function uas(): Promise<{ port: number; order: Map<string, string[]>; close(): void }> {
  const s = await bound();
  const port = s.address().port;
  const order = new Map<string, string[]>();
  s.on('message', (m, from) => {
    const t = m.toString('latin1');
    const method = t.slice(0, t.indexOf(' '));
    const callId = hdr(t, 'Call-ID');
    if (method === 'ACK' || method === 'BYE') {
      const list = order.get(callId) ?? [];
      list.push(method);
      order.set(callId, list);
    }
    if (method !== 'INVITE' && method !== 'BYE') return;
    const vias = hdrs(t, 'Via').map((v) => `Via: ${v}\r\n`).join('');
    const rr = method === 'INVITE' ? hdrs(t, 'Record-Route').map((v) => `Record-Route: ${v}\r\n`).join('') : '';
    const to = method === 'INVITE' ? `${hdr(t, 'To')};tag=uas${callId.length}` : hdr(t, 'To');
    const reply = `SIP/2.0 200 OK\r\n${vias}${rr}From: ${hdr(t, 'From')}\r\nTo: ${to}\r\nCall-ID: ${callId}\r\nCSeq: ${hdr(t, 'CSeq')}\r\n` +
      `Contact: <sip:bob@127.0.0.1:${port}>\r\nContent-Length: 0\r\n\r\n`;
    s.send(reply, from.port, from.address);
  });
  return { port, order, close: () => s.close() };
}

/** Runs `CALLS` calls, `CONCURRENT` at a time; resolves with how many completed (BYE answered). */
async function uac(proxyPort: number, uasPort: number): Promise<number> {
  const s = await bound();
  const lport = s.address().port;
  let started = 0;
  let done = 0;
  let branch = 0;
  const finished = new Set<string>();
  const via = (): string => `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bKord${++branch}\r\n`;
  const startCall = (): void => {
    const n = started++;
    s.send(`INVITE sip:bob@127.0.0.1:${uasPort} SIP/2.0\r\n${via()}Max-Forwards: 70\r\nFrom: <sip:alice@kemi.test>;tag=a${n}\r\n` +
      `To: <sip:bob@kemi.test>\r\nCall-ID: order-${n}@kemi.test\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:${lport}>\r\nContent-Length: 0\r\n\r\n`, proxyPort, '127.0.0.1');
  };
  return new Promise<number>((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      s.close();
      resolve(done);
    };
    const timer = setTimeout(finish, DEADLINE_MS);
    s.on('message', (m) => {
      const t = m.toString('latin1');
      if (!t.startsWith('SIP/2.0 200')) return;
      const cseq = hdr(t, 'CSeq');
      if (cseq.endsWith('BYE')) {
        // A BYE retransmitted by tm gets its 200 again: count each call once.
        if (finished.has(hdr(t, 'Call-ID'))) return;
        finished.add(hdr(t, 'Call-ID'));
        if (++done === CALLS) finish();
        else if (started < CALLS) startCall();
        return;
      }
      // The 200 for the INVITE: ACK and BYE back to back, through the record-routed proxy.
      const route = hdrs(t, 'Record-Route').map((v) => `Route: ${v}\r\n`).join('');
      const target = /<([^>]+)>/.exec(hdr(t, 'Contact'))![1]!;
      const common = `Max-Forwards: 70\r\n${route}From: ${hdr(t, 'From')}\r\nTo: ${hdr(t, 'To')}\r\nCall-ID: ${hdr(t, 'Call-ID')}\r\n`;
      s.send(`ACK ${target} SIP/2.0\r\n${via()}${common}CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n`, proxyPort, '127.0.0.1');
      s.send(`BYE ${target} SIP/2.0\r\n${via()}${common}CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n`, proxyPort, '127.0.0.1');
    });
    for (let i = 0; i < CONCURRENT; i++) startCall();
  });
}

describe('--workers 2: ACK then BYE sent back to back', () => {
  let order = new Map<string, string[]>();

  it(`${CALLS} calls complete`, async () => {
    const u = await uas();
    try {
      const completed = await uac(proxy.port, u.port);
      await new Promise((r) => setTimeout(r, 300));
      order = u.order;
      expect(completed, proxy.output().slice(-3000)).toBe(CALLS);
    } finally {
      u.close();
    }
  }, 90_000);

  it(`each worker binds its own UDP socket with ${BIND} (Node ${process.versions.node})`, () => {
    expect(proxy.output()).toMatch(new RegExp(`each worker binds its own UDP sockets with ${BIND}`));
  });

  it('the UAS gets each ACK before its BYE', () => {
    expect(order.size).toBe(CALLS);
    // Out of order: the first BYE came before the first ACK, or no ACK came (BYEs retransmitted
    // after the ACK are tm doing its job when a 200 is slow, not a reordering).
    const reordered = [...order].filter(([, seq]) => !seq.includes('ACK') || seq.indexOf('BYE') < seq.indexOf('ACK'));
    const retransmitted = [...order].filter(([, seq]) => seq.filter((x) => x === 'BYE').length > 1).length;
    const figures = `${reordered.length} of ${order.size} calls reached the UAS out of order (${((100 * reordered.length) / order.size).toFixed(3)}%): ` +
      reordered.slice(0, 5).map(([id, seq]) => `${id}=${seq.join(',')}`).join(' ') + `; ${retransmitted} calls had their BYE retransmitted`;
    console.log(`workers-order: ${figures}`);
    // THE ASSERTION OF DEFECT 9: every call's ACK reaches the UAS before its BYE.
    expect(reordered.length, figures).toBe(0);
  });
});
