/**
 * KSR.rtpengine (Kamailio 5.6 src/modules/rtpengine/rtpengine.c): media relaying through
 * rtpengine daemons over the ng control protocol (src/media/). The offer/answer functions send the
 * message's SDP and put the daemon's SDP in its place (Content-Length follows); rtpengine_manage
 * picks offer, answer or delete from the method, the reply code, the route and whether the
 * INVITE had SDP, as Kamailio does. Every call that talks to a daemon returns a Promise: the
 * script's coroutine waits, the event loop does not. All 30 exports of Kamailio's KEMI table.
 *
 * modparams: rtpengine_sock (`[setid ==] udp:host:port[=weight] ...`; every parameter whose name
 * starts with rtpengine_sock adds one set, and a value may hold several sets on separate lines,
 * as several modparam lines do in Kamailio), setid_default, rtpengine_disable_tout,
 * rtpengine_tout_ms, rtpengine_retr, queried_nodes_limit, aggressive_redetection,
 * rtpengine_allow_op, hash_table_tout, setid_avp, extra_id_pv, rtp_inst_pvar, read_sdp_pv,
 * write_sdp_pv. Refused at start-up, naming themselves: db_url and its columns, hash_algo other
 * than 0, mos_* PVs, media_duration, force_send_interface, control_cmd_tos, wsapi; unix: and
 * ws:// sockets are skipped with a warning (as Kamailio skips a URL it cannot use).
 * At start-up every instance gets a ping (Kamailio's first worker does the same); one that does
 * not answer starts disabled for rtpengine_disable_tout seconds. The Call-ID -> instance table
 * and the disabled marks are per process, as in each Kamailio process.
 *
 * RPC: rtpengine.show, rtpengine.ping, rtpengine.enable (url|all, 0|1), rtpengine.get_hash_total,
 * with Kamailio's answers; rtpengine.reload (database) is not provided.
 *
 * `$rtpstat` / `$rtpestat` query the daemon: read them through KSR.pv.get (the coroutine waits);
 * inside an xlog format string, which is expanded synchronously, they fail naming themselves.
 *
 * Not provided (fail naming themselves): via-branch=next / auto-next (kemi-proxy's branch ids are
 * not known before the branch is sent); SDP inside a multipart/mixed body.
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { ModuleKey } from '../src/context/module-state.js';
import type { BDecoded } from '../src/media/bencode.js';
import { NG_DEFAULTS, NgClient, type NgClientConfig, type NgSet } from '../src/media/ng-client.js';
import { buildNgRequest, NgFlagError, type NgMsgInfo, type NgOp } from '../src/media/ng-request.js';
import { expandFormat, getPv, setPv, type PvRegistry } from '../src/pv/registry.js';
import { peekTmState } from '../src/tm/proxy-transaction.js';
import { defineModule, type KemiArg, type KemiExport, type ModuleEnv, type RpcTable } from './types.js';

type Awaitable<T> = T | Promise<T>;

interface Settings {
  setidAvp: string;
  extraIdPv: string;
  rtpInstPvar: string;
  readSdpPv: string;
  writeSdpPv: string;
}

/** The module's state for one proxy instance. */
export class RtpEngineState {
  constructor(
    readonly client: NgClient,
    readonly settings: Settings,
    readonly log: ModuleEnv['log'],
  ) {}
}

export const RTPENGINE = new ModuleKey<RtpEngineState>('rtpengine');

/** The one way to this proxy's rtpengine state. */
function st(ctx: MsgContext): RtpEngineState {
  return RTPENGINE.of(ctx);
}

/** An RPC error with a code, as Kamailio's rpc->fault gives (the RPC server answers code and message). */
class RpcFault extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

// ---- per-message set selection (set_rtpengine_set) ---------------------------------------------

const SET_KEY = 'rtpengine:set';
/** Marks an INVITE whose SDP rtpengine_manage handled (Kamailio's FL_SDP_BODY on the request). */
const SDP_KEY = 'rtpengine:sdp';

interface Selected {
  msgId: number;
  set1: NgSet;
  set2: NgSet | null;
}

/** set_rtpengine_set_from_avp + the msg-id check of rtpp_function_call: the set to use now. */
function activeSet(ctx: MsgContext, direction: 1 | 2): NgSet | null | 'error' {
  const s = st(ctx);
  if (s.settings.setidAvp) {
    let v: unknown = null;
    try {
      v = getPv(ctx, s.settings.setidAvp);
    } catch {
      v = null;
    }
    if (v !== null) {
      if (typeof v !== 'number') {
        s.log('err', 'setid_avp must hold an integer value');
        return 'error';
      }
      const set = s.client.sets.get(v);
      if (!set) {
        s.log('err', `could not locate engine set ${v}`);
        return 'error';
      }
      return set;
    }
  }
  const sel = ctx.moduleData.get(SET_KEY) as Selected | undefined;
  if (sel && sel.msgId === ctx.msgId) return direction === 1 || !sel.set2 ? sel.set1 : sel.set2;
  return s.client.sets.get(s.client.cfg.setidDefault) ?? null;
}

function twoSets(ctx: MsgContext): boolean {
  const sel = ctx.moduleData.get(SET_KEY) as Selected | undefined;
  return !!sel && sel.msgId === ctx.msgId && !!sel.set2 && sel.set2 !== sel.set1;
}

/** The SDP an offer/answer passes from the first set to the second (body_intermediate). */
interface Pass {
  body: string | null;
}

type Op = (ctx: MsgContext, set: NgSet, more: boolean, pass: Pass) => Promise<number>;

/** rtpengine_rtpp_set_wrap: runs `fn` on the selected set, and on the second one when two are. */
async function withSets(ctx: MsgContext, fn: Op, direction: 1 | 2): Promise<number> {
  const pass: Pass = { body: null };
  const first = activeSet(ctx, direction);
  if (first === 'error') return -1;
  const more = twoSets(ctx);
  if (!first) {
    st(ctx).log('err', 'script error - no valid set selected');
    return -1;
  }
  const r = await fn(ctx, first, more, pass);
  if (r < 0 || !more) return r;
  const second = activeSet(ctx, direction === 1 ? 2 : 1);
  if (second === 'error' || !second) return -1;
  return fn(ctx, second, false, pass);
}

// ---- the request ------------------------------------------------------------------------------

/** The SDP of the message (extract_body): null when there is none. */
function messageSdp(ctx: MsgContext): { sdp: string; fragment: boolean } | null {
  const body = ctx.msg.receivedBody;
  if (body.length === 0) return null;
  const ct = (ctx.msg.contentType ?? '').trim().toLowerCase();
  if (ct.startsWith('multipart/mixed')) throw new Error('KSR.rtpengine: SDP inside a multipart body is not supported by kemi-proxy');
  if (ct.startsWith('application/trickle-ice-sdpfrag')) return { sdp: body.toString('latin1'), fragment: true };
  return { sdp: body.toString('latin1'), fragment: false };
}

/** parse_sdp()==0: the message carries an SDP body (Content-Type application/sdp; none: no SDP). */
function hasSdp(ctx: MsgContext): boolean {
  if (ctx.msg.receivedBody.length === 0) return false;
  const ct = (ctx.msg.contentType ?? '').trim().toLowerCase();
  if (ct.startsWith('multipart/mixed')) throw new Error('KSR.rtpengine: SDP inside a multipart body is not supported by kemi-proxy');
  return ct.startsWith('application/sdp');
}

function msgInfo(ctx: MsgContext, op: NgOp, pass: Pass): NgMsgInfo | null {
  const s = st(ctx);
  const msg = ctx.msg;
  let callId: string;
  let fromTag: string | undefined;
  let toTag: string;
  try {
    callId = msg.callId;
  } catch {
    callId = '';
  }
  if (!callId) {
    s.log('err', "can't get Call-Id field");
    return null;
  }
  try {
    toTag = msg.to.tag ?? '';
  } catch {
    s.log('err', "can't get To tag");
    return null;
  }
  try {
    fromTag = msg.from.tag;
  } catch {
    fromTag = undefined;
  }
  if (!fromTag) {
    s.log('err', "can't get From tag");
    return null;
  }
  let sdp: string | null = null;
  let fragment = false;
  if (op === 'offer' || op === 'answer') {
    if (pass.body !== null) sdp = pass.body;
    else if (s.settings.readSdpPv) {
      const v = getPv(ctx, s.settings.readSdpPv);
      sdp = v === null ? null : String(v);
    } else {
      const b = messageSdp(ctx);
      if (b) {
        sdp = b.sdp;
        fragment = b.fragment;
      }
    }
  }
  return {
    isRequest: msg.isRequest,
    callId,
    fromTag,
    toTag,
    srcIp: ctx.rcv.srcAddress,
    family: ctx.rcv.srcAddress.includes(':') ? 6 : 4,
    sdp,
    sdpFragment: fragment,
    viaBranch: (n) => {
      try {
        return msg.vias()[n - 1]?.branch;
      } catch {
        return undefined;
      }
    },
    extraId: () => (s.settings.extraIdPv ? expandFormat(ctx, s.settings.extraIdPv) : undefined),
    nextBranch: () => {
      throw new Error('KSR.rtpengine: via-branch=next is not supported by kemi-proxy');
    },
  };
}

/** rtpp_function_call(_ok): the reply dictionary when the daemon said "ok", else null (logged). */
async function ngCall(ctx: MsgContext, set: NgSet, op: NgOp, flags: string | null, pass: Pass): Promise<Map<string, BDecoded> | null> {
  const s = st(ctx);
  const info = msgInfo(ctx, op, pass);
  if (!info) return null;
  let req;
  try {
    req = buildNgRequest(op, flags, info);
  } catch (e) {
    if (!(e instanceof NgFlagError)) throw e;
    s.log('err', e.message);
    return null;
  }
  const res = await s.client.call(set, req);
  if (!res.ok) return null;
  if (s.settings.rtpInstPvar) setPv(ctx, s.settings.rtpInstPvar, res.node.url);
  if (res.reply.get('result') !== 'ok') {
    s.log('err', 'proxy didn\'t return "ok" result');
    return null;
  }
  return res.reply;
}

const flagsOf = (v: KemiArg | undefined): string | null => (v === null || v === undefined || v === '' ? null : String(v));

function simple(op: NgOp, flags: string | null): Op {
  return async (ctx, set, _more, pass) => ((await ngCall(ctx, set, op, flags, pass)) ? 1 : -1);
}

/** rtpengine_offer_answer: the daemon's SDP replaces the body (or goes to write_sdp_pv). */
function offerAnswer(op: 'offer' | 'answer', flags: string | null): Op {
  return async (ctx, set, more, pass) => {
    const s = st(ctx);
    const reply = await ngCall(ctx, set, op, flags, pass);
    if (!reply) return -1;
    const sdp = reply.get('sdp');
    if (typeof sdp !== 'string') {
      s.log('err', 'failed to extract sdp body from proxy reply');
      return -1;
    }
    if (more) pass.body = sdp;
    else if (s.settings.writeSdpPv) setPv(ctx, s.settings.writeSdpPv, sdp);
    else ctx.msg.setBody(sdp);
    return 1;
  };
}

/** Marks the INVITE (and its transaction, when there is one already) as carrying the offer. */
function markSdpInvite(ctx: MsgContext): void {
  ctx.moduleData.set(SDP_KEY, true);
  peekTmState(ctx)?.t?.moduleData.set(SDP_KEY, true);
}

/** rtpengine_manage: offer, answer or delete as the message asks. */
function manage(flags: string | null): Op {
  return async (ctx, set, more, pass) => {
    if (ctx.route === 'branch_failure') return 1;
    const msg = ctx.msg;
    let method: string;
    try {
      method = msg.cseq.method.toUpperCase();
    } catch {
      st(ctx).log('err', 'no CSEQ header');
      return -1;
    }
    if (!['INVITE', 'ACK', 'CANCEL', 'BYE', 'UPDATE', 'PRACK'].includes(method)) return -1;
    if (method === 'CANCEL' || method === 'BYE') return simple('delete', flags)(ctx, set, more, pass);
    const sdp = hasSdp(ctx);
    if (msg.isRequest) {
      if ((method === 'ACK' || method === 'PRACK') && sdp) return offerAnswer('answer', flags)(ctx, set, more, pass);
      if (method === 'UPDATE' && sdp) return offerAnswer('offer', flags)(ctx, set, more, pass);
      if (method === 'INVITE' && sdp) {
        markSdpInvite(ctx);
        if (ctx.route === 'failure') return simple('delete', flags)(ctx, set, more, pass);
        return offerAnswer('offer', flags)(ctx, set, more, pass);
      }
    } else {
      if (msg.status >= 300) return simple('delete', flags)(ctx, set, more, pass);
      if (sdp) {
        if (method === 'UPDATE') return offerAnswer('answer', flags)(ctx, set, more, pass);
        const t = peekTmState(ctx)?.t;
        if (!t) return offerAnswer('answer', flags)(ctx, set, more, pass);
        if (t.moduleData.get(SDP_KEY)) return offerAnswer('answer', flags)(ctx, set, more, pass);
        return offerAnswer('offer', flags)(ctx, set, more, pass);
      }
    }
    return -1;
  };
}

/** rtpengine_query_v: the query reply as JSON in a PV (format j, or jp for indented). */
function queryV(fmt: string, dpv: string): Op {
  return async (ctx, set, _more, pass) => {
    const s = st(ctx);
    const reply = await ngCall(ctx, set, 'query', null, pass);
    if (!reply) return -1;
    if (!fmt) {
      s.log('err', 'invalid format parameter');
      return -1;
    }
    if (fmt[0] !== 'j' && fmt[0] !== 'J') {
      s.log('err', `invalid format parameter value: ${fmt}`);
      return -1;
    }
    const pretty = fmt.length > 1 && (fmt[1] === 'p' || fmt[1] === 'P');
    try {
      setPv(ctx, dpv, printJson(reply, pretty, 0));
    } catch (e) {
      s.log('warn', `target pv is not writable: ${e instanceof Error ? e.message : String(e)}`);
    }
    return 1;
  };
}

/** cJSON's printing (srjson_Print / srjson_PrintUnformatted). */
function printJson(v: BDecoded, pretty: boolean, depth: number): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => printJson(x, pretty, depth + 1)).join(pretty ? ', ' : ',')}]`;
  const entries = [...v.entries()];
  if (!pretty) return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${printJson(x, false, depth + 1)}`).join(',')}}`;
  if (entries.length === 0) return '{\n' + '\t'.repeat(depth) + '}';
  const ind = '\t'.repeat(depth + 1);
  return `{\n${entries.map(([k, x]) => `${ind}${JSON.stringify(k)}:\t${printJson(x, true, depth + 1)}`).join(',\n')}\n${'\t'.repeat(depth)}}`;
}

// ---- $rtpstat ---------------------------------------------------------------------------------

async function rtpstat(ctx: MsgContext): Promise<string | null> {
  let out: string | null = null;
  const r = await withSets(
    ctx,
    async (c, set, _more, pass) => {
      const reply = await ngCall(c, set, 'query', null, pass);
      if (!reply) return -1;
      const tot = reply.get('totals');
      const rtp = tot instanceof Map ? tot.get('RTP') : undefined;
      const rtcp = tot instanceof Map ? tot.get('RTCP') : undefined;
      if (!(rtp instanceof Map) || !(rtcp instanceof Map)) return -1;
      const n = (d: Map<string, BDecoded>, k: string): number => {
        const x = d.get(k);
        return typeof x === 'number' ? x : -1;
      };
      out =
        `RTP: ${n(rtp, 'bytes')} bytes, ${n(rtp, 'packets')} packets, ${n(rtp, 'errors')} errors; ` +
        `RTCP: ${n(rtcp, 'bytes')} bytes, ${n(rtcp, 'packets')} packets, ${n(rtcp, 'errors')} errors`;
      return 1;
    },
    1,
  );
  return r < 0 ? null : out;
}

function registerRtpstat(pvs: PvRegistry): void {
  for (const name of ['rtpstat', 'rtpestat']) {
    pvs.register(name, {
      get: () => {
        throw new Error(`$${name} asks the rtpengine daemon: read it through KSR.pv.get (not in an xlog format)`);
      },
      getAsync: (ctx) => rtpstat(ctx),
    });
  }
}

// ---- exports ----------------------------------------------------------------------------------

function setSelect(ctx: MsgContext, r1: number, r2: number | null): number {
  const s = st(ctx);
  const set1 = s.client.sets.get(r1);
  if (!set1) {
    s.log('err', `rtpp_proxy set ${r1} not configured`);
    return -1;
  }
  let set2: NgSet | null = null;
  if (r2 !== null) {
    set2 = s.client.sets.get(r2) ?? null;
    if (!set2) {
      s.log('err', `rtpp_proxy set ${r2} not configured`);
      return -1;
    }
  }
  ctx.moduleData.set(SET_KEY, { msgId: ctx.msgId, set1, set2 } satisfies Selected);
  return 1;
}

const run = (ctx: MsgContext, fn: Op, direction: 1 | 2 = 1): Awaitable<number> => withSets(ctx, fn, direction);

/** rtpengine_answer on a request: only ACK and PRACK carry answers. */
function answer(ctx: MsgContext, flags: string | null): Awaitable<number> {
  if (ctx.msg.isRequest && ctx.msg.method !== 'ACK' && ctx.msg.method !== 'PRACK') return -1;
  return run(ctx, offerAnswer('answer', flags), 2);
}

const withFlags = (name: string, op: NgOp): KemiExport[] => [
  { name: `${name}0`, params: [], ret: 'int', fn: (ctx) => run(ctx, simple(op, null)) },
  { name, params: ['str'], ret: 'int', fn: (ctx, f) => run(ctx, simple(op, flagsOf(f))) },
];

const exportsList: KemiExport[] = [
  { name: 'rtpengine_manage0', params: [], ret: 'int', fn: (ctx) => run(ctx, manage(null)) },
  { name: 'rtpengine_manage', params: ['str'], ret: 'int', fn: (ctx, f) => run(ctx, manage(flagsOf(f))) },
  { name: 'rtpengine_offer0', params: [], ret: 'int', fn: (ctx) => run(ctx, offerAnswer('offer', null)) },
  { name: 'rtpengine_offer', params: ['str'], ret: 'int', fn: (ctx, f) => run(ctx, offerAnswer('offer', flagsOf(f))) },
  { name: 'rtpengine_answer0', params: [], ret: 'int', fn: (ctx) => answer(ctx, null) },
  { name: 'rtpengine_answer', params: ['str'], ret: 'int', fn: (ctx, f) => answer(ctx, flagsOf(f)) },
  ...withFlags('rtpengine_delete', 'delete'),
  ...withFlags('rtpengine_query', 'query'),
  { name: 'start_recording', params: [], ret: 'int', fn: (ctx) => run(ctx, simple('start recording', null)) },
  { name: 'stop_recording', params: [], ret: 'int', fn: (ctx) => run(ctx, simple('stop recording', null)) },
  ...withFlags('block_media', 'block media'),
  ...withFlags('unblock_media', 'unblock media'),
  ...withFlags('silence_media', 'silence media'),
  ...withFlags('unsilence_media', 'unsilence media'),
  ...withFlags('block_dtmf', 'block DTMF'),
  ...withFlags('unblock_dtmf', 'unblock DTMF'),
  { name: 'play_media', params: ['str'], ret: 'int', fn: (ctx, f) => run(ctx, simple('play media', flagsOf(f))) },
  ...withFlags('stop_media', 'stop media'),
  { name: 'set_rtpengine_set', params: ['int'], ret: 'int', fn: (ctx, a) => setSelect(ctx, Number(a), null) },
  { name: 'set_rtpengine_set2', params: ['int', 'int'], ret: 'int', fn: (ctx, a, b) => setSelect(ctx, Number(a), Number(b)) },
  { name: 'rtpengine_query_v', params: ['str', 'str'], ret: 'int', fn: (ctx, fmt, dpv) => run(ctx, queryV(String(fmt ?? ''), String(dpv ?? ''))) },
];

// ---- init -------------------------------------------------------------------------------------

const UNSUPPORTED = /^(db_url|table_name|setid_col|url_col|weight_col|disabled_col|force_send_interface|control_cmd_tos|media_duration|wsapi|mos_.*)$/;

function intParam(params: ModuleEnv['params'], name: string, dflt: number): number {
  const v = params[name];
  if (v === undefined) return dflt;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isInteger(n)) throw new Error(`rtpengine: modparam ${name} must be an integer, not '${v}'`);
  return n;
}

async function init(env: ModuleEnv): Promise<RtpEngineState> {
  const p = env.params;
  for (const k of Object.keys(p)) {
    if (UNSUPPORTED.test(k)) throw new Error(`rtpengine: modparam ${k} is not supported by kemi-proxy`);
  }
  const hashAlgo = intParam(p, 'hash_algo', 0);
  if (hashAlgo !== 0) throw new Error(`rtpengine: modparam hash_algo ${hashAlgo} is not supported by kemi-proxy (0 only)`);
  const cfg: NgClientConfig = {
    disableTimeoutS: intParam(p, 'rtpengine_disable_tout', NG_DEFAULTS.disableTimeoutS),
    toutMs: intParam(p, 'rtpengine_tout_ms', NG_DEFAULTS.toutMs),
    retr: intParam(p, 'rtpengine_retr', NG_DEFAULTS.retr),
    queriedNodesLimit: intParam(p, 'queried_nodes_limit', NG_DEFAULTS.queriedNodesLimit),
    aggressiveRedetection: intParam(p, 'aggressive_redetection', 1) !== 0,
    allowOp: intParam(p, 'rtpengine_allow_op', NG_DEFAULTS.allowOp),
    hashTableToutS: intParam(p, 'hash_table_tout', NG_DEFAULTS.hashTableToutS),
    setidDefault: intParam(p, 'setid_default', NG_DEFAULTS.setidDefault),
  };
  const log = env.log;
  const client = new NgClient(cfg, log);
  for (const [k, v] of Object.entries(p)) {
    if (!k.startsWith('rtpengine_sock')) continue;
    const values: unknown[] = Array.isArray(v) ? (v as unknown[]) : [v];
    for (const one of values) for (const line of String(one).split(/\r?\n/)) client.addSocks(line);
  }
  const str = (k: string): string => (p[k] === undefined ? '' : String(p[k]));
  const state = new RtpEngineState(client, {
    setidAvp: str('setid_avp'),
    extraIdPv: str('extra_id_pv'),
    rtpInstPvar: str('rtp_inst_pvar'),
    readSdpPv: str('read_sdp_pv'),
    writeSdpPv: str('write_sdp_pv'),
  }, log);
  if (!client.sets.has(cfg.setidDefault)) log('info', `Default rtpp set ${cfg.setidDefault} NOT found`);
  registerRtpstat(env.pvs);
  await client.probeAll();
  return state;
}

function close(state: RtpEngineState): void {
  state.client.close();
}

/** Kamailio's rtpengine RPC commands (rtpengine.reload needs db_url, which is not provided). */
function rpcNodes(s: RtpEngineState, params: readonly unknown[]): ReturnType<NgClient['matching']> {
  const url = params[0];
  if (typeof url !== 'string') throw new RpcFault(500, 'Not enough parameters');
  const found = s.client.matching(url);
  if (found.length === 0) throw new RpcFault(404, 'Instance not found');
  return found;
}

const rpc = (s: RtpEngineState): RpcTable => ({
  'rtpengine.show': (params) => rpcNodes(s, params).map(({ node, set }) => s.client.describe(node, set)),
  'rtpengine.ping': async (params) => {
    const found = rpcNodes(s, params);
    const ok = await Promise.all(found.map(({ node }) => s.client.ping(node)));
    return { url: String(params[0]), status: ok.every(Boolean) ? 'success' : 'fail' };
  },
  'rtpengine.enable': async (params) => {
    if (params.length < 2) throw new RpcFault(500, 'Not enough parameters');
    const found = rpcNodes(s, params);
    const on = Number(params[1]) !== 0;
    const ok = await Promise.all(found.map(({ node }) => s.client.enable(node, on)));
    return { url: String(params[0]), status: !on ? 'disable' : ok.every(Boolean) ? 'enable' : 'fail' };
  },
  'rtpengine.get_hash_total': () => s.client.bindingCount(),
});

export default defineModule<RtpEngineState>('rtpengine', exportsList, { key: RTPENGINE, init, close, rpc });
