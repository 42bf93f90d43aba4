/**
 * KSR.auth_xkeys (src/modules/auth_xkeys): shared-key tokens between SIP nodes.
 *
 * modparam `xkey` "id=<group>;name=<key name>;value=<secret>;expires=<seconds>", repeatable (one
 * per line in the config value). auth_xkeys_add(hdr, id, alg, data) appends `<hdr>: <hex digest>`
 * at the end of the headers, the digest being alg ("sha256", "sha384", "sha512") of
 * "<value of the newest key of id>:<data>", lower-case hex as Kamailio prints it.
 * auth_xkeys_check(hdr, id, alg, data) compares the first such header (trimmed, case-insensitive)
 * with the digest of every key of the id, newest first. 1 on success, -1 otherwise, as the KEMI
 * functions of Kamailio 5.6.3 return. As there, `expires` is recorded but not enforced by check.
 * Keys are per proxy instance.
 */
import { createHash } from 'node:crypto';
import type { MsgContext } from '../src/context/msg-context.js';
import { ModuleKey } from '../src/context/module-state.js';
import { str } from './args.js';
import { defineModule, type KemiExport, type ModuleEnv, type RpcTable } from './types.js';

export interface XKey {
  id: string;
  name: string;
  value: string;
  /** Unix time the key expires (0 when not given), as Kamailio stores it. */
  expires: number;
}

export class XKeysState {
  /** Groups by id (lower case), in Kamailio's list order; each group newest key first. */
  readonly groups = new Map<string, XKey[]>();

  /** authx_xkey_insert: a new id goes to the front; a known id gets the key in front of its group. */
  insert(k: XKey): void {
    const id = k.id.toLowerCase();
    const g = this.groups.get(id);
    if (g) g.unshift(k);
    else {
      const rest = [...this.groups];
      this.groups.clear();
      this.groups.set(id, [k]);
      for (const [i, v] of rest) this.groups.set(i, v);
    }
  }
}

export const AUTH_XKEYS = new ModuleKey<XKeysState>('auth_xkeys');
const st = (ctx: MsgContext): XKeysState => AUTH_XKEYS.of(ctx);

/** authx_xkey_add_params: one `xkey` value. */
export function parseXKey(spec: string, now = Date.now()): XKey {
  const k: XKey = { id: '', name: '', value: '', expires: 0 };
  for (const part of spec.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const body = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (name === 'id') k.id = body;
    else if (name === 'name') k.name = body;
    else if (name === 'value') k.value = body;
    else if (name === 'expires') k.expires = Math.floor(now / 1000) + (Number.parseInt(body, 10) || 0);
  }
  if (!k.id || !k.name || !k.value) {
    throw new Error(`auth_xkeys: invalid parameters (${k.id.length}/${k.name.length}/${k.value.length}) in xkey '${spec}'`);
  }
  return k;
}

function init(env: ModuleEnv): XKeysState {
  const state = new XKeysState();
  const v = env.params['xkey'];
  if (v !== undefined) {
    for (const line of String(v).split(/\r?\n/)) if (line.trim()) state.insert(parseXKey(line.trim()));
  }
  return state;
}

const ALGS: Readonly<Record<string, string>> = { sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };

function digest(alg: string, key: string, data: string): string {
  return createHash(alg).update(Buffer.from(`${key}:${data}`, 'latin1')).digest('hex');
}

function group(ctx: MsgContext, id: string): XKey[] | null {
  const s = st(ctx);
  if (s.groups.size === 0) {
    ctx.proxy.log(ctx, 'err', 'auth_xkeys: no stored keys');
    return null;
  }
  return s.groups.get(id.toLowerCase()) ?? null;
}

function add(ctx: MsgContext, hdr: string, id: string, alg: string, data: string): number {
  const g = group(ctx, id);
  if (!g) return -1;
  const a = ALGS[alg.toLowerCase()];
  if (!a) {
    ctx.proxy.log(ctx, 'err', `auth_xkeys: unknown algorithm [${alg}]`);
    return -1;
  }
  ctx.msg.appendHeader(`${hdr}: ${digest(a, g[0]!.value, data)}\r\n`);
  return 1;
}

const HEX_LENGTHS = new Set([64, 96, 128]);

function check(ctx: MsgContext, hdr: string, id: string, alg: string, data: string): number {
  if (st(ctx).groups.size === 0) {
    ctx.proxy.log(ctx, 'err', 'auth_xkeys: no stored keys');
    return -1;
  }
  const body = ctx.msg.header(hdr)?.trim();
  if (!body || !HEX_LENGTHS.has(body.length)) return -1;
  const g = group(ctx, id);
  if (!g) return -1;
  const a = ALGS[alg.toLowerCase()];
  if (!a) {
    ctx.proxy.log(ctx, 'err', `auth_xkeys: unknown algorithm [${alg}]`);
    return -1;
  }
  if (body.length !== { sha256: 64, sha384: 96, sha512: 128 }[a]) return -1;
  const want = body.toLowerCase();
  return g.some((k) => digest(a, k.value, data) === want) ? 1 : -1;
}

function rpc(state: XKeysState): RpcTable {
  return {
    'auth_xkeys_.list': () => {
      if (state.groups.size === 0) throw new Error('No keys');
      return [...state.groups.values()].map((g) => ({
        KID: g[0]!.id,
        KEYS: g.map((k) => ({ KEY: { NAME: k.name, VALUE: k.value, EXPIRES: k.expires } })),
      }));
    },
    'auth_xkeys_.set': (params) => {
      const [id, name, value, expires] = params.map((p) => String(p ?? ''));
      if (!id || !name || !value || expires === undefined) throw new Error('Invalid Parameters');
      const g = state.groups.get(id.toLowerCase());
      const secs = Number.parseInt(expires, 10) || 0;
      if (!g) state.insert({ id, name, value, expires: secs });
      else g[0]!.expires = Math.floor(Date.now() / 1000) + secs;
      return null;
    },
  };
}

const exports: KemiExport[] = [
  { name: 'auth_xkeys_add', params: ['str', 'str', 'str', 'str'], ret: 'int', fn: (ctx, h, k, a, d) => add(ctx, str(h), str(k), str(a), str(d)) },
  { name: 'auth_xkeys_check', params: ['str', 'str', 'str', 'str'], ret: 'int', fn: (ctx, h, k, a, d) => check(ctx, str(h), str(k), str(a), str(d)) },
];

export default defineModule<XKeysState>('auth_xkeys', exports, { key: AUTH_XKEYS, init, rpc });
