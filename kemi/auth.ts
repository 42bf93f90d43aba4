/**
 * KSR.auth (Kamailio src/modules/auth): digest challenges and checks against a password given by
 * the script; the shared core (nonces, replay protection, result codes) is src/auth/service.ts.
 *
 * Exports (Kamailio 5.6 KEMI): auth_challenge(realm, flags), consume_credentials(),
 * has_credentials(realm), pv_auth_check(realm, passwd, flags, checks). www_challenge,
 * proxy_challenge, pv_www_authenticate and pv_proxy_authenticate are config-file functions in
 * Kamailio 5.6 (not KEMI exports) and are not provided.
 *
 * Result codes (auth/api.h): 1 OK, -1 error, -2 invalid password, -3 user unknown, -4 stale
 * nonce, -5 no credentials, -6 nonce reused, -8 auth user differs from From/To user.
 *
 * auth_challenge flags: 1 qop=auth, 2 qop=auth-int, 16 stale=true. kemi-proxy extension: stale=true
 * is also added when the request carried credentials for the realm whose nonce (ours, HMAC valid)
 * has expired, as RFC 2617 3.2.1 asks. pv_auth_check flags: 1 the password is HA1; checks: 1 the
 * auth user must match the To user (REGISTER, PUBLISH; and From must equal To) or the From user.
 *
 * modparams: nonce_expire (300 s, as Kamailio), algorithm (MD5 | SHA-256, RFC 8760), secret (else
 * one generated and shared through the state, so every proxy on the same state accepts the others'
 * nonces), nonce_count and one_time_nonce (replay protection, see src/auth/service.ts; off by default
 * as in Kamailio),
 * use_domain (0; 1: From and To hosts must match too for checks=1).
 *
 * PVs: $au (auth username, user part), $aU (whole username), $ad (domain part of the username, else
 * the realm), $ar (realm): from the credentials that passed a check, else the first credentials
 * header of the request.
 */
import type { MsgContext } from '../src/context/msg-context.js';
import type { PvRegistry } from '../src/pv/registry.js';
import {
  AUTH, AUTH_ERROR, AUTH_OK, AUTH_USER_MISMATCH, AuthService, credentialsHeader, defaultRealm, findCredentials,
} from '../src/auth/service.js';
import type { Credentials } from '../src/auth/digest.js';
import { parseUri } from '../src/sip/index.js';
import type { Awaitable } from '../src/state/store.js';
import { defineModule, type KemiArg } from './types.js';
import { str } from './args.js';

/** The instance's auth module (its state: the AuthService auth_db binds to). */
function st(ctx: MsgContext): AuthService {
  return AUTH.of(ctx);
}

/** Credentials for $au & co: the authorized ones, else the first credentials header present. */
function creds(svc: AuthService, ctx: MsgContext): { username: string; realm: string } | null {
  const a = svc.authorized(ctx);
  if (a) return a.cred;
  if (!ctx.msg.isRequest) return null;
  return (findCredentials(ctx, 'authorization', '') ?? findCredentials(ctx, 'proxy-authorization', ''))?.cred ?? null;
}

function registerAuthPvs(pvs: PvRegistry, svc: AuthService): void {
  const registerPv = pvs.register.bind(pvs);
  registerPv('au', { get: (ctx) => creds(svc, ctx)?.username.split('@')[0] ?? null });
  registerPv('aU', { get: (ctx) => creds(svc, ctx)?.username ?? null });
  // As Kamailio's digest parser: the part after '@' of the username, "" without one.
  registerPv('ad', { get: (ctx) => {
    const c = creds(svc, ctx);
    if (!c) return null;
    const i = c.username.indexOf('@');
    return i >= 0 ? c.username.slice(i + 1) : '';
  } });
  registerPv('ar', { get: (ctx) => creds(svc, ctx)?.realm ?? null });
  // $Au / $AU (pv_get_acc_username / pv_get_acc_user): the authorized user, else the From URI's.
  const fromUri = (ctx: MsgContext): { user: string; host: string } | null => {
    try {
      return uriParts(ctx.msg.from.uri);
    } catch {
      return null;
    }
  };
  registerPv('Au', { get: (ctx) => {
    const a = svc.authorized(ctx)?.cred;
    if (a) return `${a.username.split('@')[0]}@${a.realm}`;
    const f = fromUri(ctx);
    return f ? `${f.user}@${f.host}` : null;
  } });
  registerPv('AU', { get: (ctx) => svc.authorized(ctx)?.cred.username.split('@')[0] ?? fromUri(ctx)?.user ?? null });
}

function uriParts(uri: string): { user: string; host: string } | null {
  try {
    const u = parseUri(uri);
    return { user: u.user ?? '', host: u.host.toLowerCase() };
  } catch {
    return null;
  }
}

const SKIPFWD_METHODS = new Set(['INVITE', 'BYE', 'PRACK', 'UPDATE', 'MESSAGE']);

/**
 * The identity checks Kamailio's auth_check / pv_auth_check run after a successful digest check
 * (flag AUTH_CHECK_ID_F): auth user = To user (REGISTER, PUBLISH) or From user, unless `skipFwd`
 * (AUTH_CHECK_SKIPFWD_F) and the method is INVITE/BYE/PRACK/UPDATE/MESSAGE; for REGISTER and
 * PUBLISH From user = To user (and hosts with `domainToo`, the module's use_domain); for PUBLISH
 * From user = R-URI user.
 */
export function identityCheck(ctx: MsgContext, cred: Credentials, skipFwd: boolean, domainToo: boolean): number {
  const m = ctx.msg.method;
  let from: ReturnType<typeof uriParts>;
  let to: ReturnType<typeof uriParts> = null;
  try {
    from = uriParts(ctx.msg.from.uri);
    if (m === 'REGISTER' || m === 'PUBLISH') to = uriParts(ctx.msg.to.uri);
  } catch {
    return AUTH_ERROR;
  }
  if (!from || ((m === 'REGISTER' || m === 'PUBLISH') && !to)) return AUTH_ERROR;
  const suser = cred.username.split('@')[0]!;
  const uri = to ?? from;
  if (!(skipFwd && SKIPFWD_METHODS.has(m)) && suser !== uri.user) return AUTH_USER_MISMATCH;
  if (to) {
    if (from.user !== to.user) return AUTH_USER_MISMATCH;
    if (domainToo && from.host !== to.host) return AUTH_USER_MISMATCH;
    if (m === 'PUBLISH') {
      const r = uriParts(ctx.msg.ruri);
      if (!r) return AUTH_ERROR;
      if (from.user !== r.user || (domainToo && from.host !== r.host)) return AUTH_USER_MISMATCH;
    }
  }
  return AUTH_OK;
}

/** Runs the identity check on an AUTH_OK result. */
export function withIdentity(ctx: MsgContext, r: Awaitable<number>, cred: Credentials | undefined, skipFwd: boolean, domainToo: boolean): Awaitable<number> {
  if (!cred) return r;
  const after = (code: number): number => (code === AUTH_OK ? identityCheck(ctx, cred, skipFwd, domainToo) : code);
  return r instanceof Promise ? r.then(after) : after(r);
}

function pvAuthCheck(ctx: MsgContext, realm: string, password: string, flags: number, checks: number): Awaitable<number> {
  if (!ctx.msg.isRequest) return AUTH_ERROR;
  const m = ctx.msg.method;
  if (m === 'ACK' || m === 'CANCEL') return AUTH_OK;
  const svc = st(ctx);
  const r = defaultRealm(ctx, realm);
  const found = findCredentials(ctx, credentialsHeader(ctx), r);
  const res = svc.checkCredentials(ctx, found, false, () => ((flags & 1) ? { ha1: password } : { password }));
  return (checks & 1) !== 0 ? withIdentity(ctx, res, found?.cred, false, svc.settings.useDomain) : res;
}

/** Does the request carry credentials for `realm` whose (genuine) nonce has expired? */
function staleCredentials(svc: AuthService, ctx: MsgContext, realm: string): boolean {
  const found = findCredentials(ctx, credentialsHeader(ctx), defaultRealm(ctx, realm));
  return found !== null && svc.isStale(found.cred.nonce);
}

export default defineModule<AuthService>('auth', [
  { name: 'auth_challenge', params: ['str', 'int'], ret: 'int', fn: (ctx, realm, flags) => {
    let f = Number(flags) || 0;
    if (!ctx.msg.isRequest) return AUTH_ERROR;
    const svc = st(ctx);
    if (!(f & 16) && staleCredentials(svc, ctx, str(realm))) f |= 16;
    return svc.sendChallenge(ctx, str(realm), f);
  } },
  { name: 'consume_credentials', params: [], ret: 'int', fn: (ctx) => {
    if (!ctx.msg.isRequest) return -1;
    const m = ctx.msg.method;
    if (m === 'ACK' || m === 'CANCEL' || m === 'PRACK') return -1;
    const a = st(ctx).authorized(ctx);
    if (!a) return -1;
    ctx.msg.removeHeader(a.field);
    return 1;
  } },
  { name: 'has_credentials', params: ['str'], ret: 'int', fn: (ctx, realm) => {
    if (!ctx.msg.isRequest) return -1;
    const r = str(realm);
    return findCredentials(ctx, 'proxy-authorization', r) || findCredentials(ctx, 'authorization', r) ? 1 : -1;
  } },
  { name: 'pv_auth_check', params: ['str', 'str', 'int', 'int'], ret: 'int', fn: (ctx, realm, pw, flags, checks) => pvAuthCheck(ctx, str(realm), str(pw), Number(flags) || 0, Number(checks) || 0) },
], {
  key: AUTH,
  init: async (env) => {
    const svc = await AuthService.create(env);
    registerAuthPvs(env.pvs, svc);
    return svc;
  },
});
