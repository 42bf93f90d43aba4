import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import mod, { type RtpEngineState } from '../../kemi/rtpengine.js';
import type { KemiArg } from '../../kemi/types.js';
import { bdecode, bencode, type BDict } from '../../src/media/bencode.js';
import { getPv } from '../../src/pv/registry.js';
import { context, loadModule, out, RCV, testEnv } from './helpers.js';

/** A fake rtpengine: answers offers/answers with an SDP naming itself, records each request. */
interface Fake {
  port: number;
  got: Map<string, unknown>[];
  reply: (d: Map<string, unknown>) => BDict | null;
  sock: Socket;
}

async function fake(name: string): Promise<Fake> {
  const sock = createSocket('udp4');
  const f: Fake = {
    port: 0,
    got: [],
    sock,
    reply: (d) => {
      const cmd = d.get('command');
      if (cmd === 'ping') return { result: 'pong' };
      if (cmd === 'offer' || cmd === 'answer') return { result: 'ok', sdp: `${String(d.get('sdp'))}a=via:${name}\r\n` };
      if (cmd === 'query') return { result: 'ok', totals: { RTP: { bytes: 320, packets: 2, errors: 0 }, RTCP: { bytes: 0, packets: 0, errors: 0 } } };
      return { result: 'ok' };
    },
  };
  sock.on('message', (buf, rinfo) => {
    const sp = buf.indexOf(0x20);
    const d = bdecode(buf.subarray(sp + 1)) as Map<string, unknown>;
    if (d.get('command') !== 'ping') f.got.push(d);
    const a = f.reply(d);
    if (a) sock.send(Buffer.concat([buf.subarray(0, sp + 1), bencode(a)]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  f.port = sock.address().port;
  return f;
}

let state: RtpEngineState;
let one: Fake;
let two: Fake;
const logs: string[] = [];

beforeAll(async () => {
  one = await fake('one');
  two = await fake('two');
  state = await loadModule(mod, testEnv({
    params: { rtpengine_sock: `udp:127.0.0.1:${one.port}`, rtpengine_sock2: `2 == udp:127.0.0.1:${two.port}`, rtpengine_tout_ms: 100, rtpengine_retr: 1 },
    log: (level: string, text: string) => void logs.push(`${level}: ${text}`),
  }));
});
afterAll(async () => {
  await mod.close?.(state);
  one.sock.close();
  two.sock.close();
});
beforeEach(() => {
  one.got.length = 0;
  two.got.length = 0;
  logs.length = 0;
});

async function ksr(name: string, ctx: ReturnType<typeof context>['ctx'], ...args: KemiArg[]): Promise<unknown> {
  const e = mod.exports.find((x) => x.name === name);
  if (!e) throw new Error(`rtpengine.${name} is not exported`);
  return await e.fn(ctx, ...args);
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const invite = (body = SDP, ct = 'application/sdp'): string =>
  [
    'INVITE sip:bob@kemi.test SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKabc',
    'From: <sip:alice@example.org>;tag=ft1',
    'To: <sip:bob@kemi.test>',
    'Call-ID: call-1@192.0.2.10',
    'CSeq: 1 INVITE',
    ...(body ? [`Content-Type: ${ct}`] : []),
    `Content-Length: ${body.length}`,
    '',
    body,
  ].join('\r\n');
const reply = (code: number, body = '', method = 'INVITE'): string =>
  [
    `SIP/2.0 ${code} X`,
    'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours',
    'Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKabc',
    'From: <sip:alice@example.org>;tag=ft1',
    'To: <sip:bob@kemi.test>;tag=tt1',
    'Call-ID: call-1@192.0.2.10',
    `CSeq: 1 ${method}`,
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${body.length}`,
    '',
    body,
  ].join('\r\n');
const bye = (): string => invite('').replace('INVITE sip', 'BYE sip').replace('CSeq: 1 INVITE', 'CSeq: 2 BYE').replace('To: <sip:bob@kemi.test>', 'To: <sip:bob@kemi.test>;tag=tt1');

describe('KSR.rtpengine', () => {
  it('exports every function of Kamailio 5.6 rtpengine KEMI table', () => {
    expect(mod.exports.map((e) => e.name).sort()).toEqual([
      'block_dtmf', 'block_dtmf0', 'block_media', 'block_media0', 'play_media', 'rtpengine_answer', 'rtpengine_answer0',
      'rtpengine_delete', 'rtpengine_delete0', 'rtpengine_manage', 'rtpengine_manage0', 'rtpengine_offer', 'rtpengine_offer0',
      'rtpengine_query', 'rtpengine_query0', 'rtpengine_query_v', 'set_rtpengine_set', 'set_rtpengine_set2', 'silence_media',
      'silence_media0', 'start_recording', 'stop_media', 'stop_media0', 'stop_recording', 'unblock_dtmf', 'unblock_dtmf0',
      'unblock_media', 'unblock_media0', 'unsilence_media', 'unsilence_media0',
    ]);
  });

  it('rtpengine_manage on an INVITE with SDP: offer, the body replaced, Content-Length right', async () => {
    const { ctx } = context(invite());
    expect(await ksr('rtpengine_manage', ctx, 'replace-origin trust-address')).toBe(1);
    expect(one.got).toHaveLength(1);
    const d = one.got[0]!;
    expect(d.get('command')).toBe('offer');
    expect(d.get('sdp')).toBe(SDP);
    expect(d.get('call-id')).toBe('call-1@192.0.2.10');
    expect(d.get('from-tag')).toBe('ft1');
    expect(d.get('replace')).toEqual(['origin']);
    expect(d.get('flags')).toEqual(['trust-address']);
    expect(d.get('received-from')).toEqual(['IP4', RCV.srcAddress]);
    const sent = out(ctx);
    const newBody = `${SDP}a=via:one\r\n`;
    expect(sent.endsWith(`\r\n\r\n${newBody}`)).toBe(true);
    expect(sent).toContain(`Content-Length: ${newBody.length}\r\n`);
  });

  it('rtpengine_manage on replies: 200 with SDP answers (tags in order), >= 300 deletes; no SDP: -1', async () => {
    const ok = context(reply(200, SDP)).ctx;
    expect(await ksr('rtpengine_manage0', ok)).toBe(1);
    expect(one.got[0]!.get('command')).toBe('answer');
    expect([one.got[0]!.get('from-tag'), one.got[0]!.get('to-tag')]).toEqual(['ft1', 'tt1']);
    const busy = context(reply(486)).ctx;
    expect(await ksr('rtpengine_manage0', busy)).toBe(1);
    expect(one.got[1]!.get('command')).toBe('delete');
    expect(await ksr('rtpengine_manage0', context(reply(180)).ctx)).toBe(-1);
    expect(await ksr('rtpengine_manage0', context(invite('')).ctx)).toBe(-1);
    expect(one.got).toHaveLength(2);
  });

  it('rtpengine_manage on BYE deletes; in a failure route an INVITE deletes; in branch-failure does nothing', async () => {
    expect(await ksr('rtpengine_manage', context(bye()).ctx, '')).toBe(1);
    expect(one.got[0]!.get('command')).toBe('delete');
    expect(one.got[0]!.has('to-tag')).toBe(false);
    const f = context(invite()).ctx;
    f.route = 'failure';
    expect(await ksr('rtpengine_manage0', f)).toBe(1);
    expect(one.got[1]!.get('command')).toBe('delete');
    const bf = context(invite()).ctx;
    bf.route = 'branch_failure';
    expect(await ksr('rtpengine_manage0', bf)).toBe(1);
    expect(one.got).toHaveLength(2);
  });

  it('rtpengine_answer refuses requests other than ACK/PRACK; offer without SDP fails', async () => {
    expect(await ksr('rtpengine_answer0', context(invite()).ctx)).toBe(-1);
    expect(await ksr('rtpengine_offer0', context(invite('')).ctx)).toBe(-1);
    expect(one.got).toHaveLength(0);
    expect(logs.some((l) => l.includes("can't extract body"))).toBe(true);
  });

  it('set_rtpengine_set picks the set for this message; an unknown set is -1', async () => {
    const { ctx } = context(invite());
    expect(await ksr('set_rtpengine_set', ctx, 2)).toBe(1);
    expect(await ksr('rtpengine_offer', ctx, '')).toBe(1);
    expect(two.got.map((d) => d.get('command'))).toEqual(['offer']);
    expect(one.got).toHaveLength(0);
    expect(await ksr('set_rtpengine_set', ctx, 7)).toBe(-1);
    // another message (another id) is back on the default set
    const other = context(invite()).ctx;
    other.msgId = ctx.msgId + 1;
    expect(await ksr('rtpengine_offer0', other)).toBe(1);
    expect(one.got).toHaveLength(1);
  });

  it('set_rtpengine_set2: the offer goes through both sets, the second gets the first one\'s SDP', async () => {
    const { ctx } = context(invite());
    expect(await ksr('set_rtpengine_set2', ctx, 0, 2)).toBe(1);
    expect(await ksr('rtpengine_offer0', ctx)).toBe(1);
    expect(one.got[0]!.get('sdp')).toBe(SDP);
    expect(two.got[0]!.get('sdp')).toBe(`${SDP}a=via:one\r\n`);
    expect(out(ctx).endsWith(`${SDP}a=via:one\r\na=via:two\r\n`)).toBe(true);
  });

  it('a daemon error is -1 and logged; flags Kamailio rejects are -1 without a request', async () => {
    one.reply = (d) => (d.get('command') === 'ping' ? { result: 'pong' } : { result: 'error', 'error-reason': 'Unknown call-id' });
    try {
      expect(await ksr('rtpengine_delete0', context(bye()).ctx)).toBe(-1);
      expect(logs).toContain('err: proxy replied with error: Unknown call-id');
    } finally {
      const f = await fake('one');
      one.reply = f.reply;
      f.sock.close();
    }
    const before = one.got.length;
    expect(await ksr('rtpengine_offer', context(invite()).ctx, 'via-branch=bogus')).toBe(-1);
    expect(one.got.length).toBe(before);
    await expect(ksr('rtpengine_offer', context(invite()).ctx, 'via-branch=next')).rejects.toThrow(/via-branch=next is not supported/);
  });

  it('media functions and recording send their commands; play_media passes its flags', async () => {
    const { ctx } = context(bye());
    expect(await ksr('start_recording', ctx)).toBe(1);
    expect(await ksr('block_media', ctx, 'directional')).toBe(1);
    expect(await ksr('play_media', ctx, 'file=/tmp/x.wav')).toBe(1);
    expect(await ksr('stop_media0', ctx)).toBe(1);
    expect(one.got.map((d) => d.get('command'))).toEqual(['start recording', 'block media', 'play media', 'stop media']);
    expect(one.got[1]!.get('from-tag')).toBe('ft1');
    expect(one.got[2]!.get('file')).toBe('/tmp/x.wav');
  });

  it('rtpengine_query_v writes the reply as JSON; $rtpstat formats the totals as Kamailio', async () => {
    const { ctx } = context(bye());
    expect(await ksr('rtpengine_query_v', ctx, 'j', '$var(q)')).toBe(1);
    expect(JSON.parse(String(getPv(ctx, '$var(q)')))).toEqual({ result: 'ok', totals: { RTP: { bytes: 320, packets: 2, errors: 0 }, RTCP: { bytes: 0, packets: 0, errors: 0 } } });
    expect(await ksr('rtpengine_query_v', ctx, 'x', '$var(q)')).toBe(-1);
    const { getPvAwaitable } = await import('../../src/pv/registry.js');
    expect(await getPvAwaitable(ctx, '$rtpstat')).toBe('RTP: 320 bytes, 2 packets, 0 errors; RTCP: 0 bytes, 0 packets, 0 errors');
    expect(() => getPv(ctx, '$rtpstat')).toThrow(/KSR.pv.get/);
  });

  it('RPC: rtpengine.show / ping / enable / get_hash_total answer as Kamailio', async () => {
    const rpc = mod.rpc!(state);
    const shown = (await rpc['rtpengine.show']!(['all'])) as Record<string, unknown>[];
    expect(shown.map((n) => [n['url'], n['set'], n['disabled']])).toEqual([[`udp:127.0.0.1:${one.port}`, 0, 0], [`udp:127.0.0.1:${two.port}`, 2, 0]]);
    expect(await rpc['rtpengine.ping']!([`udp:127.0.0.1:${two.port}`])).toEqual({ url: `udp:127.0.0.1:${two.port}`, status: 'success' });
    await expect(Promise.resolve().then(() => rpc['rtpengine.show']!(['udp:10.0.0.1:1']))).rejects.toThrow('Instance not found');
    await expect(Promise.resolve().then(() => rpc['rtpengine.enable']!(['all']))).rejects.toThrow('Not enough parameters');
    expect(await rpc['rtpengine.enable']!([`udp:127.0.0.1:${one.port}`, 0])).toEqual({ url: `udp:127.0.0.1:${one.port}`, status: 'disable' });
    expect(await ksr('rtpengine_offer0', context(invite()).ctx)).toBe(-1);
    expect(await rpc['rtpengine.enable']!([`udp:127.0.0.1:${one.port}`, 1])).toEqual({ url: `udp:127.0.0.1:${one.port}`, status: 'enable' });
    expect(await ksr('rtpengine_offer0', context(invite()).ctx)).toBe(1);
    expect(typeof (await rpc['rtpengine.get_hash_total']!([]))).toBe('number');
  });

  it('SDP in a multipart body fails loudly', async () => {
    const { ctx } = context(invite('--b\r\n\r\nx\r\n--b--\r\n', 'multipart/mixed;boundary=b'));
    await expect(ksr('rtpengine_manage0', ctx)).rejects.toThrow(/multipart/);
  });
});
