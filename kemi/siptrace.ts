/**
 * KSR.siptrace (src/modules/siptrace): copies of the current SIP message to a collector.
 *
 * modparams as Kamailio's: `duplicate_uri` (sip:host:port, UDP), `hep_mode_on` (1: HEP
 * encapsulation, else the raw message), `hep_version` (3; 1 and 2 are refused at start),
 * `hep_capture_id` (1), `auth_key`, `trace_on` (0 by default: then sip_trace returns -1 and sends
 * nothing, as in Kamailio), `trace_local_ip` ("proto:ip:port" shown as our address),
 * `trace_to_database` (must be 0: kemi-proxy has no database, and Kamailio fails to start without
 * one). kemi-proxy extension: `trace_log` 1 also writes every traced message to the log (info).
 *
 * sip_trace / sip_trace_dst(uri) / sip_trace_dst_cid(uri, cid) / sip_trace_dst_cid_type(uri, cid,
 * "m") and sip_trace_mode("m") trace the message being processed, as received (in direction:
 * from its source to our socket); the packet carries the capture time, the Call-ID is not added
 * unless given as correlation id. hlog(msg) / hlog_cid(cid, msg) send a HEP3 log packet (type 100)
 * with the Call-ID (or cid) as correlation id. Tracing a whole transaction or dialog ("t", "d")
 * needs tm/dialog callbacks kemi-proxy does not have: those calls fail loudly. Copies go out from
 * a UDP socket of the instance (Kamailio uses its SIP socket), so their source port differs.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { MsgContext } from '../src/context/msg-context.js';
import { ModuleKey } from '../src/context/module-state.js';
import { encodeHep3 } from '../src/lib/hep.js';
import { int, str } from './args.js';
import { defineModule, type KemiExport, type ModuleEnv } from './types.js';

interface Dest {
  address: string;
  port: number;
}

export class SiptraceState {
  private sockets = new Map<4 | 6, Socket>();
  sent = 0;
  errors = 0;

  constructor(
    readonly dest: Dest | null,
    readonly hep: boolean,
    readonly captureId: number,
    readonly authKey: string,
    readonly traceOn: boolean,
    readonly localIp: string,
    readonly logCopies: boolean,
    private readonly log: ModuleEnv['log'],
  ) {}

  send(to: Dest, packet: Buffer): void {
    const fam: 4 | 6 = isIP(to.address) === 6 ? 6 : 4;
    let s = this.sockets.get(fam);
    if (!s) {
      s = createSocket(fam === 6 ? 'udp6' : 'udp4');
      s.on('error', (e) => this.log('err', `siptrace: socket error: ${e.message}`));
      s.unref();
      this.sockets.set(fam, s);
    }
    s.send(packet, to.port, to.address, (err) => {
      if (err) {
        this.errors++;
        this.log('err', `siptrace: cannot send to ${to.address}:${to.port}: ${err.message}`);
      } else this.sent++;
    });
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }
}

export const SIPTRACE = new ModuleKey<SiptraceState>('siptrace');
const st = (ctx: MsgContext): SiptraceState => SIPTRACE.of(ctx);

/** sip:host[:port][;transport=udp] -> address and port (5060 by default); a name is resolved once. */
export async function parseDupUri(uri: string): Promise<Dest> {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?((?:;[^;]*)*)$/i.exec(uri.trim());
  if (!m) throw new Error(`siptrace: bad duplicate uri '${uri}'`);
  const transport = /;transport=([^;]+)/i.exec(m[3] ?? '')?.[1]?.toLowerCase();
  if (transport && transport !== 'udp') throw new Error(`siptrace: duplicate uri over ${transport} is not supported by kemi-proxy (UDP only)`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const address = isIP(host) ? host : (await lookup(host)).address;
  return { address, port: m[2] ? Number(m[2]) : 5060 };
}

async function init(env: ModuleEnv): Promise<SiptraceState> {
  const p = env.params;
  if (int(p['trace_to_database'] ?? 1) !== 0) {
    throw new Error('siptrace: trace_to_database needs a database, which kemi-proxy does not have: set modparam siptrace trace_to_database 0');
  }
  const hep = int(p['hep_mode_on'] ?? 0) !== 0;
  const version = int(p['hep_version'] ?? 1);
  if (hep && version !== 3) throw new Error(`siptrace: hep_version ${version} is not supported by kemi-proxy (use 3)`);
  const uri = p['duplicate_uri'];
  const dest = uri === undefined || uri === '' ? null : await parseDupUri(String(uri));
  return new SiptraceState(dest, hep, int(p['hep_capture_id'] ?? 1), String(p['auth_key'] ?? ''),
    int(p['trace_on'] ?? 0) !== 0, String(p['trace_local_ip'] ?? ''), int(p['trace_log'] ?? 0) !== 0, env.log);
}

/** pipport2su's protocol numbers. */
const IP_PROTO: Readonly<Record<string, number>> = { udp: 17, tcp: 6, tls: 22, ws: 22, wss: 22, sctp: 132 };

/** "proto:ip:port" (trace_local_ip) -> parts; null when malformed. */
function parsePipPort(s: string): { proto: string; address: string; port: number } | null {
  const m = /^([a-z]+):(\[[^\]]+\]|.+):(\d+)$/i.exec(s);
  return m ? { proto: m[1]!.toLowerCase(), address: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) } : null;
}

/** sip_trace(): the message being processed, received from its source on our socket. */
function trace(ctx: MsgContext, uri: string | null, cid: string | null): number | Promise<number> {
  const s = st(ctx);
  if (!s.traceOn) return -1;
  if (uri !== null) return parseDupUri(uri).then((d) => traceTo(ctx, s, d, cid), (e: unknown) => {
    ctx.proxy.log(ctx, 'err', e instanceof Error ? e.message : String(e));
    return -1;
  });
  return traceTo(ctx, s, s.dest, cid);
}

function traceTo(ctx: MsgContext, s: SiptraceState, dest: Dest | null, cid: string | null): number {
  const r = ctx.rcv;
  const body = ctx.msg.buf;
  let to = { proto: r.proto as string, address: r.localAddress, port: r.localPort };
  if (s.localIp) to = parsePipPort(s.localIp) ?? to;
  const from = { address: r.srcAddress, port: r.srcPort };
  if (s.logCopies) {
    ctx.proxy.log(ctx, 'info', `siptrace: in ${r.proto}:${from.address}:${from.port} -> ${to.proto}:${to.address}:${to.port}\n${body.toString('latin1')}`);
  }
  if (!dest) {
    if (!s.logCopies) ctx.proxy.log(ctx, 'err', 'siptrace: no duplicate_uri modparam nor destination given');
    return s.logCopies ? 1 : -1;
  }
  if (!s.hep) {
    s.send(dest, body);
    return 1;
  }
  const now = Date.now() * 1000;
  try {
    s.send(dest, encodeHep3({
      ipProto: IP_PROTO[to.proto] ?? 17,
      src: from,
      dst: { address: to.address, port: to.port },
      timeUs: now,
      protoType: 1,
      captureId: s.captureId,
      correlationId: cid ?? undefined,
      authKey: s.authKey || undefined,
      payload: body,
    }));
  } catch (e) {
    // Kamailio logs and still reports the trace done.
    ctx.proxy.log(ctx, 'err', `siptrace: ${e instanceof Error ? e.message : String(e)}`);
  }
  return 1;
}

/** hlog: a HEP3 log packet from our socket to the collector. */
function hlog(ctx: MsgContext, cid: string | null, message: string): number {
  const s = st(ctx);
  if (!s.dest) {
    ctx.proxy.log(ctx, 'err', 'siptrace: hlog needs duplicate_uri');
    return -1;
  }
  const corr = cid ?? ctx.msg.callId;
  const local = ctx.proxy.sockets().find((k) => k.family === (isIP(s.dest!.address) === 6 ? 6 : 4));
  if (!local) {
    ctx.proxy.log(ctx, 'err', 'siptrace: no listening socket of the collector address family');
    return -1;
  }
  s.send(s.dest, encodeHep3({
    ipProto: 17,
    src: { address: local.address, port: local.port },
    dst: s.dest,
    timeUs: Date.now() * 1000,
    protoType: 100,
    captureId: s.captureId,
    correlationId: corr,
    authKey: s.authKey || undefined,
    payload: Buffer.from(message, 'latin1'),
    dstPortFirst: true,
  }));
  return 1;
}

/** siptrace_parse_flag / sip_trace_mode: only "m" (this message) is available. */
function messageOnly(qname: string, flag: string): void {
  const c = flag.charAt(0).toLowerCase();
  if (c === 't' || c === 'd') throw new Error(`${qname}: tracing a ${c === 't' ? 'transaction' : 'dialog'} is not implemented in kemi-proxy (only "m", the current message)`);
}

const exports: KemiExport[] = [
  { name: 'sip_trace', params: [], ret: 'int', fn: (ctx) => trace(ctx, null, null) },
  { name: 'sip_trace_dst', params: ['str'], ret: 'int', fn: (ctx, u) => trace(ctx, str(u), null) },
  { name: 'sip_trace_dst_cid', params: ['str', 'str'], ret: 'int', fn: (ctx, u, c) => trace(ctx, str(u), str(c) || null) },
  { name: 'sip_trace_dst_cid_type', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, u, c, t) => {
    messageOnly('KSR.siptrace.sip_trace_dst_cid_type', str(t));
    return trace(ctx, str(u), str(c) || null);
  } },
  { name: 'hlog', params: ['str'], ret: 'int', fn: (ctx, m) => hlog(ctx, null, str(m)) },
  { name: 'hlog_cid', params: ['str', 'str'], ret: 'int', fn: (ctx, c, m) => hlog(ctx, str(c), str(m)) },
  { name: 'sip_trace_mode', params: ['str'], ret: 'int', fn: (ctx, m) => {
    messageOnly('KSR.siptrace.sip_trace_mode', str(m));
    return trace(ctx, null, null);
  } },
];

export default defineModule<SiptraceState>('siptrace', exports, { key: SIPTRACE, init, close: (s) => s.close() });
