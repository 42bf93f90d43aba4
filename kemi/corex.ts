/**
 * KSR.corex (src/modules/corex): branches, extended flags (xflags, 0..63, per message and carried
 * into its transaction's callbacks), socket and misc helpers.
 */
import type { Branch, MsgContext } from '../src/context/msg-context.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { findSocket, parseSocketSpec } from '../src/transport/types.js';
import { defineModule, type KemiArg } from './types.js';
import { str } from './args.js';

/** Kamailio's extended message flags (xflags): 64 per message, kept with its module data. */
const XFLAGS = 'corex:xflags';
const KSR_XFLAGS_MAX = 64;

function xflags(ctx: MsgContext): bigint {
  return (ctx.moduleData.get(XFLAGS) as bigint | undefined) ?? 0n;
}

function xflag(ctx: MsgContext, v: KemiArg, op: 'set' | 'reset' | 'test'): number {
  const n = typeof v === 'number' ? v : Number.parseInt(str(v), 10);
  if (!Number.isInteger(n) || n < 0 || n >= KSR_XFLAGS_MAX) return -1;
  const bit = 1n << BigInt(n);
  const cur = xflags(ctx);
  if (op === 'test') return (cur & bit) !== 0n ? 1 : -1;
  ctx.moduleData.set(XFLAGS, op === 'set' ? cur | bit : cur & ~bit);
  return 1;
}

function appendBranch(ctx: MsgContext, uri: string | null, q: string | null): number {
  if (!ctx.msg.isRequest) return -1;
  const b: Branch = {
    uri: uri || ctx.msg.ruri,
    dstUri: uri ? null : ctx.dstUri,
    path: null,
    q: q ? Number(q) : -1,
    flags: uri ? 0 : ctx.bflags[0] ?? 0,
    socket: ctx.forcedSocket,
    instance: null,
    ruid: null,
    location_ua: null,
  };
  ctx.branches.push(b);
  ctx.bflags[ctx.branches.length] = b.flags;
  return 1;
}

/**
 * corex's ki_set_send_socket: an empty value resets; a specification that does not parse is -1;
 * one that names no listen socket leaves the choice as it was (Kamailio warns and answers 1).
 */
function setSendSocket(ctx: MsgContext, spec: string): number {
  if (!spec) {
    ctx.forcedSocket = null;
    return 1;
  }
  const p = parseSocketSpec(spec);
  if (!p) {
    ctx.proxy.log(ctx, 'err', `invalid socket specification [${spec}]`);
    return -1;
  }
  const s = findSocket(ctx.proxy.sockets(), p);
  if (s) ctx.forcedSocket = s.id;
  else ctx.proxy.log(ctx, 'warn', `no socket found to match [${spec}]`);
  return 1;
}

export default defineModule('corex', [
  { name: 'setxflag', params: ['int'], ret: 'int', fn: (ctx, f) => xflag(ctx, f, 'set') },
  { name: 'resetxflag', params: ['int'], ret: 'int', fn: (ctx, f) => xflag(ctx, f, 'reset') },
  { name: 'isxflagset', params: ['int'], ret: 'int', fn: (ctx, f) => xflag(ctx, f, 'test') },
  { name: 'append_branch', params: [], ret: 'int', fn: (ctx) => appendBranch(ctx, null, null) },
  { name: 'append_branch_uri', params: ['str'], ret: 'int', fn: (ctx, u) => appendBranch(ctx, str(u) || null, null) },
  { name: 'append_branch_uri_q', params: ['str', 'str'], ret: 'int', fn: (ctx, u, q) => appendBranch(ctx, str(u) || null, str(q) || null) },
  { name: 'has_ruri_user', params: [], ret: 'int', fn: (ctx) => {
    try {
      return ctx.msg.isRequest && ctx.msg.parsedRuri().user ? 1 : -1;
    } catch {
      return -1;
    }
  } },
  { name: 'has_user_agent', params: [], ret: 'int', fn: (ctx) => (ctx.msg.hasHeader('user-agent') ? 1 : -1) },
  { name: 'is_faked_msg', params: [], ret: 'int', fn: (ctx) => (ctx.route === 'failure' || ctx.route === 'branch_failure' ? 1 : -1) },
  { name: 'set_send_socket', params: ['str'], ret: 'int', fn: (ctx, s) => setSendSocket(ctx, str(s)) },
  { name: 'file_read', params: ['str'], ret: 'xval', fn: (_c, p) => {
    try {
      return readFileSync(str(p), 'latin1');
    } catch {
      return null;
    }
  } },
  { name: 'file_write', params: ['str', 'str'], ret: 'int', fn: (_c, p, d) => {
    try {
      writeFileSync(str(p), str(d), 'latin1');
      return 1;
    } catch {
      return -1;
    }
  } },
]);
