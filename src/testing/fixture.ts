/**
 * State a test starts from: subscribers, usrloc contacts, htable items, dispatcher sets and
 * address groups, written through the StateStore interface in the layout the modules read
 * (src/state/store.ts, the README's key table). Written before the proxy starts, so modules that
 * load at init (dispatcher, permissions) see them as they see a Redis an operator filled.
 */
import type { StateStore } from '../state/store.js';
import { Usrloc, newRuid, nextRegSeq, type UlContact } from '../state/usrloc.js';

/** A usrloc contact: its URI, or the URI with the fields a test cares about. */
export type ContactFixture = string | (Partial<UlContact> & { contact: string; /** seconds from now, default 3600 */ expiresIn?: number });

export interface StateFixture {
  /** `user@domain` (or `user`) -> password, or {password} / {ha1} / {ha1b} (auth_db). */
  subscribers?: Record<string, string | { password?: string; ha1?: string; ha1b?: string }>;
  /** AOR -> contacts in the `location` table (usrloc use_domain 0: the user part only). */
  contacts?: Record<string, ContactFixture[]>;
  /** Other usrloc tables: table -> AOR -> contacts. */
  usrloc?: Record<string, Record<string, ContactFixture[]>>;
  /** htable name -> key -> value (a number is an integer item). */
  htable?: Record<string, Record<string, string | number>>;
  /** dispatcher set id -> destination URIs, or {uri, flags, priority, attrs}. */
  dispatcher?: Record<string, (string | { uri: string; flags?: number; priority?: number; attrs?: string })[]>;
  /** permissions address group -> `ip[/mask][:port]` or a domain name, or {address, tag}. */
  addresses?: Record<string, (string | { address: string; tag?: string })[]>;
}

const KEYS = new Set(['subscribers', 'contacts', 'usrloc', 'htable', 'dispatcher', 'addresses']);

/** htable's own encoding of an item (kemi/htable.ts): integers bare, strings that look like one prefixed. */
function htValue(v: string | number): string {
  if (typeof v === 'number') return String(Math.trunc(v));
  return /^-?\d+$/.test(v) || v.startsWith('s:') ? `s:${v}` : v;
}

function contactOf(f: ContactFixture, nowSec: number): UlContact {
  const o = typeof f === 'string' ? { contact: f } : f;
  const { expiresIn, ...rest } = o as Partial<UlContact> & { contact: string; expiresIn?: number };
  return {
    expires: nowSec + (expiresIn ?? 3600), q: -1, callid: 'harness-fixture', cseq: 1, path: null, received: null, socket: null,
    user_agent: null, instance: null, reg_id: 0, flags: 0, ruid: newRuid(), last_modified: nowSec, reg_seq: nextRegSeq(),
    ...rest,
  };
}

/** Checks a fixture's shape (a JSON scenario file is untyped): unknown sections are an error. */
export function checkFixture(f: unknown, where = 'state'): StateFixture {
  if (f === undefined || f === null) return {};
  if (typeof f !== 'object' || Array.isArray(f)) throw new Error(`${where}: expected an object`);
  for (const k of Object.keys(f)) if (!KEYS.has(k)) throw new Error(`${where}: unknown section '${k}' (${[...KEYS].join(', ')})`);
  return f as StateFixture;
}

export async function seedState(store: StateStore, f: StateFixture): Promise<void> {
  const nowSec = Math.floor(Date.now() / 1000);
  for (const [id, v] of Object.entries(f.subscribers ?? {})) {
    await store.set('subscriber', id, typeof v === 'string' ? v : JSON.stringify(v));
  }
  const tables: Record<string, Record<string, ContactFixture[]>> = { ...(f.usrloc ?? {}) };
  if (f.contacts) tables.location = { ...(tables.location ?? {}), ...f.contacts };
  for (const [table, aors] of Object.entries(tables)) {
    const ul = new Usrloc(store, table);
    for (const [aor, list] of Object.entries(aors)) for (const c of list) await ul.put(aor.toLowerCase(), contactOf(c, nowSec));
  }
  for (const [table, items] of Object.entries(f.htable ?? {})) {
    for (const [key, v] of Object.entries(items)) await store.set(`ht:${table}`, key, htValue(v));
  }
  for (const [set, dsts] of Object.entries(f.dispatcher ?? {})) {
    for (const d of dsts) {
      const o = typeof d === 'string' ? { uri: d } : d;
      await store.mapSet('ds', set, o.uri, JSON.stringify({ flags: o.flags ?? 0, priority: o.priority ?? 0, attrs: o.attrs ?? '' }));
    }
  }
  for (const [group, list] of Object.entries(f.addresses ?? {})) {
    for (const a of list) {
      const o = typeof a === 'string' ? { address: a } : a;
      await store.mapSet('address', group, o.address, o.tag ? JSON.stringify({ tag: o.tag }) : '');
    }
  }
}
