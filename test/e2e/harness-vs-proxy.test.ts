/**
 * The offline harness (src/testing) gives the same messages as a running kemi-proxy: one call
 * through routes/route.lua with real SIPp endpoints and a real proxy, then the messages each SIPp
 * endpoint sent fed into the harness (same addresses and ports, same listen socket) in the order
 * they were sent. What the harness sends to each endpoint must equal what that endpoint received
 * from the real proxy, header by header, with only the proxy's Via branches masked (they are
 * random per instance). The harness reply of the downstream UA carries the harness's Vias: a UA
 * copies the Vias of the request it got, as SIPp's [last_Via:] does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, REPO, startProxy, startSipp } from './harness.js';
import { scriptHarness, type SentMessage } from '../../src/testing/index.js';

let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Traced {
  at: string;
  dir: 'sent' | 'received';
  text: string;
}

/** Every message of a SIPp -trace_msg log, with its timestamp, in log order. */
function traced(logText: string): Traced[] {
  const out: Traced[] = [];
  const parts = logText.split(/^-{20,} (.*)$/m);
  // parts: [before, ts1, block1, ts2, block2, ...]
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const m = /^\s*UDP message (sent|received) (?:\(\d+ bytes\)|\[\d+\] bytes) ?:\r?\n\r?\n([\s\S]*)$/.exec(parts[i + 1]!);
    if (!m) continue;
    out.push({ at: parts[i]!.trim(), dir: m[1] as 'sent' | 'received', text: exact(m[2]!) });
  }
  return out;
}

/** The message as it was on the wire: CRLF line ends, the body cut at Content-Length. */
function exact(text: string): string {
  const t = text.replace(/^\s+/, '').replace(/\r?\n/g, '\r\n');
  const end = t.indexOf('\r\n\r\n');
  if (end < 0) return t.trimEnd() + '\r\n\r\n';
  const len = Number(/^(?:Content-Length|l)\s*:\s*(\d+)/im.exec(t.slice(0, end))?.[1] ?? 0);
  return t.slice(0, end + 4) + t.slice(end + 4, end + 4 + len);
}

interface Input extends Traced {
  from: number;
}

/**
 * The messages the endpoints sent, merged in an order that respects cause: a message an endpoint
 * sent after receiving N messages is fed only once the harness has sent that endpoint N messages.
 * Timestamps of two SIPp processes only break ties; each SIPp stamps with a clock it refreshes once
 * per loop, so a reply's ACK can carry an earlier time than the reply it answers.
 */
function* causalOrder(endpoints: { log: Traced[]; port: number }[], sentSoFar: () => readonly SentMessage[]): Generator<Input> {
  const next = endpoints.map(() => 0);
  const pending = (e: number): { i: number; m: Traced; after: number } | undefined => {
    const log = endpoints[e]!.log;
    let i = next[e]!;
    while (i < log.length && log[i]!.dir !== 'sent') i++;
    if (i >= log.length) return undefined;
    return { i, m: log[i]!, after: log.slice(0, i).filter((t) => t.dir === 'received').length };
  };
  for (;;) {
    const heads = endpoints.map((_, e) => pending(e));
    const sent = sentSoFar();
    const got = endpoints.map((ep) => sent.filter((s) => !s.retransmission && s.target.port === ep.port).length);
    let pick = -1;
    for (const ready of [true, false]) {
      for (let e = 0; e < endpoints.length; e++) {
        const hd = heads[e];
        if (!hd || (ready && got[e]! < hd.after)) continue;
        if (pick < 0 || hd.m.at < heads[pick]!.m.at) pick = e;
      }
      if (pick >= 0) break;
    }
    if (pick < 0) return;
    const hd = heads[pick]!;
    next[pick] = hd.i + 1;
    yield { ...hd.m, from: endpoints[pick]!.port };
  }
}

const mask = (m: string): string => m.replace(/branch=z9hG4bK[^;,\s>]*/g, 'branch=B').trimEnd();

interface CallCase {
  name: string;
  uac: string;
  uas: string;
  /** Start lines each endpoint must have received (so an empty run cannot pass). */
  uacGets: string[];
  uasGets: string[];
}

const CASES: CallCase[] = [
  {
    name: 'INVITE / 180 / 200 / ACK / BYE', uac: 'uac.xml', uas: 'uas.xml',
    uacGets: ['SIP/2.0 100', 'SIP/2.0 180', 'SIP/2.0 200', 'SIP/2.0 200'], uasGets: ['INVITE', 'ACK', 'BYE'],
  },
  {
    name: 'INVITE answered 486: the failure route runs, the 486 goes upstream, both hops ACKed', uac: 'uac-486.xml', uas: 'uas-486.xml',
    uacGets: ['SIP/2.0 100', 'SIP/2.0 486'], uasGets: ['INVITE', 'ACK'],
  },
];

describe('the harness and a running kemi-proxy give the same messages (routes/route.lua)', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const script = join(REPO, 'routes/route.lua');
      const uasPort = await freePort();
      const uas = startSipp({ scenario: c.uas, port: uasPort, timeoutS: 20, traceMsg: true, calls: 1 });
      running.push(uas);
      const proxyPort = await freePort();
      const proxy = await startProxy({ script, port: proxyPort, protos: ['udp'] });
      running.push(proxy);
      await settle(200);
      const uacPort = await freePort();
      const uac = startSipp({
        scenario: c.uac, port: uacPort, remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${proxyPort}`,
        calls: 1, rate: 1, limit: 1, timeoutS: 20, service: 'bob', traceMsg: true,
      });
      running.push(uac);
      const res = await uac.done;
      await settle(1200);
      await uas.stop();
      await proxy.stop();
      expect(res.failed, `${res.output}\n${proxy.output()}`).toBe(0);

      const uacLog = traced(readFileSync(res.msgFile!, 'utf8'));
      const uasLog = traced(readFileSync(join(uas.dir, 'msg.log'), 'utf8'));
      const real = {
        uac: uacLog.filter((m) => m.dir === 'received').map((m) => mask(m.text)),
        uas: uasLog.filter((m) => m.dir === 'received').map((m) => mask(m.text)),
      };

      const h = await scriptHarness({ script, listen: [`udp:127.0.0.1:${proxyPort}`], aliases: ['kemi.test'] });
      try {
        const toUas: SentMessage[] = [];
        // The same messages into the harness, in the order the endpoints sent them.
        for (const m of causalOrder([{ log: uacLog, port: uacPort }, { log: uasLog, port: uasPort }], () => h.sent)) {
          let text = m.text;
          if (m.from === uasPort && text.startsWith('SIP/2.0')) {
            // The UAS copied the real proxy's Vias; give it the ones the harness relayed with.
            const cseq = /^CSeq:.*$/im.exec(text)![0];
            const req = [...toUas].reverse().find((r) => r.isRequest && `CSeq: ${r.header('CSeq')}` === cseq);
            expect(req, `no relayed request for ${cseq}`).toBeDefined();
            const vias = req!.headers('Via').map((v) => `Via: ${v}\r\n`).join('');
            text = text.replace(/^(Via|v):.*\r\n/gim, '').replace(/^(SIP\/2\.0 [^\r]*\r\n)/, `$1${vias}`);
          }
          const step = await h.receive(text, { from: `udp:127.0.0.1:${m.from}` });
          for (const s of step.sent) if (s.target.port === uasPort) toUas.push(s);
          if (c.uas === 'uas-486.xml' && text.startsWith('SIP/2.0 486')) expect(step.routes.map((r) => r.fn)).toContain('ksr_failure_manage');
        }
        const sent = h.sent.filter((s) => !s.retransmission);
        const harness = {
          uac: sent.filter((s) => s.target.port === uacPort).map((s) => mask(s.text)),
          uas: sent.filter((s) => s.target.port === uasPort).map((s) => mask(s.text)),
        };
        const starts = (l: string[]): string[] => l.map((m) => m.split(' ').slice(0, m.startsWith('SIP/') ? 2 : 1).join(' '));
        expect(starts(real.uac)).toEqual(c.uacGets);
        expect(starts(real.uas)).toEqual(c.uasGets);
        expect(harness).toEqual(real);
      } finally {
        await h.close();
      }
    }, 60_000);
  }
});
