/**
 * The Redis state backend (ioredis): several kemi-proxy processes or hosts share usrloc, htables,
 * subscribers and the rest. Single node `redis://[:pass@]host:port/db` (or `rediss://`), or Redis
 * Cluster `redis+cluster://host:port,host:port`.
 *
 * Key layout, so an operator can read and write it with redis-cli:
 *   kemi:<ns>:<key>   a string value (SET ... EX for expiry), e.g. kemi:subscriber:alice@example.org,
 *                     kemi:ht:ipban:192.0.2.7
 *   kemi:<ns>:<key>   a hash for map values, e.g. kemi:ul:location:alice (field = contact key,
 *                     value = JSON contact); the hash expires with its longest-lived field.
 * Reads go to Redis every time, so what an operator writes is seen at once.
 *
 * Redis down or slow never stalls call processing: no offline queue (a command while disconnected
 * fails at once), every command bounded by commandTimeout (500 ms), failures reject with
 * StateError and are counted; ioredis reconnects by itself and the state changes are logged once
 * per transition.
 */
import { createRequire } from 'node:module';
import type { Redis, Cluster, RedisOptions } from 'ioredis';
import { StateError, type StateStore } from './store.js';

// ioredis is CommonJS; loading it with require works the same under Node and under vitest's
// module runner (whose ESM interop of its named exports fails).
const ioredis = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');

type Log = (level: 'info' | 'warn' | 'err', text: string) => void;

const PREFIX = 'kemi:';
const COMMAND_TIMEOUT_MS = 500;

/** HSET a field and make the hash live at least ttl seconds more (never shortens it). */
const MAP_SET = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  local cur = redis.call('TTL', KEYS[1])
  if cur < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
end
return 1`;

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

export class RedisStore implements StateStore {
  readonly kind = 'redis' as const;
  errors = 0;
  private up = false;

  private constructor(private readonly client: Redis | Cluster, private readonly log: Log, private readonly where: string) {
    client.on('ready', () => {
      if (!this.up) log('info', `redis ${where}: connected`);
      this.up = true;
    });
    const down = (why: string): void => {
      if (this.up) log('warn', `redis ${where}: connection lost (${why}); reconnecting`);
      this.up = false;
    };
    client.on('error', (e: Error) => down(e.message));
    client.on('close', () => down('closed'));
  }

  static async connect(url: string, log: Log): Promise<RedisStore> {
    const common: RedisOptions = {
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(100 * times, 2000),
      lazyConnect: true,
    };
    let client: Redis | Cluster;
    let where: string;
    if (url.startsWith('redis+cluster://')) {
      const nodes = url.slice('redis+cluster://'.length).split(',').map((hp) => {
        const [host, port] = hp.split(':');
        return { host: host || '127.0.0.1', port: Number(port) || 6379 };
      });
      where = nodes.map((n) => `${n.host}:${n.port}`).join(',');
      client = new ioredis.Cluster(nodes, { redisOptions: common, enableOfflineQueue: false, lazyConnect: true, clusterRetryStrategy: (t: number) => Math.min(100 * t, 2000) });
    } else {
      const u = new URL(url);
      where = `${u.hostname}:${u.port || 6379}`;
      client = new ioredis.Redis(url, common);
    }
    const store = new RedisStore(client, log, where);
    try {
      await client.connect();
    } catch (e) {
      // Not fatal: calls fail (and are counted) until the client's own reconnect succeeds.
      log('err', `redis ${where}: cannot connect at startup (${e instanceof Error ? e.message : String(e)}); retrying in the background`);
    }
    return store;
  }

  private k(ns: string, key: string): string {
    return `${PREFIX}${ns}:${key}`;
  }

  private async run<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      this.errors++;
      throw new StateError(`redis ${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  get(ns: string, key: string): Promise<string | null> {
    return this.run('GET', () => this.client.get(this.k(ns, key)));
  }

  set(ns: string, key: string, value: string, ttlSec = 0): Promise<void> {
    return this.run('SET', async () => {
      if (ttlSec > 0) await this.client.set(this.k(ns, key), value, 'EX', Math.ceil(ttlSec));
      else await this.client.set(this.k(ns, key), value);
    });
  }

  setIfAbsent(ns: string, key: string, value: string, ttlSec = 0): Promise<boolean> {
    return this.run('SET NX', async () => {
      const r = ttlSec > 0
        ? await this.client.set(this.k(ns, key), value, 'EX', Math.ceil(ttlSec), 'NX')
        : await this.client.set(this.k(ns, key), value, 'NX');
      return r === 'OK';
    });
  }

  del(ns: string, key: string): Promise<void> {
    return this.run('DEL', async () => {
      await this.client.del(this.k(ns, key));
    });
  }

  incr(ns: string, key: string, by: number, ttlSec = 0): Promise<number> {
    return this.run('INCRBY', async () => {
      const k = this.k(ns, key);
      const n = await this.client.incrby(k, by);
      if (ttlSec > 0) await this.client.expire(k, Math.ceil(ttlSec));
      return n;
    });
  }

  ttl(ns: string, key: string): Promise<number> {
    return this.run('TTL', () => this.client.ttl(this.k(ns, key)));
  }

  /** Keys of one Redis type under kemi:<ns>: (SCAN on every master of a cluster). */
  private async scan(ns: string, type: 'string' | 'hash'): Promise<string[]> {
    const match = `${PREFIX}${globEscape(ns)}:*`;
    const nodes: Redis[] = this.client instanceof ioredis.Cluster ? this.client.nodes('master') : [this.client];
    const out: string[] = [];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000, 'TYPE', type);
        cursor = next;
        out.push(...keys);
      } while (cursor !== '0');
    }
    return out;
  }

  entries(ns: string): Promise<[string, string][]> {
    return this.run('SCAN', async () => {
      const keys = await this.scan(ns, 'string');
      const cut = PREFIX.length + ns.length + 1;
      const out: [string, string][] = [];
      for (let i = 0; i < keys.length; i += 500) {
        const part = keys.slice(i, i + 500);
        // MGET needs one slot in a cluster: fetch one by one there.
        const vals = this.client instanceof ioredis.Cluster ? await Promise.all(part.map((k) => this.client.get(k))) : await this.client.mget(part);
        part.forEach((k, j) => {
          const v = vals[j];
          if (v !== null && v !== undefined) out.push([k.slice(cut), v]);
        });
      }
      return out;
    });
  }

  clear(ns: string): Promise<void> {
    return this.run('SCAN/DEL', async () => {
      const keys = [...(await this.scan(ns, 'string')), ...(await this.scan(ns, 'hash'))];
      for (const k of keys) await this.client.del(k);
    });
  }

  mapGetAll(ns: string, key: string): Promise<Record<string, string>> {
    return this.run('HGETALL', () => this.client.hgetall(this.k(ns, key)));
  }

  mapSet(ns: string, key: string, field: string, value: string, ttlSec = 0): Promise<void> {
    return this.run('HSET', async () => {
      await this.client.eval(MAP_SET, 1, this.k(ns, key), field, value, String(Math.ceil(ttlSec)));
    });
  }

  mapDel(ns: string, key: string, field: string): Promise<void> {
    return this.run('HDEL', async () => {
      await this.client.hdel(this.k(ns, key), field);
    });
  }

  mapKeys(ns: string): Promise<string[]> {
    return this.run('SCAN', async () => {
      const cut = PREFIX.length + ns.length + 1;
      return (await this.scan(ns, 'hash')).map((k) => k.slice(cut));
    });
  }

  async close(): Promise<void> {
    this.client.removeAllListeners('error');
    this.client.on('error', () => undefined);
    this.client.disconnect();
  }
}
