/**
 * usrloc: the location table behind KSR.registrar, on the shared StateStore (any backend; only the
 * StateStore interface is used).
 *
 * Layout: namespace `ul:<table>` (`ul:location` for save("location", ...)); one map key per AOR
 * (`alice`, or `alice@example.org` with usrloc use_domain=1); one field per contact, named by its
 * contact key: `<+sip.instance>;reg-id=<n>` when the UA sent +sip.instance, else the Contact URI.
 * Each value is JSON:
 *
 *   {"contact":"sip:alice@192.0.2.1:5060","expires":1767225600,"q":0.5,"callid":"abc","cseq":2,
 *    "path":null,"received":null,"socket":"udp:127.0.0.1:5060","user_agent":"X","instance":null,
 *    "reg_id":0,"flags":0,"ruid":"uloc-...","last_modified":1767222000,"methods":4294967295,
 *    "reg_seq":1767222000000000}
 *
 * `expires` is absolute unix time (s); `q` is 0..1, or -1 when the UA gave none (Kamailio's
 * Q_UNSPECIFIED, ordered below q=0); `flags` are the branch flags restored on lookup (Kamailio's
 * cflags); `methods` the Allow / methods= bitmask (Kamailio's METHOD_* bits; absent: all); `reg_seq` the
 * order of the contact's first registration (nextRegSeq(), kept across refreshes; absent: 0, before
 * any that has one). With Redis that is the hash `kemi:ul:location:<aor>`; the hash expires with its
 * longest-lived contact. A contact whose `expires` has passed is never returned, and a read that
 * finds one deletes it.
 */
import { randomBytes } from 'node:crypto';
import type { Awaitable, StateStore } from './store.js';

export interface UlContact {
  /** Contact URI as registered. */
  contact: string;
  /** Unix time (s) when it expires. */
  expires: number;
  /** q-value 0..1; -1 when the UA gave none. */
  q: number;
  callid: string;
  cseq: number;
  /** Path header values (RFC 3327), comma-joined, or null. */
  path: string | null;
  /** Where the REGISTER really came from (received_avp, e.g. `sip:198.51.100.7:40000`), or null. */
  received: string | null;
  /** Local socket it arrived on (`udp:127.0.0.1:5060`). */
  socket: string | null;
  user_agent: string | null;
  /** +sip.instance (RFC 5626), quotes removed, or null. */
  instance: string | null;
  reg_id: number;
  /** Branch flags to restore on lookup (Kamailio's cflags). */
  flags: number;
  /** Methods the UA accepts (Allow / methods= bitmask, Kamailio's METHOD_* bits); absent: all. */
  methods?: number;
  /** Record unique id (unregister_ruid, $ulc(...=>ruid)). */
  ruid: string;
  /** Unix time (s) of the last update. */
  last_modified: number;
  /**
   * When the contact was first registered, as nextRegSeq() gave it (a refresh keeps it): the order
   * of contacts of equal q. Values stored before it existed read as 0.
   */
  reg_seq: number;
}

const now = (): number => Math.floor(Date.now() / 1000);

export function contactKey(c: Pick<UlContact, 'contact' | 'instance' | 'reg_id'>): string {
  return c.instance ? `${c.instance};reg-id=${c.reg_id}` : c.contact;
}

let lastRegSeq = 0;

/**
 * A number larger than any this process gave before and, across processes and hosts sharing a
 * store, in the order of registration up to their clocks' skew: microseconds since the epoch,
 * bumped by one when two registrations fall in the same microsecond.
 */
export function nextRegSeq(): number {
  lastRegSeq = Math.max(lastRegSeq + 1, Date.now() * 1000);
  return lastRegSeq;
}

export function newRuid(): string {
  return `uloc-${randomBytes(6).toString('hex')}`;
}

/** A stored value, tolerant of missing optional fields (values written by hand with redis-cli). */
function decode(v: string): UlContact | null {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(v) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (o === null || typeof o !== 'object' || typeof o.contact !== 'string' || typeof o.expires !== 'number') return null;
  const s = (x: unknown): string | null => (typeof x === 'string' ? x : null);
  const n = (x: unknown, d: number): number => (typeof x === 'number' && Number.isFinite(x) ? x : d);
  return {
    contact: o.contact, expires: o.expires, q: n(o.q, -1), callid: s(o.callid) ?? '', cseq: n(o.cseq, 0),
    path: s(o.path), received: s(o.received), socket: s(o.socket), user_agent: s(o.user_agent),
    instance: s(o.instance), reg_id: n(o.reg_id, 0), flags: n(o.flags, 0), ruid: s(o.ruid) ?? '',
    last_modified: n(o.last_modified, 0), methods: n(o.methods, 0xffffffff), reg_seq: n(o.reg_seq, 0),
  };
}

/**
 * Highest q first (no q counts as lowest); equal q in the order they were first registered
 * (`reg_seq`), as usrloc's list with desc_time_order=0 (Kamailio's default): a new contact goes
 * after those of its q, and a refresh does not move one. (Ordering equal q by last update instead
 * put a contact registered a second later first, unlike Kamailio.) Not the store's order: a Redis
 * hash returns its fields in insertion order only while it is a listpack (by default at most 128
 * fields of at most 64 bytes; a contact's JSON is longer). Sort is stable: values stored without reg_seq (read as 0) keep the store's order among
 * themselves.
 */
export function byPreference(a: UlContact, b: UlContact): number {
  return b.q - a.q || a.reg_seq - b.reg_seq;
}

function ignore(v: Awaitable<void>): void {
  if (v instanceof Promise) v.catch(() => undefined);
}

export class Usrloc {
  readonly ns: string;

  constructor(private readonly store: StateStore, readonly table: string) {
    this.ns = `ul:${table}`;
  }

  /** Live contacts of an AOR, best first; expired ones found on the way are deleted. */
  get(aor: string): Awaitable<UlContact[]> {
    const all = this.store.mapGetAll(this.ns, aor);
    const pick = (m: Record<string, string>): UlContact[] => {
      const t = now();
      const out: UlContact[] = [];
      for (const [field, v] of Object.entries(m)) {
        const c = decode(v);
        if (c && c.expires > t) out.push(c);
        else if (c) ignore(this.store.mapDel(this.ns, aor, field));
      }
      return out.sort(byPreference);
    };
    return all instanceof Promise ? all.then(pick) : pick(all);
  }

  put(aor: string, c: UlContact): Awaitable<void> {
    return this.store.mapSet(this.ns, aor, contactKey(c), JSON.stringify(c), Math.max(1, c.expires - now()));
  }

  remove(aor: string, c: UlContact): Awaitable<void> {
    return this.store.mapDel(this.ns, aor, contactKey(c));
  }

  /** Every AOR with at least one stored contact (expired ones may still be listed). */
  aors(): Awaitable<string[]> {
    return this.store.mapKeys(this.ns);
  }
}
