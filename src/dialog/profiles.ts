/**
 * Dialog profiles (Kamailio dlg_profile.c) kept in the shared state backend, so that
 * get_profile_size counts the dialogs of every proxy using the same Redis.
 *
 * Layout: namespace `dlgprof:<profile>`, map key `v:<value>` ('v:' for a profile without values),
 * one field per dialog (its uid), whose value is the epoch ms after which the entry no longer
 * counts: a proxy that dies leaves entries that stop counting by themselves. A live dialog
 * refreshes its entries when its timer is set again.
 */
import { andThen, type Awaitable, type StateStore } from '../state/store.js';

/** How long past the dialog's own lifetime an entry still counts (covers clock skew, late BYEs). */
const GRACE_MS = 60_000;

export interface ProfileDef {
  readonly name: string;
  readonly withValue: boolean;
}

/** Parses "a;b;c" (profiles_no_value / profiles_with_value). */
export function parseProfileList(s: string | number | undefined, withValue: boolean): ProfileDef[] {
  return String(s ?? '')
    .split(';')
    .map((x) => x.trim())
    .filter((x) => x !== '')
    .map((name) => ({ name, withValue }));
}

const ns = (profile: string): string => `dlgprof:${profile}`;
const key = (value: string): string => `v:${value}`;

export class ProfileStore {
  constructor(private readonly store: StateStore, private readonly now: () => number = Date.now) {}

  link(profile: string, value: string, uid: string, lifetimeSec: number): Awaitable<void> {
    return this.store.mapSet(ns(profile), key(value), uid, String(this.now() + lifetimeSec * 1000 + GRACE_MS), lifetimeSec + GRACE_MS / 1000);
  }

  unlink(profile: string, value: string, uid: string): Awaitable<void> {
    return this.store.mapDel(ns(profile), key(value), uid);
  }

  /** Dialogs in the profile with that value (or, value null, with any value). */
  size(profile: string, value: string | null): Awaitable<number> {
    const now = this.now();
    const live = (m: Record<string, string>): number => Object.values(m).filter((exp) => Number(exp) > now).length;
    if (value !== null) return andThen(this.store.mapGetAll(ns(profile), key(value)), live);
    const sum = (keys: string[]): Awaitable<number> => {
      const parts = keys.map((k) => this.store.mapGetAll(ns(profile), k));
      if (parts.some((p) => p instanceof Promise)) return Promise.all(parts).then((ms) => ms.reduce((n, m) => n + live(m), 0));
      return (parts as Record<string, string>[]).reduce((n, m) => n + live(m), 0);
    };
    const keys = this.store.mapKeys(ns(profile));
    return keys instanceof Promise ? keys.then(sum) : sum(keys);
  }
}
