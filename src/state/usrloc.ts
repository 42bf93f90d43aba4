/**
 * usrloc: the location table behind KSR.registrar, on the shared StateStore.
 *
 * Layout (namespace `ul:<table>`, e.g. `ul:location`): one map key per AOR (`alice`, or
 * `alice@example.org` with use_domain), one field per contact (the +sip.instance/reg-id pair when
 * the UA sent one, else the Contact URI), each value a JSON UlContact. With Redis that is the hash
 * `kemi:ul:location:<aor>`; the hash expires with its longest-lived contact and each contact's own
 * `expires` is checked on read, so an expired contact is never returned.
 */
import { randomBytes } from 'node:crypto';
import type { Awaitable, StateStore } from './store.js';

export interface UlContact {
  /** Contact URI as registered. */
  c: string;
  /** Unix time (s) when it expires. */
  expires: number;
  /** q-value in thousandths (1000 = 1.0); -1 when the UA gave none. */
  q: number;
  callid: string;
  cseq: number;
  /** Path header values (RFC 3327), comma-joined, or null. */
  path: string | null;
  /** Source address the REGISTER came from when NAT handling asked for it (`sip:ip:port;transport=x`). */
  received: string | null;
  /** Local socket it arrived on (`udp:127.0.0.1:5060`). */
  socket: string | null;
  ua: string | null;
  instance: string | null;
  regId: number;
  /** Branch flags to restore on lookup. */
  cflags: number;
  ruid: string;
  /** Unix time (s) of the last update. */
  modified: number;
}

const now = (): number => Math.floor(Date.now() / 1000);

export function contactKey(c: Pick<UlContact, 'c' | 'instance' | 'regId'>): string {
  return c.instance ? `${c.instance};reg-id=${c.regId}` : c.c;
}

export function newRuid(): string {
  return `uloc-${randomBytes(6).toString('hex')}`;
}

function decode(v: string): UlContact | null {
  try {
    const c = JSON.parse(v) as UlContact;
    return typeof c.c === 'string' && typeof c.expires === 'number' ? c : null;
  } catch {
    return null;
  }
}

/** Highest q first (no q counts as lowest), then the most recently updated. */
export function byPreference(a: UlContact, b: UlContact): number {
  return b.q - a.q || b.modified - a.modified;
}

export class Usrloc {
  private readonly ns: string;

  constructor(private readonly store: StateStore, table: string) {
    this.ns = `ul:${table}`;
  }

  /** Live contacts of an AOR, best first. */
  get(aor: string): Awaitable<UlContact[]> {
    const all = this.store.mapGetAll(this.ns, aor);
    const pick = (m: Record<string, string>): UlContact[] => {
      const t = now();
      const out: UlContact[] = [];
      for (const v of Object.values(m)) {
        const c = decode(v);
        if (c && c.expires > t) out.push(c);
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
