/** KSR.siptrace: HEP3 packets received on a local UDP socket, raw duplicates, trace_on, refused modes. */
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import siptrace, { type SiptraceState } from '../../kemi/siptrace.js';
import { MsgContext } from '../../src/context/msg-context.js';
import { SipMessage } from '../../src/sip/index.js';
import { decodeHep3, encodeHep3, HEP } from '../../src/lib/hep.js';
import { INVITE, newInstance, RCV, services, testEnv, type Recorded } from './helpers.js';

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

async function collector(): Promise<{ port: number; next(): Promise<Buffer>; sock: Socket }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  open.push(sock);
  const queue: Buffer[] = [];
  const waiters: Array<(b: Buffer) => void> = [];
  sock.on('message', (m) => (waiters.length ? waiters.shift()!(m) : queue.push(m)));
  return {
    port: (sock.address() as { port: number }).port,
    sock,
    next: () => new Promise<Buffer>((resolve, reject) => {
      if (queue.length) return resolve(queue.shift()!);
      const t = setTimeout(() => reject(new Error('no packet')), 2000);
      waiters.push((b) => (clearTimeout(t), resolve(b)));
    }),
  };
}

async function instance(params: Record<string, string | number>): Promise<{ ctx: () => MsgContext; rec: Recorded; state: SiptraceState }> {
  const modules = newInstance();
  const rec: Recorded = { replies: [], forwards: [], logs: [] };
  const proxy = services(rec, modules);
  const state = await siptrace.init!(testEnv({ params: { trace_to_database: 0, ...params }, proxy }));
  modules.set(siptrace.key!, state);
  open.push(state);
  return { rec, state, ctx: () => new MsgContext(SipMessage.parse(Buffer.from(INVITE, 'latin1')), RCV, proxy) };
}

const fn = (name: string) => siptrace.exports.find((e) => e.name === name)!.fn;

describe('KSR.siptrace', () => {
  it('sends the received message as HEP3 with Kamailio\'s chunks', async () => {
    const c = await collector();
    const { ctx } = await instance({ trace_on: 1, hep_mode_on: 1, hep_version: 3, hep_capture_id: 42, auth_key: 'k', duplicate_uri: `sip:127.0.0.1:${c.port}` });
    const before = Math.floor(Date.now() / 1000);
    expect(fn('sip_trace_dst_cid')(ctx(), `sip:127.0.0.1:${c.port};transport=udp`, 'corr')).toBeInstanceOf(Promise);
    const chunks = decodeHep3(await c.next());
    expect(chunks.map((x) => x.type)).toEqual([1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 17, 14, 15]);
    const get = (t: number): Buffer => chunks.find((x) => x.type === t)!.data;
    expect(get(HEP.FAMILY)[0]).toBe(2);
    expect(get(HEP.IP_PROTO)[0]).toBe(17);
    expect([...get(HEP.SRC_IP4)]).toEqual([192, 0, 2, 10]);
    expect([...get(HEP.DST_IP4)]).toEqual([127, 0, 0, 1]);
    expect(get(HEP.SRC_PORT).readUInt16BE(0)).toBe(5070);
    expect(get(HEP.DST_PORT).readUInt16BE(0)).toBe(5060);
    expect(get(HEP.TIME_SEC).readUInt32BE(0)).toBeGreaterThanOrEqual(before);
    expect(get(HEP.PROTO_TYPE)[0]).toBe(1);
    expect(get(HEP.CAPTURE_ID).readUInt32BE(0)).toBe(42);
    expect(get(HEP.CORRELATION_ID).toString()).toBe('corr');
    expect(get(HEP.AUTH_KEY).toString()).toBe('k');
    expect(get(HEP.PAYLOAD).toString('latin1')).toBe(INVITE);
    // sip_trace() goes to duplicate_uri, without correlation id.
    expect(fn('sip_trace')(ctx())).toBe(1);
    expect(decodeHep3(await c.next()).map((x) => x.type)).toEqual([1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 14, 15]);
    // hlog: a log packet (type 100), the Call-ID as correlation id, destination port first.
    expect(fn('hlog')(ctx(), 'note')).toBe(1);
    const log = decodeHep3(await c.next());
    expect(log.map((x) => x.type)).toEqual([1, 2, 3, 4, 8, 7, 9, 10, 11, 12, 17, 14, 15]);
    expect(log.find((x) => x.type === 11)!.data[0]).toBe(100);
    expect(log.find((x) => x.type === 17)!.data.toString()).toBe('call-1@192.0.2.10');
  });

  it('without HEP sends the raw message; trace_on 0 sends nothing and returns -1', async () => {
    const c = await collector();
    const on = await instance({ trace_on: 1, duplicate_uri: `sip:127.0.0.1:${c.port}`, trace_log: 1 });
    expect(fn('sip_trace')(on.ctx())).toBe(1);
    expect((await c.next()).toString('latin1')).toBe(INVITE);
    expect(on.rec.logs[0]?.text).toContain('siptrace: in udp:192.0.2.10:5070 -> udp:127.0.0.1:5060');
    const off = await instance({ duplicate_uri: `sip:127.0.0.1:${c.port}` });
    expect(fn('sip_trace')(off.ctx())).toBe(-1);
  });

  it('refuses what it cannot do: transaction/dialog modes, a database, HEP v1/v2, TCP collectors', async () => {
    const { ctx } = await instance({ trace_on: 1 });
    expect(() => fn('sip_trace_mode')(ctx(), 't')).toThrow('tracing a transaction is not implemented');
    expect(() => fn('sip_trace_dst_cid_type')(ctx(), 'sip:127.0.0.1:9', 'c', 'd')).toThrow('tracing a dialog is not implemented');
    await expect(instance({ trace_to_database: 1 })).rejects.toThrow('needs a database');
    await expect(instance({ hep_mode_on: 1, hep_version: 2 })).rejects.toThrow('hep_version 2');
    await expect(instance({ duplicate_uri: 'sip:127.0.0.1:9;transport=tcp' })).rejects.toThrow('UDP only');
  });

  it('encodes IPv6 endpoints and rejects mixed families', () => {
    const p = encodeHep3({ ipProto: 6, src: { address: '::1', port: 1 }, dst: { address: '2001:db8::2', port: 2 }, timeUs: 1_500_000, protoType: 1, captureId: 1, payload: Buffer.from('x') });
    const ch = decodeHep3(p);
    expect(ch.map((x) => x.type)).toEqual([1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 15]);
    expect(ch[0]!.data[0]).toBe(10);
    expect(ch[3]!.data.length).toBe(16);
    expect(ch.find((x) => x.type === 10)!.data.readUInt32BE(0)).toBe(500_000);
    expect(() => encodeHep3({ ipProto: 17, src: { address: '::1', port: 1 }, dst: { address: '127.0.0.1', port: 2 }, timeUs: 0, protoType: 1, captureId: 1, payload: Buffer.alloc(0) })).toThrow('different address families');
  });
});
