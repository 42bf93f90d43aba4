/**
 * Builds an rtpengine ng-protocol request dictionary from a SIP message and a Kamailio flags
 * string, as Kamailio 5.6's rtpengine module does (rtpengine.c parse_flags and
 * rtpp_function_call): the same keys, in the same order, with the same special cases
 * (transport protocols, via-branch=1|2|auto|extra|next, force-answer, codec-*, replace-*, ...).
 * Pure: the caller supplies what it reads from the message.
 */
import type { BValue } from './bencode.js';

/** ng commands, by Kamailio's operation names. */
export type NgOp =
  | 'offer'
  | 'answer'
  | 'delete'
  | 'query'
  | 'ping'
  | 'start recording'
  | 'stop recording'
  | 'block DTMF'
  | 'unblock DTMF'
  | 'block media'
  | 'unblock media'
  | 'silence media'
  | 'unsilence media'
  | 'start forwarding'
  | 'stop forwarding'
  | 'play media'
  | 'stop media'
  | 'play DTMF';

/** What the request needs from the message. */
export interface NgMsgInfo {
  isRequest: boolean;
  callId: string;
  fromTag: string;
  /** The To tag, '' when absent. */
  toTag: string;
  srcIp: string;
  family: 4 | 6;
  /** The SDP (offer / answer only); null when the message has none (an error for those ops). */
  sdp: string | null;
  /** Content-Type application/trickle-ice-sdpfrag: rtpengine gets the `fragment` flag. */
  sdpFragment?: boolean;
  /** branch parameter of the n-th Via (1 = top), as get_via_branch. */
  viaBranch(n: 1 | 2): string | undefined;
  /** modparam extra_id_pv expanded (via-branch=extra), undefined without it. */
  extraId?(): string | undefined;
  /** The branch id the next branch of this transaction will get (via-branch=next). */
  nextBranch?(): string | undefined;
}

export interface NgRequest {
  /** The dictionary to send, keys in Kamailio's order. */
  dict: Map<string, BValue>;
  /** The operation finally sent (force-answer turns an offer into an answer). */
  op: NgOp;
  callId: string;
  /** The via-branch value sent, '' when none (the node table key with the Call-ID). */
  viaBranch: string;
}

export class NgFlagError extends Error {}

const TRANSPORTS: Record<number, string> = {
  0: 'RTP/AVP',
  1: 'RTP/SAVP',
  2: 'RTP/AVPF',
  3: 'RTP/SAVPF',
  4: 'UDP/TLS/RTP/SAVP',
  6: 'UDP/TLS/RTP/SAVPF',
};

/** str_key_val_prefix: `foo=bar` or `foo-bar` gives `bar`; `foo=` or `foo-` alone gives nothing. */
function keyValPrefix(key: string, prefix: string, val: string | null): string | null {
  if (key === prefix) return val ? val : null;
  if (!key.startsWith(prefix)) return null;
  const rest = key.slice(prefix.length);
  if (rest.length < 2 || rest[0] !== '-') return null;
  return rest.slice(1);
}

const CODEC_FLAGS: readonly [string, string | null, string][] = [
  ['transcode', 'codec-transcode', 'transcode'],
  ['codec-strip', null, 'strip'],
  ['codec-offer', null, 'offer'],
  ['codec-mask', null, 'mask'],
  ['codec-set', null, 'set'],
  ['codec-except', null, 'except'],
];

/** The lists and values parse_flags fills. */
interface Parsed {
  via: number;
  to: boolean;
  transport: number;
  directional: boolean;
  callId: string;
  fromTag: string;
  toTag: string;
  flags: string[];
  /** null: the operation has no such list (not an offer/answer), so entries are dropped as in Kamailio. */
  direction: string[] | null;
  replace: string[] | null;
  rtcpMux: string[] | null;
  sdes: string[] | null;
  t38: string[] | null;
  codec: Map<string, string[]> | null;
}

/** Splits a flags string into [key, value|null] pairs as parse_flags walks it. */
export function splitFlags(flags: string): [string, string | null][] {
  const out: [string, string | null][] = [];
  let p = 0;
  const n = flags.length;
  for (;;) {
    while (flags[p] === ' ') p++;
    let e = p;
    while (e < n && flags[e] !== ' ' && flags[e] !== '=') e++;
    let key: string;
    let val: string | null = null;
    if (e < n && flags[e] === '=') {
      key = flags.slice(p, e);
      const vs = e + 1;
      let ve = flags.indexOf(' ', vs);
      if (ve < 0) ve = n;
      val = flags.slice(vs, ve);
      e = ve;
    } else {
      key = flags.slice(p, e);
    }
    if (!key) break;
    out.push([key, val]);
    p = e;
  }
  return out;
}

/**
 * parse_flags: every flag into the dictionary or one of the lists. Throws NgFlagError with
 * Kamailio's message for a flag it rejects.
 */
function parseFlags(pf: Parsed, dict: Map<string, BValue>, op: { v: NgOp }, flags: string): void {
  for (const [key, val] of splitFlags(flags)) {
    const fail = (err: string): never => {
      throw new NgFlagError(val !== null ? `error processing flag \`${key}' (value '${val}'): ${err}` : `error processing flag \`${key}': ${err}`);
    };
    let s: string | null;
    if ((s = keyValPrefix(key, 'replace', val)) !== null) {
      pf.replace?.push(s);
      continue;
    }
    if ((s = keyValPrefix(key, 'SDES', val)) !== null) {
      pf.sdes?.push(s);
      continue;
    }
    if ((s = keyValPrefix(key, 'T38', val) ?? keyValPrefix(key, 'T.38', val)) !== null) {
      pf.t38?.push(s);
      continue;
    }
    if ((s = keyValPrefix(key, 'rtcp-mux', val)) !== null) {
      pf.rtcpMux?.push(s);
      continue;
    }
    let codecDone = false;
    for (const [c1, c2, name] of CODEC_FLAGS) {
      s = keyValPrefix(key, c1, val) ?? (c2 ? keyValPrefix(key, c2, val) : null);
      if (s === null) continue;
      if (pf.codec) {
        let list = pf.codec.get(name);
        if (!list) pf.codec.set(name, (list = []));
        list.push(s);
      }
      codecDone = true;
      break;
    }
    if (codecDone) continue;

    let handled = true;
    switch (key) {
      case 'RTP':
        if (val === null) pf.transport = (pf.transport | 0x100) & ~0x001;
        else handled = false;
        break;
      case 'AVP':
        if (val === null) pf.transport = (pf.transport | 0x100) & ~0x002;
        else handled = false;
        break;
      case 'TOS':
        if (val !== null) dict.set('TOS', atoi(val));
        else handled = false;
        break;
      case 'SRTP':
        if (val === null) pf.transport |= 0x101;
        else handled = false;
        break;
      case 'AVPF':
        if (val === null) pf.transport |= 0x102;
        else handled = false;
        break;
      case 'DTLS':
        if (val === null) pf.transport |= 0x104;
        else handled = false;
        break;
      case 'to-tag':
        if (val !== null) pf.toTag = val;
        pf.to = true;
        break;
      case 'RTP/AVP':
        if (val === null) pf.transport = 0x100;
        else handled = false;
        break;
      case 'call-id':
        if (val === null) fail('missing value');
        pf.callId = val!;
        break;
      case 'internal':
      case 'external':
        pf.direction?.push(key);
        break;
      case 'RTP/AVPF':
        if (val === null) pf.transport = 0x102;
        else handled = false;
        break;
      case 'RTP/SAVP':
        if (val === null) pf.transport = 0x101;
        else handled = false;
        break;
      case 'from-tag':
        if (val === null) fail('missing value');
        pf.fromTag = val!;
        pf.directional = true;
        break;
      case 'RTP/SAVPF':
        if (val === null) pf.transport = 0x103;
        else handled = false;
        break;
      case 'direction':
        pf.direction?.push(val ?? '');
        break;
      case 'via-branch': {
        if (val === null) fail('missing value');
        const v = val!;
        if (v[0] === '1' || v[0] === '2') pf.via = Number(v[0]);
        else if (v === 'auto') pf.via = 3;
        else if (v === 'extra') pf.via = -1;
        else if (v === 'next') pf.via = -2;
        else if (v === 'auto-next' || v === 'next-auto') pf.via = -3;
        else if (v === 'auto-extra' || v === 'extra-auto') pf.via = -4;
        else fail('invalid value');
        break;
      }
      case 'repacketize': {
        if (val === null) fail('missing value');
        const m = /^\d*/.exec(val!)![0];
        const n = m ? Number(m) : 0;
        if (!n) fail('invalid value');
        dict.set('repacketize', n);
        break;
      }
      case 'directional':
        pf.directional = true;
        break;
      case 'force-answer':
        if (op.v !== 'offer') fail('cannot force answer in non-offer command');
        op.v = 'answer';
        break;
      case 'delete-delay':
        // Kamailio adds "delete delay" and then, having no `goto next` there, the generic entry
        // too ("delete-delay": "<value>"); without a value only the generic flag.
        if (val !== null) dict.set('delete delay', atoi(val));
        handled = false;
        break;
      case 'UDP/TLS/RTP/SAVP':
        if (val === null) pf.transport = 0x104;
        else handled = false;
        break;
      case 'UDP/TLS/RTP/SAVPF':
        if (val === null) pf.transport = 0x106;
        else handled = false;
        break;
      default:
        handled = false;
    }
    if (handled) continue;
    // generic: a bare word joins "flags", key=value becomes a dictionary entry.
    if (val === null) pf.flags.push(key);
    else dict.set(key, val);
  }
}

/** C atoi: leading blanks, optional sign, digits; 0 when none. */
function atoi(s: string): number {
  const m = /^[ \t\n\r\f\v]*([+-]?\d+)/.exec(s);
  return m ? Number.parseInt(m[1]!, 10) | 0 : 0;
}

/**
 * rtpp_function_call's request: throws NgFlagError (a flag Kamailio rejects, a missing To tag,
 * a missing Via branch) with the message Kamailio logs.
 */
export function buildNgRequest(op0: NgOp, flags: string | null, info: NgMsgInfo): NgRequest {
  const op = { v: op0 };
  const dict = new Map<string, BValue>();
  dict.set('supports', ['load limit']);
  const offerAnswer = op0 === 'offer' || op0 === 'answer';
  const pf: Parsed = {
    via: 0,
    to: op0 !== 'delete',
    transport: 0,
    directional: false,
    callId: info.callId,
    fromTag: info.fromTag,
    toTag: info.toTag,
    flags: [],
    direction: offerAnswer ? [] : null,
    replace: offerAnswer ? [] : null,
    rtcpMux: offerAnswer ? [] : null,
    sdes: offerAnswer ? [] : null,
    t38: offerAnswer ? [] : null,
    codec: offerAnswer ? new Map() : null,
  };
  if (offerAnswer) {
    if (info.sdp === null) throw new NgFlagError("can't extract body from the message");
    dict.set('sdp', info.sdp);
  }
  if (flags) parseFlags(pf, dict, op, flags);

  if (info.sdpFragment) pf.flags.push('fragment');
  if (pf.direction?.length) dict.set('direction', pf.direction);
  if (pf.flags.length) dict.set('flags', pf.flags);
  if (pf.replace?.length) dict.set('replace', pf.replace);
  if (pf.codec?.size) dict.set('codec', pf.codec);
  if (pf.transport & 0x100) {
    const t = TRANSPORTS[pf.transport & 0x007];
    // Kamailio indexes a table with a hole at 5 (SRTP+DTLS without AVPF): it sends nothing useful.
    if (t) dict.set('transport-protocol', t);
  }
  if (pf.rtcpMux?.length) dict.set('rtcp-mux', pf.rtcpMux);
  if (pf.sdes?.length) dict.set('SDES', pf.sdes);
  if (pf.t38?.length) dict.set('T.38', pf.t38);
  dict.set('call-id', pf.callId);

  let viaBranch = '';
  if (pf.via) {
    let via = pf.via;
    if (via === 3) via = info.isRequest ? 1 : 2;
    else if (via === -3) via = info.isRequest ? -2 : 1;
    else if (via === -4) via = info.isRequest ? -1 : 1;
    let got: string | undefined;
    if (via === 1 || via === 2) got = info.viaBranch(via);
    else if (via === -1) got = info.extraId?.();
    else if (via === -2) got = info.nextBranch?.();
    if (!got) throw new NgFlagError("can't get Via branch/extra ID");
    viaBranch = got;
    dict.set('via-branch', viaBranch);
  }

  dict.set('received-from', [info.family === 6 ? 'IP6' : 'IP4', info.srcIp]);

  const o = op.v;
  if (
    o === 'block DTMF' || o === 'block media' || o === 'unblock DTMF' || o === 'unblock media' ||
    o === 'start forwarding' || o === 'stop forwarding' || o === 'silence media' || o === 'unsilence media'
  ) {
    if (pf.directional) dict.set('from-tag', pf.fromTag);
  } else if ((info.isRequest && o !== 'answer') || (!info.isRequest && (o === 'delete' || o === 'answer')) || pf.directional) {
    dict.set('from-tag', pf.fromTag);
    if (pf.to && pf.toTag) dict.set('to-tag', pf.toTag);
  } else {
    if (!pf.toTag) throw new NgFlagError('No to-tag present');
    dict.set('from-tag', pf.toTag);
    dict.set('to-tag', pf.fromTag);
  }
  dict.set('command', o);
  return { dict, op: o, callId: pf.callId, viaBranch };
}
