/**
 * KSR.auth_db (src/modules/auth_db): digest checks against the subscriber table, served by the
 * shared state instead of a database. Layout: namespace `subscriber`, key `user@domain` (or just
 * `user`, matched for any realm), value either a JSON object {"password": "..."} / {"ha1": "..."}
 * or the plain password. With Redis: `SET kemi:subscriber:alice@example.org secret` adds a user,
 * seen at once. The `table` argument names the namespace (Kamailio's table name, default
 * "subscriber"). Needs the auth module (as in Kamailio).
 * RPC (kemi-proxy extension, Kamailio manages subscribers with kamctl/SQL): subscriber.add
 * <user@domain> <password>, subscriber.rm <user@domain>.
 */
import type { MsgContext } from '../src/core/context.js';
import { checkCredentials, credentialsHeader, defaultRealm, findCredentials, type Subscriber } from '../src/auth/service.js';
import type { Awaitable, StateStore } from '../src/state/store.js';
import { defineModule, type KemiArg } from './types.js';

const str = (v: KemiArg): string => (v === null || v === undefined ? '' : String(v));
let store: StateStore | null = null;

function decode(v: string | null): Subscriber | null {
  if (v === null) return null;
  if (v.startsWith('{')) {
    try {
      const o = JSON.parse(v) as Subscriber;
      if (typeof o === 'object' && o !== null) return o;
    } catch {
      /* a password that happens to start with { */
    }
  }
  return { password: v };
}

/** The subscriber `user@domain`, else `user` alone. */
export function subscriber(table: string, user: string, domain: string): Awaitable<Subscriber | null> {
  if (!store) throw new Error('KSR.auth_db: module not initialised');
  const s = store;
  const ns = table || 'subscriber';
  const first = s.get(ns, `${user}@${domain}`);
  const next = (v: string | null): Awaitable<Subscriber | null> => {
    if (v !== null) return decode(v);
    const plain = s.get(ns, user);
    return plain instanceof Promise ? plain.then(decode) : decode(plain);
  };
  return first instanceof Promise ? first.then(next) : next(first);
}

function authCheck(ctx: MsgContext, realm: string, table: string, flags: number): Awaitable<number> {
  if (!ctx.msg.isRequest) return -1;
  const m = ctx.msg.method;
  if (m === 'ACK' || m === 'CANCEL') return 1;
  const r = defaultRealm(ctx, realm);
  const found = findCredentials(ctx, credentialsHeader(ctx), r);
  const skipUserCheck = (flags & 2) !== 0 && ['INVITE', 'BYE', 'PRACK', 'UPDATE', 'MESSAGE'].includes(m);
  return checkCredentials(ctx, found, (flags & 1) !== 0 && !skipUserCheck, (cred) => {
    const at = cred.username.indexOf('@');
    return subscriber(table, at >= 0 ? cred.username.slice(0, at) : cred.username, at >= 0 ? cred.username.slice(at + 1) : cred.realm);
  });
}

export default defineModule('auth_db', [
  { name: 'auth_check', params: ['str', 'str', 'int'], ret: 'int', fn: (ctx, realm, table, flags) => authCheck(ctx, str(realm), str(table), Number(flags) || 0) },
  { name: 'is_subscriber', params: ['str', 'str', 'int'], ret: 'int', fn: (ctx, uri, table) => {
    const m = /^sips?:([^@;?]+)@([^;:>?]+)/.exec(str(uri));
    if (!m) return -1;
    const s = subscriber(str(table), decodeURIComponent(m[1]!), m[2]!);
    return s instanceof Promise ? s.then((x) => (x ? 1 : -1), () => -1) : s ? 1 : -1;
  } },
], {
  init: (env) => {
    store = env.state;
  },
  rpc: {
    'subscriber.add': async (p) => {
      if (!store) throw new Error('auth_db not initialised');
      const id = String(p[0] ?? '');
      if (!id || p[1] === undefined) throw new Error('usage: subscriber.add <user@domain> <password>');
      await store.set('subscriber', id, JSON.stringify({ password: String(p[1]) }));
      return 'ok';
    },
    'subscriber.rm': async (p) => {
      if (!store) throw new Error('auth_db not initialised');
      await store.del('subscriber', String(p[0] ?? ''));
      return 'ok';
    },
  },
});
