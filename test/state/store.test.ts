/**
 * The StateStore contract, run against the embedded backend, a real redis-server and a real
 * three-node Redis Cluster:
 * values with expiry, setIfAbsent, incr, maps, scans; and for Redis, what happens when the server
 * goes away (bounded failures, counted) and comes back (the same client works again).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/state/memory-store.js';
import { RedisStore } from '../../src/state/redis-store.js';
import { StateError, type StateStore } from '../../src/state/store.js';
import { startRedis, startRedisCluster, type RedisClusterHandle, type RedisHandle } from '../e2e/redis-server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const logs: string[] = [];
const log = (level: string, text: string): void => void logs.push(`${level}: ${text}`);

let redis: RedisHandle;
let rs: RedisStore;
let cluster: RedisClusterHandle;
let rc: RedisStore;
beforeAll(async () => {
  redis = await startRedis();
  rs = await RedisStore.connect(redis.url, log);
  cluster = await startRedisCluster(3);
  rc = await RedisStore.connect(cluster.url, log);
}, 60_000);
afterAll(async () => {
  await rs?.close();
  await redis?.stop();
  await rc?.close();
  await cluster?.stop();
});

function contract(name: string, make: () => StateStore): void {
  describe(`${name} store`, () => {
    it('keeps values, expires them, and tells TTLs', async () => {
      const s = make();
      const ns = `t${Math.random().toString(36).slice(2)}`;
      await s.set(ns, 'a', '1');
      await s.set(ns, 'b', '2', 1);
      expect(await s.get(ns, 'a')).toBe('1');
      expect(await s.get(ns, 'b')).toBe('2');
      expect(await s.ttl(ns, 'a')).toBe(-1);
      expect(await s.ttl(ns, 'nope')).toBe(-2);
      expect(await s.setIfAbsent(ns, 'a', 'x')).toBe(false);
      expect(await s.setIfAbsent(ns, 'c', 'x', 5)).toBe(true);
      expect(await s.incr(ns, 'n', 2)).toBe(2);
      expect(await s.incr(ns, 'n', -5)).toBe(-3);
      expect((await s.entries(ns)).sort()).toEqual([['a', '1'], ['b', '2'], ['c', 'x'], ['n', '-3']]);
      await sleep(1100);
      expect(await s.get(ns, 'b')).toBeNull();
      await s.del(ns, 'a');
      expect(await s.get(ns, 'a')).toBeNull();
      await s.clear(ns);
      expect(await s.entries(ns)).toEqual([]);
    });

    it('keeps maps of fields with an expiry that only grows', async () => {
      const s = make();
      const ns = `m${Math.random().toString(36).slice(2)}`;
      await s.mapSet(ns, 'alice', 'c1', 'v1', 1);
      await s.mapSet(ns, 'alice', 'c2', 'v2', 30);
      await s.mapSet(ns, 'bob', 'c1', 'v3', 1);
      expect(await s.mapGetAll(ns, 'alice')).toEqual({ c1: 'v1', c2: 'v2' });
      expect((await s.mapKeys(ns)).sort()).toEqual(['alice', 'bob']);
      await s.mapDel(ns, 'alice', 'c1');
      expect(await s.mapGetAll(ns, 'alice')).toEqual({ c2: 'v2' });
      await sleep(1100);
      expect(await s.mapGetAll(ns, 'bob')).toEqual({});
      expect(await s.mapGetAll(ns, 'alice')).toEqual({ c2: 'v2' });
      expect(await s.mapGetAll(ns, 'nobody')).toEqual({});
    });
  });
}

contract('memory', () => new MemoryStore());
contract('redis', () => rs);
// Keys of one namespace land on different nodes: scans, clears and maps must span the masters.
contract('redis cluster', () => rc);

describe('redis store when the server goes away', () => {
  it('fails fast with StateError, counts it, and works again after the server is back', async () => {
    await rs.set('x', 'k', 'v');
    await redis.pause();
    const before = rs.errors;
    const t0 = Date.now();
    await expect(rs.get('x', 'k')).rejects.toBeInstanceOf(StateError);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(rs.errors).toBe(before + 1);
    await redis.resume();
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      await sleep(100);
      ok = await rs.set('x', 'k', 'back').then(() => true, () => false);
    }
    expect(ok).toBe(true);
    expect(await rs.get('x', 'k')).toBe('back');
    expect(logs.some((l) => l.includes('connection lost'))).toBe(true);
  }, 20_000);
});
