/** KSR.ndb_redis against a real redis-server: commands, reply types, $redis(...), failures. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ndb, { NDB_REDIS } from '../../kemi/ndb_redis.js';
import pv from '../../kemi/pv.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { KemiArg } from '../../kemi/types.js';
import type { MsgContext } from '../../src/context/msg-context.js';
import { startRedis, type RedisHandle } from '../e2e/redis-server.js';
import { call as sync, context, loadModule, services, testEnv } from './helpers.js';

async function r(ctx: MsgContext, name: string, ...a: KemiArg[]): Promise<unknown> {
  return ndb.exports.find((e) => e.name === name)!.fn(ctx, ...a);
}

let redis: RedisHandle;
let loaded: typeof NDB_REDIS.stateType | undefined;
beforeAll(async () => {
  redis = await startRedis();
  loaded = await loadModule(ndb, testEnv({ params: { server: `name=srv;addr=127.0.0.1;port=${redis.port};db=0` }, allParams: {}, state: new MemoryStore(), proxy: services({ replies: [], forwards: [], logs: [] }), log: () => undefined }));
  await new Promise((res) => setTimeout(res, 300));
});
afterAll(async () => {
  if (loaded) await ndb.close!(loaded);
  await redis?.stop();
});

describe('KSR.ndb_redis', () => {
  it('runs commands and exposes replies through $redis', async () => {
    const { ctx } = context();
    const g = (s: string) => sync(pv, 'get', ctx, s);
    expect(await r(ctx, 'redis_cmd_p2', 'srv', 'SET %s %s', 'greeting', 'hello world', 'r1')).toBe(1);
    expect(await r(ctx, 'redis_cmd_p1', 'srv', 'GET %s', 'greeting', 'r2')).toBe(1);
    expect([g('$redis(r2=>type)'), g('$redis(r2=>value)')]).toEqual([1, 'hello world']);
    expect(await r(ctx, 'redis_cmd', 'srv', 'INCRBY counter 5', 'r3')).toBe(1);
    expect([g('$redis(r3=>type)'), g('$redis(r3=>value)')]).toEqual([3, 5]);
    await r(ctx, 'redis_cmd', 'srv', 'RPUSH l a b c', 'r4');
    expect(await r(ctx, 'redis_cmd_p3', 'srv', 'LRANGE %s %s %s', 'l', '0', '-1', 'r5')).toBe(1);
    expect([g('$redis(r5=>type)'), g('$redis(r5=>size)'), g('$redis(r5=>value[1])')]).toEqual([2, 3, 'b']);
    expect(await r(ctx, 'redis_cmd', 'srv', 'GET missing', 'r6')).toBe(1);
    expect(g('$redis(r6=>type)')).toBe(4);
    expect(await r(ctx, 'redis_cmd', 'srv', 'INCR greeting', 'r7')).toBe(1);
    expect([g('$redis(r7=>type)'), String(g('$redis(r7=>info)'))]).toEqual([6, expect.stringMatching(/not an integer/)]);
    expect(await r(ctx, 'redis_free', 'r2')).toBe(1);
    expect(g('$redis(r2=>value)')).toBeNull();
    expect(await r(ctx, 'redis_cmd', 'nosrv', 'PING', 'x')).toBe(-1);
  });

  it('fails within a bounded time while the server is down, and works again after', async () => {
    const { ctx } = context();
    redis.freeze();
    try {
      const t0 = Date.now();
      expect(await r(ctx, 'redis_cmd', 'srv', 'PING', 'p')).toBe(-1);
      expect(Date.now() - t0).toBeLessThan(1500);
    } finally {
      redis.thaw();
    }
    let ok = -1;
    for (let i = 0; i < 30 && ok !== 1; i++) {
      await new Promise((res) => setTimeout(res, 100));
      ok = (await r(ctx, 'redis_cmd', 'srv', 'PING', 'p')) as number;
    }
    expect(ok).toBe(1);
    expect(sync(pv, 'get', ctx, '$redis(p=>value)')).toBe('PONG');
  }, 20_000);
});
