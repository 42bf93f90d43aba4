/**
 * KSR.auth (src/modules/auth): digest challenges and checks against a password given by the
 * script. Shared logic and result codes: src/auth/service.ts. modparams: nonce_expire (300 s),
 * algorithm (MD5 | SHA-256, RFC 8760), secret (else one shared through the state), nonce_count
 * and one_time_nonce (replay protection, default on).
 * PVs: $au (auth username), $aU (its user part), $ad (its domain part), $ar (realm) read the
 * credentials of the request as Kamailio's do.
 */
import type { MsgContext } from '../src/core/context.js';
import { registerPv } from '../src/pv/registry.js';
import {
  authorizedCredentials, checkCredentials, credentialsHeader, defaultRealm, findCredentials, initAuth, sendChallenge,
} from '../src/auth/service.js';
import { defineModule, type KemiArg } from './types.js';

const str = (v: KemiArg): string => (v === null || v === undefined ? '' : String(v));

/** Credentials for $au & co: the authorized ones, else the first credentials header present. */
function creds(ctx: MsgContext): { username: string; realm: string } | null {
  const a = authorizedCredentials(ctx);
  if (a) return a.cred;
  if (!ctx.msg.isRequest) return null;
  return (findCredentials(ctx, 'authorization', '') ?? findCredentials(ctx, 'proxy-authorization', ''))?.cred ?? null;
}

function registerAuthPvs(): void {
  registerPv('au', { get: (ctx) => creds(ctx)?.username ?? null });
  registerPv('aU', { get: (ctx) => creds(ctx)?.username.split('@')[0] ?? null });
  registerPv('ad', { get: (ctx) => {
    const c = creds(ctx);
    if (!c) return null;
    const i = c.username.indexOf('@');
    return i >= 0 ? c.username.slice(i + 1) : c.realm;
  } });
  registerPv('ar', { get: (ctx) => creds(ctx)?.realm ?? null });
}

function pvAuthCheck(ctx: MsgContext, realm: string, password: string, flags: number, checks: number, www?: boolean) {
  if (!ctx.msg.isRequest) return -1;
  if (ctx.msg.method === 'ACK' || ctx.msg.method === 'CANCEL') return 1;
  const r = defaultRealm(ctx, realm);
  const found = findCredentials(ctx, credentialsHeader(ctx, www), r);
  return checkCredentials(ctx, found, (checks & 1) !== 0, () => ((flags & 1) ? { ha1: password } : { password }));
}

export default defineModule('auth', [
  { name: 'auth_challenge', params: ['str', 'int'], ret: 'int', fn: (ctx, realm, flags) => sendChallenge(ctx, str(realm), Number(flags) || 0) },
  { name: 'consume_credentials', params: [], ret: 'int', fn: (ctx) => {
    const m = ctx.msg.method;
    if (m === 'ACK' || m === 'CANCEL' || m === 'PRACK') return -1;
    const a = authorizedCredentials(ctx);
    if (!a) return -1;
    ctx.msg.removeHeader(a.field);
    return 1;
  } },
  { name: 'has_credentials', params: ['str'], ret: 'int', fn: (ctx, realm) => {
    const r = str(realm);
    return findCredentials(ctx, 'authorization', r) || findCredentials(ctx, 'proxy-authorization', r) ? 1 : -1;
  } },
  { name: 'pv_auth_check', params: ['str', 'str', 'int', 'int'], ret: 'int', fn: (ctx, realm, pw, flags, checks) => pvAuthCheck(ctx, str(realm), str(pw), Number(flags) || 0, Number(checks) || 0) },
], {
  init: async (env) => {
    await initAuth(env);
    registerAuthPvs();
  },
});
