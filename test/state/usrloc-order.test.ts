/**
 * The order of an AOR's contacts (registrar replies, lookup's R-URI and branches): highest q first,
 * and contacts of equal q in the order they were first registered, as Kamailio's usrloc keeps its
 * list with desc_time_order=0. A contact registered a second after another must not come first,
 * and the order must not depend on the store's: a Redis hash whose values are longer than
 * hash-max-listpack-value (64 bytes; a contact's JSON is about 300) or that has more than 128
 * fields is a hashtable, and HGETALL returns it in hash order.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/state/memory-store.js';
import { openStore } from '../../src/state/open-store.js';
import type { StateStore } from '../../src/state/store.js';
import { Usrloc, newRuid, nextRegSeq, type UlContact } from '../../src/state/usrloc.js';
import { startRedis, type RedisHandle } from '../e2e/redis-server.js';

const stores: StateStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await redis?.stop();
});

/** A contact as registrar's save makes it: a new one gets the next reg_seq, a refresh keeps its own. */
function contact(uri: string, q: number, lastModified: number, regSeq = nextRegSeq()): UlContact {
  const t = Math.floor(Date.now() / 1000);
  return {
    contact: uri, expires: t + 3600, q, callid: 'c1', cseq: 1, path: null, received: null, socket: null,
    user_agent: null, instance: null, reg_id: 0, flags: 0, ruid: newRuid(), last_modified: lastModified, reg_seq: regSeq,
  };
}

async function open(kind: 'memory' | 'redis'): Promise<StateStore> {
  const store = kind === 'memory' ? new MemoryStore() : await openStore(redis.url, () => undefined);
  stores.push(store);
  return store;
}

describe('usrloc contact order', () => {
  for (const kind of ['memory', 'redis'] as const) {
    it(`equal q keep the order of first registration, across refreshes; a higher q goes first (${kind})`, async () => {
      const ul = new Usrloc(await open(kind), 'location');
      const t = Math.floor(Date.now() / 1000);
      const first = contact('sip:alice@192.0.2.1:5073', -1, t - 10);
      await ul.put('alice', first);
      await ul.put('alice', contact('sip:alice@192.0.2.1:5074', -1, t));
      await ul.put('alice', contact('sip:alice@192.0.2.1:5072', 0.9, t - 5));
      const uris = async (): Promise<string[]> => (await ul.get('alice')).map((c) => c.contact);
      expect(await uris()).toEqual(['sip:alice@192.0.2.1:5072', 'sip:alice@192.0.2.1:5073', 'sip:alice@192.0.2.1:5074']);
      // A refresh of the first one (updated last) does not move it.
      await ul.put('alice', contact('sip:alice@192.0.2.1:5073', -1, t + 1, first.reg_seq));
      expect(await uris()).toEqual(['sip:alice@192.0.2.1:5072', 'sip:alice@192.0.2.1:5073', 'sip:alice@192.0.2.1:5074']);
    });

    it(`keeps registration order with 300 contacts of equal q (${kind})`, async () => {
      const ul = new Usrloc(await open(kind), 'location');
      const t = Math.floor(Date.now() / 1000);
      const registered = Array.from({ length: 300 }, (_, i) => `sip:bob@198.51.100.${1 + (i % 250)}:${5000 + i}`);
      for (const uri of registered) await ul.put('bob', contact(uri, 0.5, t));
      expect((await ul.get('bob')).map((c) => c.contact)).toEqual(registered);
    });
  }

  it('nextRegSeq only grows, also within one millisecond', () => {
    const seqs = Array.from({ length: 5000 }, () => nextRegSeq());
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
  });
});
