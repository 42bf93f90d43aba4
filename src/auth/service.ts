/**
 * The auth module's core, shared by KSR.auth and KSR.auth_db (Kamailio's auth API that auth_db
 * binds to): challenges, credential checks with nonce expiry and replay protection, and the
 * authorized credentials of each message ($au, $ar, $ad, consume_credentials).
 *
 * Result codes (src/modules/auth/api.h): 1 OK, -1 error, -2 wrong password, -3 unknown user,
 * -4 stale nonce, -5 no credentials, -6 nonce reused, -8 auth user differs from From/To user.
 *
 * Replay protection is off by default, as in Kamailio: a nonce is good for any number of requests
 * until it expires (nonce_expire). modparam auth nonce_count=1: the nonce count (nc, sent with
 * qop) must grow on every use of a nonce (a repeated count is -4, stale, as Kamailio answers it);
 * one_time_nonce=1: a nonce is good once (-6), for credentials without nc when nonce_count is on.
 * Both are checked before the password, as Kamailio does. The last count per nonce (`auth:nc`) and
 * the used nonces (`auth:otn`) live in the shared state, so with Redis a nonce replayed at another
 * proxy is refused too.
 */
import { randomBytes } from 'node:crypto';
import type { MsgContext } from '../context/msg-context.js';
import type { HeaderField } from '../sip/index.js';
import type { Awaitable, StateStore } from '../state/store.js';
import { StateError } from '../state/store.js';
import { ModuleKey } from '../context/module-state.js';
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

/** Continues a check with the value `v` is or will be. */
function next<T>(v: Awaitable<T>, fn: (x: T) => Awaitable<number>): Awaitable<number> {
  return v instanceof Promise ? v.then(fn) : fn(v);
}

/** auth modparams (Kamailio's names): nonce_expire, algorithm, nonce_count, one_time_nonce, use_domain. */
export interface AuthSettings {
  readonly lifetime: number;
  readonly algorithm: DigestAlgorithm;
  readonly nonceCount: boolean;
  readonly oneTimeNonce: boolean;
  /** checks/flag 1: From and To hosts (and the R-URI host for PUBLISH) must match too. */
  readonly useDomain: boolean;
}

/** The module's env as AuthService.create reads it. */
interface AuthEnv {
  readonly params: Readonly<Record<string, string | number>>;
  readonly state: StateStore;
}

/**
 * One proxy instance's auth module (Kamailio's auth with the API auth_db binds to): its settings,
 * nonce maker and state backend, and the credentials that passed a check, per message.
 */
export class AuthService {
  /** Credentials that passed a check, per message (consume_credentials, $au after auth). */
  private readonly passed = new WeakMap<MsgContext, Authorized>();

  private constructor(readonly settings: AuthSettings, private readonly nonces: NonceMaker, private readonly store: StateStore) {}

  /** The auth module's init: reads the modparams and agrees on the nonce secret through the state. */
  static async create(env: AuthEnv): Promise<AuthService> {
    const p = env.params;
    const alg = String(p.algorithm ?? 'MD5').toUpperCase();
    if (alg !== 'MD5' && alg !== 'SHA-256') throw new Error(`auth: algorithm '${alg}' is not supported (MD5, SHA-256)`);
    const settings: AuthSettings = {
      lifetime: Number(p.nonce_expire ?? 300) || 300,
      algorithm: alg,
      // Off by default, as in Kamailio.
      nonceCount: Number(p.nonce_count ?? 0) !== 0,
      oneTimeNonce: Number(p.one_time_nonce ?? 0) !== 0,
      useDomain: Number(p.use_domain ?? 0) !== 0,
    };
    // One secret for every proxy sharing the state, so a nonce from one validates at another.
    let secret = p.secret !== undefined ? String(p.secret) : null;
    if (secret === null) {
      await env.state.setIfAbsent('auth', 'secret', randomBytes(16).toString('hex'));
      secret = (await env.state.get('auth', 'secret')) ?? randomBytes(16).toString('hex');
    }
    return new AuthService(settings, new NonceMaker(secret, settings.lifetime), env.state);
  }

  challengeValue(realm: string, flags: number): string {
    let v = `Digest realm="${realm}", nonce="${this.nonces.make()}"`;
    if (flags & 1) v += ', qop="auth"';
    else if (flags & 2) v += ', qop="auth-int"';
    if (flags & 16) v += ', stale=true';
    if (this.settings.algorithm !== 'MD5') v += `, algorithm=${this.settings.algorithm}`;
    return v;
  }

  /** 401 for REGISTER (or `www`), 407 otherwise, with a fresh challenge. */
  sendChallenge(ctx: MsgContext, realm: string, flags: number, www?: boolean): number {
    const isWww = www ?? ctx.msg.method === 'REGISTER';
    const hdr = `${isWww ? 'WWW-Authenticate' : 'Proxy-Authenticate'}: ${this.challengeValue(defaultRealm(ctx, realm), flags)}\r\n`;
    const r = isWww ? ctx.proxy.sendReply(ctx, 401, 'Unauthorized', hdr) : ctx.proxy.sendReply(ctx, 407, 'Proxy Authentication Required', hdr);
    return r > 0 ? 1 : -3;
  }

  /**
   * Nonce replay, as Kamailio's check_nonce does it before the password is looked at (so a count
   * is used up even by a wrong password): with nonce_count and an nc in the credentials, the count
   * must be 8 hex digits (else -1) and grow on every use, up to 255 (else -4, stale, as Kamailio);
   * otherwise with one_time_nonce the nonce is good once (else -6, reused).
   */
  private checkReplay(cred: Credentials): Awaitable<number> {
    const { nonceCount, oneTimeNonce } = this.settings;
    if (!nonceCount && !oneTimeNonce) return AUTH_OK;
    const store = this.store;
    const ttl = this.nonces.remaining(cred.nonce);
    if (nonceCount && cred.nc) {
      if (!/^[0-9a-fA-F]{8}$/.test(cred.nc)) return AUTH_ERROR;
      const nc = Number.parseInt(cred.nc, 16);
      // Kamailio keeps one byte per nonce: a count it cannot hold asks for a new nonce.
      if (nc > 255) return STALE_NONCE;
      return next(store.get('auth:nc', cred.nonce), (last): Awaitable<number> => {
        if (last !== null && Number(last) >= nc) return STALE_NONCE;
        return next(store.set('auth:nc', cred.nonce, String(nc), ttl), () => AUTH_OK);
      });
    }
    if (oneTimeNonce) return next(store.setIfAbsent('auth:otn', cred.nonce, '1', ttl), (fresh) => (fresh ? AUTH_OK : NONCE_REUSED));
    return AUTH_OK;
  }

  /** Is this one of our nonces (HMAC valid) that has expired? (auth_challenge's stale=true) */
  isStale(nonce: string): boolean {
    return this.nonces.check(nonce) === 'stale';
  }

  /**
   * The whole check for one credentials header against a password or HA1 source, in Kamailio's
   * order: the nonce (ours, not replayed, not expired), then the subscriber, then the response.
   * `secretFor` answers the subscriber (null: unknown user) for the credentials' username and realm.
   */
  checkCredentials(
    ctx: MsgContext,
    found: Authorized | null,
    userCheck: boolean,
    secretFor: (cred: Credentials) => Awaitable<Subscriber | null>,
  ): Awaitable<number> {
    if (!found) return NO_CREDENTIALS;
    const { cred } = found;
    const n = this.nonces.check(cred.nonce);
    if (n === 'invalid') return AUTH_ERROR;
    const verify = (sub: Subscriber | null): number => {
      if (!sub) return USER_UNKNOWN;
      let h: string;
      if (sub.password !== undefined) h = computeHa1(cred.algorithm, cred.username, cred.realm, sub.password);
      else if (sub.ha1 !== undefined && cred.algorithm === 'MD5') h = sub.ha1.toLowerCase();
      else return AUTH_ERROR;
      if (!sameHex(expectedResponse(cred, ctx.msg.method, h, ctx.msg.body), cred.response)) return INVALID_PASSWORD;
      this.passed.set(ctx, found);
      return AUTH_OK;
    };
    const afterNonce = (replay: number): Awaitable<number> => {
      if (replay !== AUTH_OK) return replay;
      if (n === 'stale') return STALE_NONCE;
      if (userCheck && !userMatches(ctx, cred)) return AUTH_USER_MISMATCH;
      try {
        return next(secretFor(cred), verify);
      } catch (e) {
        ctx.proxy.log(ctx, 'err', `auth: ${e instanceof Error ? e.message : String(e)}`);
        return AUTH_ERROR;
      }
    };
    const r = next(this.checkReplay(cred), afterNonce);
    if (!(r instanceof Promise)) return r;
    return r.catch((e: unknown) => {
      if (!(e instanceof StateError)) throw e;
      ctx.proxy.log(ctx, 'err', `auth: state: ${e.message}`);
      return AUTH_ERROR;
    });
  }

  /** The credentials of this message that passed a check, if any. */
  authorized(ctx: MsgContext): Authorized | undefined {
    return this.passed.get(ctx);
  }
}

/** Where an instance keeps its auth module (auth_db and siputils reach it here). */
export const AUTH = new ModuleKey<AuthService>('auth');

/** The credentials that passed a check for this message; none when auth is not loaded. */
export function authorizedCredentials(ctx: MsgContext): Authorized | undefined {
  return AUTH.find(ctx)?.authorized(ctx);
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
