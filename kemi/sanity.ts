/**
 * KSR.sanity (src/modules/sanity): syntax checks by bitmask, answering the first failure with
 * Kamailio's reply codes and texts. 1 passed, -1 failed (the reply went out).
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { parseUri, SipParseError } from '../src/sip/index.js';
import { defineModule, type KemiArg } from './types.js';

/** Kamailio's default msg_checks and uri_checks module parameters. */
const DEFAULT_MSG_CHECKS = 3047;
const DEFAULT_URI_CHECKS = 7;

interface Failure {
  code: number;
  reason: string;
  headers?: string;
}

const fail = (code: number, reason: string): Failure => ({ code, reason });

function msgCheck(ctx: MsgContext, bits: number): Failure | null {
  const m = ctx.msg;
  const req = m.isRequest;
  try {
    if (bits & 1 && req && m.version.toUpperCase() !== 'SIP/2.0') return fail(505, 'Version Not Supported (R-URI)');
    if (bits & 2 && req) {
      // Kamailio: a scheme its URI parser does not know fails to parse (400); one it parses but
      // does not route (urn) is 416.
      const scheme = m.ruri.slice(0, m.ruri.indexOf(':')).toLowerCase();
      if (scheme === 'urn') return fail(416, 'Unsupported URI Scheme in Request URI');
      if (!['sip', 'sips', 'tel', 'tels'].includes(scheme)) return fail(400, 'Bad Request URI');
    }
    if (bits & 4) {
      for (const h of ['from', 'to', 'call-id', 'cseq', 'via']) if (!m.hasHeader(h)) return fail(400, 'Missing Required Header in Request');
    }
    if (bits & 8 && m.topVia.protocol.toUpperCase() !== 'SIP/2.0') return fail(505, 'Version Not Supported (Via)');
    if (bits & 16 && !['UDP', 'TCP', 'TLS', 'SCTP', 'WS', 'WSS'].includes(m.topVia.transport)) return fail(400, 'Unsupported Transport in Topmost Via');
    if (bits & 32 && req && m.cseq.method !== m.method) return fail(400, 'CSeq method does not match request method');
    if (bits & 64) void m.cseq.seq;
    if (bits & 128) {
      const cl = m.header('content-length');
      if (cl !== undefined && Number(cl) !== m.body.length) return fail(400, 'Content-Length mis-match');
    }
    if (bits & 256) {
      const e = m.header('expires');
      if (e !== undefined && !/^\d+$/.test(e.trim())) return fail(400, 'Expires value is illegal');
    }
    if (bits & 512 && req && m.hasHeader('proxy-require')) {
      // No extension is supported here: the first one listed goes back in Unsupported.
      const ext = m.headerList('proxy-require')[0]?.trim() ?? '';
      return { code: 420, reason: 'Bad Proxy Require Extension', headers: `Unsupported: ${ext}\r\n` };
    }
    if (bits & 4096) {
      if (m.headers('from').length > 1 || m.headers('to').length > 1) return fail(400, 'Duplicate Header');
    }
  } catch (e) {
    if (e instanceof SipParseError) return fail(400, `Bad Request: ${e.reason}`.slice(0, 100));
    throw e;
  }
  return null;
}

function uriCheck(ctx: MsgContext, bits: number): Failure | null {
  const m = ctx.msg;
  // Kamailio's check_parse_uris texts, one per URI (inline: this runs for every request).
  let reason = 'Bad Request URI';
  try {
    // Parsed once per message: the request's validation and is_myself_* read the same objects.
    if (bits & 1 && m.isRequest) {
      const r = m.ruri;
      if (/^(sips?|tel):/i.test(r)) m.parsedRuri();
    }
    reason = 'Invalid From Header';
    if (bits & 2) m.nameAddrUri('from');
    reason = 'Invalid To Header';
    if (bits & 4) m.nameAddrUri('to');
    reason = 'Bad Contact Header';
    if (bits & 8) for (const c of m.contacts()) if (c.uri !== '*') parseUri(c.uri);
  } catch (e) {
    if (e instanceof SipParseError) return fail(400, reason);
    throw e;
  }
  return null;
}

function check(ctx: MsgContext, msgBits: number, uriBits: number): number {
  const f = msgCheck(ctx, msgBits) ?? uriCheck(ctx, uriBits);
  if (!f) return 1;
  ctx.moduleData.set('sanity', f);
  if (ctx.msg.isRequest && ctx.msg.method !== 'ACK') ctx.proxy.sendReply(ctx, f.code, f.reason, f.headers);
  return -1;
}

export default defineModule('sanity', [
  { name: 'sanity_check', params: ['int', 'int'], ret: 'int', fn: (ctx, a, b) => check(ctx, Number(a), Number(b)) },
  { name: 'sanity_check_defaults', params: [], ret: 'int', fn: (ctx) => check(ctx, DEFAULT_MSG_CHECKS, DEFAULT_URI_CHECKS) },
  { name: 'sanity_reply', params: [], ret: 'int', fn: (ctx) => {
    const f = ctx.moduleData.get('sanity') as Failure | undefined;
    if (!f || ctx.replied) return -1;
    return ctx.proxy.sendReply(ctx, f.code, f.reason);
  } },
]);
