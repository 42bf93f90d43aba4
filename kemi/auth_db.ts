/**
 * KSR.auth_db (Kamailio src/modules/auth_db): digest checks against the subscriber table, served
 * by the shared state instead of a database. Needs the auth module loaded (as in Kamailio).
 *
 * Exports (Kamailio 5.6 KEMI): auth_check(realm, table, flags), is_subscriber(uri, table, flags).
 * www_authenticate/proxy_authenticate are config-file functions in Kamailio 5.6 (not KEMI
 * exports) and are not provided. auth_check: realm and table must not be empty (-1 otherwise, as
 * Kamailio); REGISTER is checked against Authorization, everything else Proxy-Authorization; ACK and
 * CANCEL pass (1). flags: 1 identity checks (auth user = To user for REGISTER/PUBLISH, From user
 * otherwise; From user = To user for REGISTER/PUBLISH), 2 skip the user check for
 * INVITE/BYE/PRACK/UPDATE/MESSAGE. Result codes as the auth module (kemi/auth.ts).
 *
 * Subscriber layout: namespace `<table>` (normally `subscriber`), key `user@domain` (the domain is
 * the domain part of the auth username, else the realm), or just `user` (matched for any domain).
 * The value is JSON {"password": "...", "ha1": "...", "ha1b": "..."} (any of them), or a plain
 * string, taken as the password. ha1 = MD5(user:realm:password), ha1b = MD5(user@domain:realm:password).
 * With Redis an operator adds a user with
 *     redis-cli SET kemi:subscriber:alice@example.org '{"password":"secret"}'
 * (or just `SET kemi:subscriber:alice@example.org secret`); it is seen at once.
 *
 * modparams: calculate_ha1 (0 as Kamailio: use the stored ha1 — ha1b when the auth username has a
 * domain part; 1: compute HA1 from the stored password). kemi-proxy falls back to the password
 * when the chosen HA1 field is missing or the algorithm is not MD5 (HA1 is stored as MD5), and to
 * ha1 when there is no password. use_domain (0; 1: From/To hosts must match in the identity check).
 *
 * RPC (kemi-proxy extension; Kamailio manages subscribers with kamctl/SQL):
 *   subscriber.add <user@domain> <password>  stores {password, ha1, ha1b} (realm = domain)
 *   subscriber.rm <user@domain>
 */
import { createHash } from 'node:crypto';
import type { MsgContext } from '../src/context/msg-context.js';
import { AUTH, AUTH_ERROR, AUTH_OK, credentialsHeader, findCredentials, type AuthService, type Subscriber } from '../src/auth/service.js';
import type { Credentials } from '../src/auth/digest.js';
import { ModuleKey } from '../src/context/module-state.js';
import type { Awaitable, StateStore } from '../src/state/store.js';
import { identityCheck } from './auth.js';
import { defineModule, type ModuleEnv } from './types.js';
import { str } from './args.js';

/** One instance's auth_db: the auth module it binds to, the subscriber store, its modparams. */
export interface AuthDbState {
  readonly auth: AuthService;
  readonly store: StateStore;
  readonly calculateHa1: boolean;
  readonly useDomain: boolean;
}

export const AUTH_DB = new ModuleKey<AuthDbState>('auth_db');

function st(ctx: MsgContext): AuthDbState {
  return AUTH_DB.of(ctx);
}

function decode(v: string | null): Subscriber | null {
  if (v === null) return null;
  if (v.startsWith('{')) {
    try {
      const o = JSON.parse(v) as Record<string, unknown>;
      if (typeof o === 'object' && o !== null) {
        const s: Subscriber = {};
        if (typeof o.password === 'string') s.password = o.password;
        if (typeof o.ha1 === 'string') s.ha1 = o.ha1;
        if (typeof o.ha1b === 'string') s.ha1b = o.ha1b;
        return s;
      }
    } catch {
      /* a password that happens to start with { */
    }
  }
  return { password: v };
}

/** The subscriber `user@domain`, else `user` alone. */
export function subscriber(s: StateStore, table: string, user: string, domain: string): Awaitable<Subscriber | null> {
  const ns = table || 'subscriber';
  const first = s.get(ns, `${user}@${domain}`);
  const next = (v: string | null): Awaitable<Subscriber | null> => {
    if (v !== null) return decode(v);
    const plain = s.get(ns, user);
    return plain instanceof Promise ? plain.then(decode) : decode(plain);
  };
  return first instanceof Promise ? first.then(next) : next(first);
}

/** What the digest check uses, per calculate_ha1 (see the header comment). */
function secretOf(sub: Subscriber | null, cred: Credentials, calculateHa1: boolean): Subscriber | null {
  if (!sub) return null;
  const hashField = cred.username.includes('@') ? sub.ha1b : sub.ha1;
  if (calculateHa1) return sub.password !== undefined ? { password: sub.password } : hashField !== undefined ? { ha1: hashField } : {};
  if (hashField !== undefined && cred.algorithm === 'MD5') return { ha1: hashField };
  if (sub.password !== undefined) return { password: sub.password };
  return sub.ha1 !== undefined && cred.algorithm === 'MD5' ? { ha1: sub.ha1 } : {};
}

function authCheck(ctx: MsgContext, realm: string, table: string, flags: number): Awaitable<number> {
  if (!ctx.msg.isRequest) return AUTH_ERROR;
  const m = ctx.msg.method;
  if (m === 'ACK' || m === 'CANCEL') return AUTH_OK;
  if (!realm || !table) return AUTH_ERROR;
  const db = st(ctx);
  const found = findCredentials(ctx, credentialsHeader(ctx), realm);
  const r = db.auth.checkCredentials(ctx, found, false, (cred) => {
    const at = cred.username.indexOf('@');
    const user = at >= 0 ? cred.username.slice(0, at) : cred.username;
    const domain = at >= 0 ? cred.username.slice(at + 1) : cred.realm;
    const s = subscriber(db.store, table, user, domain);
    return s instanceof Promise ? s.then((x) => secretOf(x, cred, db.calculateHa1)) : secretOf(s, cred, db.calculateHa1);
  });
  if (!(flags & 1) || !found) return r;
  const after = (code: number): number => (code === AUTH_OK ? identityCheck(ctx, found.cred, (flags & 2) !== 0, db.useDomain) : code);
  return r instanceof Promise ? r.then(after) : after(r);
}

const md5 = (s: string): string => createHash('md5').update(s, 'latin1').digest('hex');

/** mod_init: binds to the auth module's API, as Kamailio's auth_db does (auth must be loaded first). */
function init(env: ModuleEnv): AuthDbState {
  const auth = env.modules.find(AUTH);
  if (!auth) throw new Error('auth_db: the auth module must be loaded before auth_db (list "auth" before "auth_db" in modules)');
  return {
    auth,
    store: env.state,
    calculateHa1: Number(env.params.calculate_ha1 ?? 0) !== 0,
    useDomain: Number(env.params.use_domain ?? 0) !== 0,
  };
}

export default defineModule<AuthDbState>('auth_db', [
  { name: 'auth_check', params: ['str', 'str', 'int'], ret: 'int', fn: (ctx, realm, table, flags) => authCheck(ctx, str(realm), str(table), Number(flags) || 0) },
  { name: 'is_subscriber', params: ['str', 'str', 'int'], ret: 'int', fn: (ctx, uri, table) => {
    const m = /^sips?:([^@;?]+)@([^;:>?]+)/.exec(str(uri));
    if (!m) return -1;
    let s: Awaitable<Subscriber | null>;
    try {
      s = subscriber(st(ctx).store, str(table), decodeURIComponent(m[1]!), m[2]!.toLowerCase());
    } catch {
      return -1;
    }
    return s instanceof Promise ? s.then((x) => (x ? 1 : -1), () => -1) : s ? 1 : -1;
  } },
], {
  key: AUTH_DB,
  init,
  rpc: ({ store }) => ({
    'subscriber.add': async (p) => {
      const id = String(p[0] ?? '');
      const at = id.indexOf('@');
      if (at <= 0 || at === id.length - 1 || p[1] === undefined) throw new Error('usage: subscriber.add <user@domain> <password>');
      const user = id.slice(0, at);
      const domain = id.slice(at + 1);
      const password = String(p[1]);
      await store.set('subscriber', id, JSON.stringify({
        password, ha1: md5(`${user}:${domain}:${password}`), ha1b: md5(`${id}:${domain}:${password}`),
      }));
      return 'ok';
    },
    'subscriber.rm': async (p) => {
      await store.del('subscriber', String(p[0] ?? ''));
      return 'ok';
    },
  }),
});
