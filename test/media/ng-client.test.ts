import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { bdecode, bencode, type BValue } from '../../src/media/bencode.js';
import { NG_DEFAULTS, NgClient, parseNodeUrl, type NgClientConfig } from '../../src/media/ng-client.js';
import { buildNgRequest } from '../../src/media/ng-request.js';

/** A fake ng daemon: answers with `answer(dict)` (null: stays silent) and records what it got. */
interface Fake {
  port: number;
  got: Map<string, unknown>[];
  cookies: string[];
  close(): Promise<void>;
}

async function fakeDaemon(answer: (d: Map<string, unknown>) => Record<string, BValue> | null): Promise<Fake> {
  const s: Socket = createSocket('udp4');
  const got: Map<string, unknown>[] = [];
  const cookies: string[] = [];
  s.on('message', (buf, rinfo) => {
    const sp = buf.indexOf(0x20);
    const cookie = buf.toString('latin1', 0, sp);
    const d = bdecode(buf.subarray(sp + 1)) as Map<string, unknown>;
    got.push(d);
    cookies.push(cookie);
    const a = answer(d);
    if (a) s.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(a)]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, got, cookies, close: () => new Promise((r) => s.close(() => r())) };
}

const ok = (d: Map<string, unknown>): Record<string, BValue> =>
  d.get('command') === 'ping' ? { result: 'pong' } : { result: 'ok', sdp: 'v=0\r\n' };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function client(cfg: Partial<NgClientConfig> = {}, now?: () => number): { c: NgClient; logs: string[] } {
  const logs: string[] = [];
  const c = new NgClient({ ...NG_DEFAULTS, toutMs: 50, retr: 2, ...cfg }, (l, t) => logs.push(`${l}: ${t}`), now);
  cleanups.push(() => c.close());
  return { c, logs };
}

const req = (callId: string, op: 'offer' | 'delete' = 'offer') =>
  buildNgRequest(op, null, { isRequest: true, callId, fromTag: 'f', toTag: '', srcIp: '127.0.0.1', family: 4, sdp: 'v=0\r\n', viaBranch: () => undefined });

describe('ng client', () => {
  it('parses node URLs as Kamailio does', () => {
    expect(parseNodeUrl('udp:127.0.0.1:2223')).toEqual({ host: '127.0.0.1', port: 2223, family: 4 });
    expect(parseNodeUrl('udp:localhost')).toEqual({ host: 'localhost', port: 22222, family: 4 });
    expect(parseNodeUrl('udp6:[::1]:2223')).toEqual({ host: '::1', port: 2223, family: 6 });
    expect(parseNodeUrl('udp:h:99999')).toBeNull();
    expect(parseNodeUrl('tcp:h:1')).toBeNull();
  });

  it('reads sets with ids and weights; a bad URL is skipped with a warning', () => {
    const { c, logs } = client();
    c.addSocks('udp:127.0.0.1:2223=2 udp:127.0.0.1:2224=1 unix:/x');
    c.addSocks('1 == udp:127.0.0.1:2225');
    expect(c.sets.get(0)!.nodes.map((n) => [n.url, n.weight])).toEqual([['udp:127.0.0.1:2223', 2], ['udp:127.0.0.1:2224', 1]]);
    expect(c.sets.get(1)!.nodes.map((n) => n.url)).toEqual(['udp:127.0.0.1:2225']);
    expect(logs.some((l) => l.includes("Ignore 'unix:/x'"))).toBe(true);
    expect(() => c.addSocks('x == udp:1.2.3.4:1')).toThrow(/invalid set_id/);
  });

  it('hashes the Call-ID as Kamailio (sum of signed chars & 0xff) and picks by weight', async () => {
    expect(NgClient.callIdHash('abc')).toBe((97 + 98 + 99) & 0xff);
    expect(NgClient.callIdHash('\xff')).toBe((-1 >>> 0) & 0xff);
    const a = await fakeDaemon(ok);
    const b = await fakeDaemon(ok);
    cleanups.push(a.close, b.close);
    const { c } = client();
    c.addSocks(`udp:127.0.0.1:${a.port}=2 udp:127.0.0.1:${b.port}=1`);
    const set = c.sets.get(0)!;
    // hash % 3: 0,1 -> a (weight 2), 2 -> b
    for (const cid of ['a', 'b', 'c', 'd', 'e', 'f']) {
      const r = await c.call(set, req(cid));
      expect(r.ok).toBe(true);
      const want = NgClient.callIdHash(cid) % 3 < 2 ? `udp:127.0.0.1:${a.port}` : `udp:127.0.0.1:${b.port}`;
      expect(r.ok && r.node.url, cid).toBe(want);
    }
    // every request had its own cookie
    expect(new Set([...a.cookies, ...b.cookies]).size).toBe(a.cookies.length + b.cookies.length);
  });

  it('a node that does not answer is retried retr times, disabled, and the next one used; it stays bound to the call', async () => {
    let t = 1000;
    const dead = await fakeDaemon(() => null);
    const live = await fakeDaemon(ok);
    cleanups.push(dead.close, live.close);
    const { c, logs } = client({ disableTimeoutS: 60 }, () => t);
    c.addSocks(`udp:127.0.0.1:${dead.port} udp:127.0.0.1:${live.port}`);
    const set = c.sets.get(0)!;
    // Call-ID whose hash picks the first node
    const cid = 'aa';
    expect(NgClient.callIdHash(cid) % 2).toBe(0);
    const r = await c.call(set, req(cid));
    expect(r.ok && r.node.url).toBe(`udp:127.0.0.1:${live.port}`);
    expect(dead.got.length).toBe(2); // retr = 2, same cookie both times
    expect(new Set(dead.cookies).size).toBe(1);
    expect(set.nodes[0]!.disabled).toBe(true);
    expect(logs.some((l) => /timeout waiting reply for command "offer"/.test(l))).toBe(true);
    // disabled: the next call goes straight to the live node, no ping yet
    const before = dead.got.length;
    const r2 = await c.call(set, req('cc'));
    expect(r2.ok && r2.node.url).toBe(`udp:127.0.0.1:${live.port}`);
    expect(dead.got.length).toBe(before);
    // delete of the first call goes to the node it is bound to
    const r3 = await c.call(set, req(cid, 'delete'));
    expect(r3.ok && r3.node.url).toBe(`udp:127.0.0.1:${live.port}`);
    // after rtpengine_disable_tout the dead node is probed again (ping)
    t += 61;
    await c.call(set, req('ee'));
    expect(dead.got.at(-1)!.get('command')).toBe('ping');
  });

  it('load limit and session limit move on to the next node; another error fails', async () => {
    const full = await fakeDaemon((d): Record<string, BValue> => (d.get('command') === 'ping' ? { result: 'pong' } : { result: 'load limit', message: 'busy' }));
    const live = await fakeDaemon(ok);
    const broken = await fakeDaemon(() => ({ result: 'error', 'error-reason': 'Unknown call-id' }));
    cleanups.push(full.close, live.close, broken.close);
    const { c, logs } = client();
    c.addSocks(`udp:127.0.0.1:${full.port} udp:127.0.0.1:${live.port}`);
    const r = await c.call(c.sets.get(0)!, req('aa'));
    expect(r.ok && r.node.url).toBe(`udp:127.0.0.1:${live.port}`);
    expect(logs.some((l) => l.includes('has reached its load limit (busy)'))).toBe(true);
    c.addSocks(`2 == udp:127.0.0.1:${broken.port}`);
    const e = await c.call(c.sets.get(2)!, req('zz'));
    expect(e).toEqual({ ok: false, error: 'proxy replied with error: Unknown call-id' });
  });

  it('a reply that is not bencode, or has no result, fails the call without throwing', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    let answer = 'd6:resul';
    s.on('message', (b, rinfo) => {
      const cookie = b.toString('latin1', 0, b.indexOf(0x20));
      s.send(Buffer.from(`${cookie} ${answer}`, 'latin1'), rinfo.port, rinfo.address);
    });
    cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
    const { c } = client();
    c.addSocks(`udp:127.0.0.1:${s.address().port}`);
    const r = await c.call(c.sets.get(0)!, req('aa'));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/failed to decode bencoded reply/);
    answer = 'd3:sdp1:xe';
    const r2 = await c.call(c.sets.get(0)!, req('aa'));
    expect(!r2.ok && r2.error).toMatch(/No 'result' dictionary entry/);
    answer = 'li1ee';
    const r3 = await c.call(c.sets.get(0)!, req('aa'));
    expect(!r3.ok && r3.error).toMatch(/failed to decode/);
  });

  it('control: show, ping, enable 0 (for good: calls avoid it, probing leaves it) and enable 1', async () => {
    let t = 500;
    const a = await fakeDaemon(ok);
    const b = await fakeDaemon(ok);
    cleanups.push(a.close, b.close);
    const { c } = client({ disableTimeoutS: 60 }, () => t);
    c.addSocks(`udp:127.0.0.1:${a.port}=2`);
    c.addSocks(`3 == udp:127.0.0.1:${b.port}`);
    const all = c.matching('all');
    expect(all.map(({ node, set }) => c.describe(node, set))).toEqual([
      { url: `udp:127.0.0.1:${a.port}`, set: 0, index: 0, weight: 2, disabled: 0, recheck_ticks: 0 },
      { url: `udp:127.0.0.1:${b.port}`, set: 3, index: 1, weight: 1, disabled: 0, recheck_ticks: 0 },
    ]);
    expect(c.matching('udp:nowhere:1')).toEqual([]);
    const na = all[0]!.node;
    expect(await c.ping(na)).toBe(true);
    expect(await c.enable(na, false)).toBe(true);
    expect(c.describe(na, all[0]!.set)).toMatchObject({ disabled: '1(permanent)', recheck_ticks: 'N/A' });
    // disabled for good: no call goes there, and aggressive redetection does not bring it back
    t += 1000;
    expect(await c.call(all[0]!.set, req('aa'))).toEqual({ ok: false, error: 'no available proxies' });
    expect(a.got.filter((d) => d.get('command') !== 'ping')).toHaveLength(0);
    expect(await c.enable(na, true)).toBe(true);
    expect((await c.call(all[0]!.set, req('aa'))).ok).toBe(true);
    expect(c.bindingCount()).toBe(1);
    // a node that does not answer a ping is disabled for the timeout
    await a.close();
    cleanups.splice(cleanups.indexOf(a.close), 1);
    expect(await c.ping(na)).toBe(false);
    expect(c.describe(na, all[0]!.set)).toMatchObject({ disabled: 1, recheck_ticks: 60 });
  });

  it('every node dead: aggressive redetection pings them once, then "no available proxies"', async () => {
    const dead = await fakeDaemon(() => null);
    cleanups.push(dead.close);
    const { c } = client({ retr: 1, toutMs: 30 });
    c.addSocks(`udp:127.0.0.1:${dead.port}`);
    const started = Date.now();
    const r = await c.call(c.sets.get(0)!, req('aa'));
    expect(r).toEqual({ ok: false, error: 'no available proxies' });
    expect(dead.got.map((d) => d.get('command'))).toEqual(['offer', 'ping']);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('garbage and foreign cookies from the daemon are ignored; close() ends waiting requests', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    s.on('message', (_b, rinfo) => {
      s.send(Buffer.from('garbage'), rinfo.port, rinfo.address);
      s.send(Buffer.from('othercookie d6:result2:oke'), rinfo.port, rinfo.address);
    });
    cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
    const { c } = client({ toutMs: 5000, retr: 1 });
    c.addSocks(`udp:127.0.0.1:${s.address().port}`);
    const p = c.send(c.sets.get(0)!.nodes[0]!, { command: 'ping' });
    await new Promise((r) => setTimeout(r, 100));
    c.close();
    expect(await p).toBeNull();
  });
});
