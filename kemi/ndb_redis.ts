/**
 * KSR.ndb_redis (src/modules/ndb_redis): a script talks to Redis directly. Servers are declared
 * with modparam ndb_redis "server" as in Kamailio: "name=srv;addr=127.0.0.1;port=6379;db=0"
 * (several: one per line, or keys server2, server3...); each gets its own connection, commands
 * are bounded in time (500 ms) and fail at once while the server is unreachable.
 *
 * redis_cmd(srv, cmd, res) splits cmd on spaces into the command's words; redis_cmd_p1..p3 take
 * a command with %s placeholders filled by whole arguments (so a value may hold spaces). Replies
 * stay on the message until redis_free: $redis(res=>type) (1 string, 2 array, 3 integer, 4 nil,
 * 6 error; status replies such as OK read as strings), $redis(res=>value), $redis(res=>value[n]),
 * $redis(res=>size), $redis(res=>info) (error text).
 * Not provided: the pipelining functions (redis_pipe_cmd*, redis_execute). ndb_redis is not in the
 * 5.6.3 export list behind kemi/catalog.ts, so they are nil here rather than named stubs.
 */
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { MsgContext, PvValue } from '../src/context/msg-context.js';
import type { PvRegistry } from '../src/pv/registry.js';
import { ModuleKey } from '../src/context/module-state.js';
import { defineModule, type KemiArg, type ModuleEnv } from './types.js';
import { str } from './args.js';

const ioredis = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');

interface Reply {
  type: number;
  value: PvValue | null;
  items: (PvValue | null)[];
  info: string | null;
}

/** One proxy instance's ndb_redis: its server connections and the replies kept per message. */
class NdbRedisState {
  readonly servers = new Map<string, Redis>();
  /** Named replies per message, until redis_free or the message is gone. */
  readonly replies = new WeakMap<MsgContext, Map<string, Reply>>();
}

export const NDB_REDIS = new ModuleKey<NdbRedisState>('ndb_redis');

function toReply(r: unknown): Reply {
  if (r === null || r === undefined) return { type: 4, value: null, items: [], info: null };
  if (typeof r === 'number') return { type: 3, value: r, items: [], info: null };
  if (Array.isArray(r)) {
    const items = r.map((x) => (x === null ? null : typeof x === 'number' ? x : Array.isArray(x) ? JSON.stringify(x) : String(x)));
    return { type: 2, value: null, items, info: null };
  }
  return { type: 1, value: String(r), items: [], info: null };
}

function store(st: NdbRedisState, ctx: MsgContext, res: string, r: Reply): void {
  let m = st.replies.get(ctx);
  if (!m) st.replies.set(ctx, (m = new Map()));
  m.set(res, r);
}

async function run(ctx: MsgContext, srv: string, words: string[], res: string): Promise<number> {
  const st = NDB_REDIS.of(ctx);
  const c = st.servers.get(srv);
  if (!c) {
    ctx.proxy.log(ctx, 'err', `ndb_redis: no server '${srv}'`);
    return -1;
  }
  const [cmd, ...args] = words;
  if (!cmd) return -1;
  try {
    store(st, ctx, res, toReply(await c.call(cmd, ...args)));
    return 1;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (e instanceof Error && e.name === 'ReplyError') {
      store(st, ctx, res, { type: 6, value: null, items: [], info: msg });
      return 1;
    }
    ctx.proxy.log(ctx, 'err', `ndb_redis ${srv}: ${msg}`);
    return -1;
  }
}

/** "SET %s %s" with arguments: the words of the format, each %s replaced by one whole argument. */
function fill(fmt: string, params: string[]): string[] {
  let i = 0;
  return fmt.trim().split(/\s+/).map((w) => w.replace(/%s/g, () => params[i++] ?? ''));
}

function parseServer(spec: string): { name: string; addr: string; port: number; db: number; pass?: string } | null {
  const kv = new Map(spec.split(';').map((p) => p.split('=').map((s) => s.trim()) as [string, string]));
  const name = kv.get('name');
  if (!name) return null;
  return { name, addr: kv.get('addr') ?? '127.0.0.1', port: Number(kv.get('port') ?? 6379), db: Number(kv.get('db') ?? 0), pass: kv.get('pass') };
}

function registerRedisPv(pvs: PvRegistry, st: NdbRedisState): void {
  const registerPv = pvs.register.bind(pvs);
  registerPv('redis', {
    get: (ctx, arg) => {
      const m = /^\s*([^=\s]+)\s*=>\s*(type|value|info|size)(?:\[(\d+)\])?\s*$/.exec(arg);
      if (!m) throw new Error(`$redis(${arg}): expected res=>type|value|info|size|value[n]`);
      const r = st.replies.get(ctx)?.get(m[1]!);
      if (!r) return null;
      switch (m[2]) {
        case 'type': return r.type;
        case 'info': return r.info;
        case 'size': return r.type === 2 ? r.items.length : 0;
        default: return m[3] !== undefined ? r.items[Number(m[3])] ?? null : r.value;
      }
    },
  });
}

/** mod_init: one connection per declared server (all specs checked before any connects). */
function init(env: ModuleEnv): NdbRedisState {
  const specs: NonNullable<ReturnType<typeof parseServer>>[] = [];
  for (const [k, v] of Object.entries(env.params)) {
    if (!k.startsWith('server')) continue;
    for (const line of String(v).split(/\r?\n/)) {
      if (!line.trim()) continue;
      const s = parseServer(line);
      if (!s) throw new Error(`ndb_redis: bad server '${line}'`);
      specs.push(s);
    }
  }
  const st = new NdbRedisState();
  for (const s of specs) {
    const c = new ioredis.Redis({
      host: s.addr, port: s.port, db: s.db, password: s.pass, lazyConnect: true,
      commandTimeout: 500, connectTimeout: 2000, enableOfflineQueue: false, maxRetriesPerRequest: 0,
      retryStrategy: (t: number) => Math.min(100 * t, 2000),
    });
    c.on('error', () => undefined);
    c.connect().catch((e: unknown) => env.log('err', `server ${s.name}: cannot connect (${String(e)}); retrying`));
    // A name declared twice: the later declaration wins, as before; the earlier connection closes.
    st.servers.get(s.name)?.disconnect();
    st.servers.set(s.name, c);
  }
  registerRedisPv(env.pvs, st);
  return st;
}

export default defineModule<NdbRedisState>('ndb_redis', [
  { name: 'redis_cmd', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, srv, cmd, res) => run(ctx, str(srv), str(cmd).trim().split(/\s+/), str(res)) },
  { name: 'redis_cmd_p1', params: ['str', 'str', 'str', 'str'], ret: 'int', fn: (ctx, srv, cmd, p1, res) => run(ctx, str(srv), fill(str(cmd), [str(p1)]), str(res)) },
  { name: 'redis_cmd_p2', params: ['str', 'str', 'str', 'str', 'str'], ret: 'int', fn: (ctx, srv, cmd, p1, p2, res) => run(ctx, str(srv), fill(str(cmd), [str(p1), str(p2)]), str(res)) },
  { name: 'redis_cmd_p3', params: ['str', 'str', 'str', 'str', 'str', 'str'], ret: 'int', fn: (ctx, srv, cmd, p1, p2, p3, res) => run(ctx, str(srv), fill(str(cmd), [str(p1), str(p2), str(p3)]), str(res)) },
  { name: 'redis_free', params: ['str'], ret: 'int', fn: (ctx, res) => (NDB_REDIS.of(ctx).replies.get(ctx)?.delete(str(res)) ? 1 : -1) },
], {
  key: NDB_REDIS,
  init,
  close: (st) => {
    for (const c of st.servers.values()) c.disconnect();
    st.servers.clear();
  },
});
