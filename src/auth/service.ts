/**
 * The auth module's core, shared by KSR.auth and KSR.auth_db (Kamailio's auth API that auth_db
 * binds to): challenges, credential checks with nonce expiry and replay protection, and the
 * authorized credentials of each message ($au, $ar, $ad, consume_credentials).
 *
 * Result codes (src/modules/auth/api.h): 1 OK, -1 error, -2 wrong password, -3 unknown user,
 * -4 stale nonce, -5 no credentials, -6 nonce reused, -8 auth user differs from From/To user.
 *
 * Replay protection (on by default, unlike Kamailio where nonce_count and one_time_nonce are off):
 * with qop the nonce count must grow on every use of a nonce; without qop a nonce is good once.
 * The last count per nonce lives in the shared state (`auth:nc`), so with Redis a nonce replayed
 * at another proxy is refused too. modparam auth nonce_count=0 and one_time_nonce=0 turn it off.
 */
import { randomBytes } from 'node:crypto';
import type { MsgContext } from '../context/msg-context.js';
import type { HeaderField } from '../sip/index.js';
import type { Awaitable, StateStore } from '../state/store.js';
import { StateError } from '../state/store.js';
import { expectedResponse, ha1 as computeHa1, NonceMaker, parseCredentials, sameHex, type Credentials, type DigestAlgorithm } from './digest.js';

export const AUTH_OK = 1;
export const AUTH_ERROR = -1;
export const INVALID_PASSWORD = -2;
export const USER_UNKNOWN = -3;
export const STALE_NONCE = -4;
export const NO_CREDENTIALS = -5;
export const NONCE_REUSED = -6;
export const AUTH_USER_MISMATCH = -8;

/** What a subscriber record may hold: a plain password, or precomputed HA1 (MD5). */
export interface Subscriber {
  password?: string;
  ha1?: string;
  ha1b?: string;
}

export interface Authorized {
  cred: Credentials;
  field: HeaderField;
}

interface AuthSettings {
  lifetime: number;
  algorithm: DigestAlgorithm;
  nonceCount: boolean;
  oneTimeNonce: boolean;
}

let settings: AuthSettings = { lifetime: 300, algorithm: 'MD5', nonceCount: true, oneTimeNonce: true };
let nonces: NonceMaker | null = null;
let store: StateStore | null = null;
/** Credentials that passed a check, per message (consume_credentials, $au after auth). */
const authorized = new WeakMap<MsgContext, Authorized>();

export function authReady(): boolean {
  return nonces !== null;
}

function need(): NonceMaker {
  if (!nonces) throw new Error('the auth module is not loaded');
  return nonces;
}

export async function initAuth(env: { params: Readonly<Record<string, string | number>>; state: StateStore }): Promise<void> {
  const p = env.params;
  const alg = String(p.algorithm ?? 'MD5').toUpperCase();
  if (alg !== 'MD5' && alg !== 'SHA-256') throw new Error(`auth: algorithm '${alg}' is not supported (MD5, SHA-256)`);
  settings = {
    lifetime: Number(p.nonce_expire ?? 300) || 300,
    algorithm: alg,
    nonceCount: Number(p.nonce_count ?? 1) !== 0,
    oneTimeNonce: Number(p.one_time_nonce ?? 1) !== 0,
  };
  store = env.state;
  // One secret for every proxy sharing the state, so a nonce from one validates at another.
  let secret = p.secret !== undefined ? String(p.secret) : null;
  if (secret === null) {
    await env.state.setIfAbsent('auth', 'secret', randomBytes(16).toString('hex'));
    secret = (await env.state.get('auth', 'secret')) ?? randomBytes(16).toString('hex');
  }
  nonces = new NonceMaker(secret, settings.lifetime);
}

/** REGISTER answers to WWW-Authenticate, everything else to Proxy-Authenticate. */
export function credentialsHeader(ctx: MsgContext, www?: boolean): string {
  return (www ?? ctx.msg.method === 'REGISTER') ? 'authorization' : 'proxy-authorization';
}

/** The realm to use when the script gives none: To host for REGISTER, else From host. */
export function defaultRealm(ctx: MsgContext, realm: string): string {
  if (realm) return realm;
  try {
    const u = ctx.msg.method === 'REGISTER' ? ctx.msg.to.uri : ctx.msg.from.uri;
    return /@([^;:>?]+)/.exec(u)?.[1] ?? /^sips?:([^;:>?]+)/.exec(u)?.[1] ?? '';
  } catch {
    return '';
  }
}

/** The first credentials of that header type for the realm (any realm when realm is ''). */
export function findCredentials(ctx: MsgContext, lname: string, realm: string): Authorized | null {
  for (const f of ctx.msg.headerFields) {
    if (f.lname !== lname) continue;
    const cred = parseCredentials(f.value);
    if (cred && (!realm || cred.realm === realm)) return { cred, field: f };
  }
  return null;
}

export function challengeValue(realm: string, flags: number): string {
  let v = `Digest realm="${realm}", nonce="${need().make()}"`;
  if (flags & 1) v += ', qop="auth"';
  else if (flags & 2) v += ', qop="auth-int"';
  if (flags & 16) v += ', stale=true';
  if (settings.algorithm !== 'MD5') v += `, algorithm=${settings.algorithm}`;
  return v;
}

/** 401 for REGISTER (or `www`), 407 otherwise, with a fresh challenge. */
export function sendChallenge(ctx: MsgContext, realm: string, flags: number, www?: boolean): number {
  const isWww = www ?? ctx.msg.method === 'REGISTER';
  const hdr = `${isWww ? 'WWW-Authenticate' : 'Proxy-Authenticate'}: ${challengeValue(defaultRealm(ctx, realm), flags)}\r\n`;
  const r = isWww ? ctx.proxy.sendReply(ctx, 401, 'Unauthorized', hdr) : ctx.proxy.sendReply(ctx, 407, 'Proxy Authentication Required', hdr);
  return r > 0 ? 1 : -3;
}

function userOf(uri: string): string | null {
  const m = /^sips?:([^@;?]+)@/.exec(uri);
  return m ? decodeURIComponent(m[1]!) : null;
}

/** checks 1: the auth username must be the To user (REGISTER) or the From user (others). */
export function userMatches(ctx: MsgContext, cred: Credentials): boolean {
  try {
    const uri = ctx.msg.method === 'REGISTER' || ctx.msg.method === 'PUBLISH' ? ctx.msg.to.uri : ctx.msg.from.uri;
    const user = cred.username.split('@')[0]!;
    return userOf(uri) === user;
  } catch {
    return false;
  }
}

/** Nonce freshness and replay: a code other than AUTH_OK stops the check. */
function checkReplay(cred: Credentials): Awaitable<number> {
  if (!store || (!settings.nonceCount && !settings.oneTimeNonce)) return AUTH_OK;
  const ttl = need().remaining(cred.nonce);
  if (cred.qop && settings.nonceCount) {
    const nc = Number.parseInt(cred.nc ?? '', 16);
    if (!Number.isFinite(nc) || nc <= 0) return AUTH_ERROR;
    const seen = store.get('auth:nc', cred.nonce);
    const decide = (last: string | null): Awaitable<number> => {
      if (last !== null && Number(last) >= nc) return NONCE_REUSED;
      const w = store!.set('auth:nc', cred.nonce, String(nc), ttl);
      return w instanceof Promise ? w.then(() => AUTH_OK) : AUTH_OK;
    };
    return seen instanceof Promise ? seen.then(decide) : decide(seen);
  }
  if (!cred.qop && settings.oneTimeNonce) {
    const fresh = store.setIfAbsent('auth:nc', cred.nonce, '0', ttl);
    return fresh instanceof Promise ? fresh.then((f) => (f ? AUTH_OK : NONCE_REUSED)) : fresh ? AUTH_OK : NONCE_REUSED;
  }
  return AUTH_OK;
}

/**
 * The whole check for one credentials header against a password or HA1 source. `secretFor`
 * answers the subscriber (null: unknown user) for the credentials' username and realm.
 */
export function checkCredentials(
  ctx: MsgContext,
  found: Authorized | null,
  userCheck: boolean,
  secretFor: (cred: Credentials) => Awaitable<Subscriber | null>,
): Awaitable<number> {
  if (!found) return NO_CREDENTIALS;
  const { cred } = found;
  const n = need().check(cred.nonce);
  if (n === 'invalid') return AUTH_ERROR;
  if (n === 'stale') return STALE_NONCE;
  if (userCheck && !userMatches(ctx, cred)) return AUTH_USER_MISMATCH;
  const verify = (sub: Subscriber | null): Awaitable<number> => {
    if (!sub) return USER_UNKNOWN;
    let h: string;
    if (sub.password !== undefined) h = computeHa1(cred.algorithm, cred.username, cred.realm, sub.password);
    else if (sub.ha1 !== undefined && cred.algorithm === 'MD5') h = sub.ha1.toLowerCase();
    else return AUTH_ERROR;
    if (!sameHex(expectedResponse(cred, ctx.msg.method, h, ctx.msg.body), cred.response)) return INVALID_PASSWORD;
    const r = checkReplay(cred);
    const done = (code: number): number => {
      if (code === AUTH_OK) authorized.set(ctx, found);
      return code;
    };
    return r instanceof Promise ? r.then(done) : done(r);
  };
  let s: Awaitable<Subscriber | null>;
  try {
    s = secretFor(cred);
  } catch (e) {
    ctx.proxy.log(ctx, 'err', `auth: ${e instanceof Error ? e.message : String(e)}`);
    return AUTH_ERROR;
  }
  if (s instanceof Promise) {
    return s.then(verify).catch((e: unknown) => {
      if (!(e instanceof StateError)) throw e;
      ctx.proxy.log(ctx, 'err', `auth: subscriber store: ${e.message}`);
      return AUTH_ERROR;
    });
  }
  return verify(s);
}

export function authorizedCredentials(ctx: MsgContext): Authorized | undefined {
  return authorized.get(ctx);
}
