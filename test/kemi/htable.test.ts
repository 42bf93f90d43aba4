/** KSR.htable on the embedded state and on a real redis-server (KSR.pike: test/kemi/pike.test.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import htable from '../../kemi/htable.js';
import pv from '../../kemi/pv.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import { RedisStore } from '../../src/state/redis-store.js';
import type { StateStore } from '../../src/state/store.js';
import type { KemiArg, KemiModule } from '../../kemi/types.js';
import type { MsgContext } from '../../src/context/msg-context.js';
import { startRedis, type RedisHandle } from '../e2e/redis-server.js';
import { expandFormat } from '../../src/pv/registry.js';
import { call as sync, context, loadModule, services, testEnv } from './helpers.js';

async function call(m: KemiModule, name: string, ctx: MsgContext, ...args: KemiArg[]): Promise<unknown> {
  const e = m.exports.find((x) => x.name === name);
  if (!e) throw new Error(`${m.name}.${name} is not exported`);
  return e.fn(ctx, ...args);
}

async function init<S>(m: KemiModule<S>, state: StateStore, params: Record<string, string | number>): Promise<void> {
  await loadModule(m, testEnv({ params, allParams: {}, state, proxy: services({ replies: [], forwards: [], logs: [] }), log: () => undefined }));
}

// `npm run test:unit` (KEMI_TEST_UNIT) runs the embedded backend only; `npm test` both.
const withRedis = !process.env.KEMI_TEST_UNIT;
let redis: RedisHandle;
let rs: RedisStore;
beforeAll(async () => {
  if (!withRedis) return;
  redis = await startRedis();
  rs = await RedisStore.connect(redis.url, () => undefined);
});
afterAll(async () => {
  await rs?.close();
  await redis?.stop();
});

for (const kind of withRedis ? (['memory', 'redis'] as const) : (['memory'] as const)) {
  describe(`KSR.htable on ${kind}`, () => {
    it('gets, sets, counts, matches, expires, iterates and removes', async () => {
      const state = kind === 'memory' ? new MemoryStore() : rs;
      await init(htable, state, { htable: 'ipban=>size=8;autoexpire=1;', htable2: 'cnt=>initval=10;\nnames=>size=4;' });
      const { ctx } = context();
      const h = (n: string, ...a: KemiArg[]) => call(htable, n, ctx, ...a);
      await h('sht_reset', 'ipban');
      await h('sht_reset', 'cnt');
      await h('sht_reset', 'names');
      expect(await h('sht_get', 'ipban', '192.0.2.9')).toBeNull();
      expect(await h('sht_gete', 'ipban', '192.0.2.9')).toBe('');
      expect(await h('sht_getw', 'ipban', '192.0.2.9')).toBe('<null>');
      expect(await h('sht_seti', 'ipban', '192.0.2.9', 1)).toBe(1);
      expect(await h('sht_match_name', 'ipban', 'eq', '192.0.2.9')).toBe(1);
      expect(await h('sht_match_name', 'ipban', 'sw', '192.0.2.')).toBe(1);
      expect(await h('sht_match_name', 'ipban', 'eq', '192.0.2.10')).toBe(-1);
      expect(await h('sht_get', 'ipban', '192.0.2.9')).toBe(1);
      expect(await h('sht_inc', 'cnt', 'a')).toBe(11);
      expect(await h('sht_dec', 'cnt', 'a')).toBe(10);
      expect(await h('sht_get', 'cnt', 'missing')).toBe(10);
      expect(await h('sht_is_null', 'cnt', 'missing')).toBe(-2);
      expect(await h('sht_is_null', 'names', 'x')).toBe(1);
      expect(await h('sht_is_null', 'nosuch', 'x')).toBe(2);
      expect(await h('sht_sets', 'names', 'x', '42')).toBe(1);
      expect(await h('sht_get', 'names', 'x')).toBe('42');
      expect(await h('sht_inc', 'names', 'x')).toBe(-255);
      expect(await h('sht_inc', 'nosuch', 'x')).toBe(-255);
      expect(await h('sht_sets', 'names', 'y', 'hello')).toBe(1);
      expect(await h('sht_match_str_value', 'names', 're', '^hel')).toBe(1);
      expect(await h('sht_iterator_start', 'it', 'names')).toBe(1);
      const seen: unknown[] = [];
      while ((await h('sht_iterator_next', 'it')) === 1) seen.push([sync(pv, 'get', ctx, '$shtitkey(it)'), sync(pv, 'get', ctx, '$shtitval(it)')]);
      expect(seen.sort()).toEqual([['x', '42'], ['y', 'hello']]);
      expect(await h('sht_iterator_end', 'it')).toBe(1);
      expect(await h('sht_rm_name_re', 'names', '^x$')).toBe(1);
      expect(await h('sht_get', 'names', 'x')).toBeNull();
      expect(await h('sht_setxs', 'names', 'tmp', 'v', 1)).toBe(1);
      expect(await h('sht_rm', 'names', 'y')).toBe(1);
      // sht_lock: recursive for the message holding it; another message waits until it is released.
      const other = context().ctx;
      expect(await h('sht_lock', 'names', 'k')).toBe(1);
      expect(await h('sht_lock', 'names', 'k')).toBe(1);
      let got: unknown = 'waiting';
      const waiting = Promise.resolve(call(htable, 'sht_lock', other, 'names', 'k')).then((r) => (got = r));
      await new Promise((r) => setTimeout(r, 50));
      expect(got).toBe('waiting');
      expect(await h('sht_unlock', 'names', 'k')).toBe(1);
      await new Promise((r) => setTimeout(r, 30));
      expect(got).toBe('waiting'); // still held once
      expect(await h('sht_unlock', 'names', 'k')).toBe(1);
      await waiting;
      expect(got).toBe(1);
      expect(await call(htable, 'sht_unlock', other, 'names', 'k')).toBe(1);
      expect(await h('sht_lock', 'nosuch', 'k')).toBe(-1);
      // KSR.pv reads and writes $sht on either backend (on Redis the coroutine waits).
      expect(await call(pv, 'sets', ctx, '$sht(names=>p)', 'pv')).toBe(true);
      expect(await call(pv, 'get', ctx, '$sht(names=>p)')).toBe('pv');
      expect(await call(pv, 'get', ctx, '$shtinc(cnt=>b)')).toBe(11);
      expect(await call(pv, 'get', ctx, '$(sht(names=>p){s.len})')).toBe(2);
      expect(await call(pv, 'get', ctx, '$shtcn(names=>~~^p$)')).toBe(1);
      if (kind === 'redis') {
        // A format string (xlog) reads synchronously: on Redis the PV cannot be expanded there.
        expect(expandFormat(ctx, '$sht(names=>p)')).toBe('$sht(names=>p)');
      }
      await new Promise((r) => setTimeout(r, 1100));
      expect(await h('sht_get', 'ipban', '192.0.2.9')).toBeNull();
      expect(await h('sht_get', 'names', 'tmp')).toBeNull();
    });
  });
}
