/**
 * The order of an AOR's contacts (registrar replies, lookup's R-URI and branches): highest q first,
 * and contacts of equal q in the order they were first registered, as Kamailio's usrloc keeps its
 * list with desc_time_order=0. A contact registered a second after another must not come first.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/state/memory-store.js';
import { Usrloc, newRuid, type UlContact } from '../../src/state/usrloc.js';

const stores: MemoryStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function contact(uri: string, q: number, lastModified: number): UlContact {
  const t = Math.floor(Date.now() / 1000);
  return {
    contact: uri, expires: t + 3600, q, callid: 'c1', cseq: 1, path: null, received: null, socket: null,
    user_agent: null, instance: null, reg_id: 0, flags: 0, ruid: newRuid(), last_modified: lastModified,
  };
}

describe('usrloc contact order', () => {
  it('equal q keep the order of first registration, across refreshes; a higher q goes first', async () => {
    const store = new MemoryStore();
    stores.push(store);
    const ul = new Usrloc(store, 'location');
    const t = Math.floor(Date.now() / 1000);
    await ul.put('alice', contact('sip:alice@192.0.2.1:5073', -1, t - 10));
    await ul.put('alice', contact('sip:alice@192.0.2.1:5074', -1, t));
    await ul.put('alice', contact('sip:alice@192.0.2.1:5072', 0.9, t - 5));
    const uris = async (): Promise<string[]> => (await ul.get('alice')).map((c) => c.contact);
    expect(await uris()).toEqual(['sip:alice@192.0.2.1:5072', 'sip:alice@192.0.2.1:5073', 'sip:alice@192.0.2.1:5074']);
    // A refresh of the first one (updated last) does not move it.
    await ul.put('alice', contact('sip:alice@192.0.2.1:5073', -1, t + 1));
    expect(await uris()).toEqual(['sip:alice@192.0.2.1:5072', 'sip:alice@192.0.2.1:5073', 'sip:alice@192.0.2.1:5074']);
  });
});
