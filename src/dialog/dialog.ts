/**
 * The dialog table of one proxy instance (Kamailio src/modules/dialog: dlg_hash.c, dlg_handlers.c):
 * dialogs by their hash entry and id (`h_entry`, `h_id`, as Kamailio's `did` Record-Route
 * parameter names them) and by Call-ID, their states, legs and the matching of in-dialog
 * messages. No timers and no I/O here: kemi/dialog.ts drives the states from tm and rr.
 */
import type { SipMessage } from '../sip/message.js';

/** Kamailio's DLG_STATE_* values, as $dlg(state) shows them. */
export const DlgState = {
  UNCONFIRMED: 1,
  EARLY: 2,
  CONFIRMED_NA: 3,
  CONFIRMED: 4,
  DELETED: 5,
} as const;
export type DlgStateValue = (typeof DlgState)[keyof typeof DlgState];

/** One side of the dialog: what a request toward that side needs (Kamailio's dlg leg arrays). */
export interface DlgLeg {
  tag: string;
  contact: string;
  /** Last CSeq number of the requests this side sent. */
  cseq: number;
  /** Route set toward this side (name-addr values, first hop first), without our own entries. */
  routeSet: string[];
  /** The listen socket on this side (`proto:addr:port`), Kamailio's bind_addr. */
  bindAddr: string;
}

export class Dialog {
  state: DlgStateValue = DlgState.UNCONFIRMED;
  /** Seconds the confirmed dialog lives without in-dialog requests (dlg_set_timeout). */
  lifetime: number;
  /** Unix seconds of the 2xx (0 before). */
  startTs = 0;
  /** Internal flags (Kamailio's dflags) and script flags (dlg_setflag: sflags). */
  dflags = 0;
  sflags = 0;
  /** $dlg_var values. */
  readonly vars = new Map<string, string>();
  /** Profiles this dialog is in: profile name -> values ('' for a profile without values). */
  readonly profiles = new Map<string, Set<string>>();
  /** Send BYE both ways when the dialog times out (send_bye modparam, $dlg_ctx(timeout_bye)). */
  timeoutBye: boolean;
  /** timeout-noreset property: in-dialog requests do not restart the timer. */
  timeoutNoReset = false;
  readonly caller: DlgLeg;
  readonly callee: DlgLeg;

  constructor(
    readonly hEntry: number,
    readonly hId: number,
    /** Unique over every proxy sharing the state backend (profiles name dialogs by it). */
    readonly uid: string,
    readonly callId: string,
    readonly fromUri: string,
    readonly toUri: string,
    caller: DlgLeg,
    lifetime: number,
    timeoutBye: boolean,
  ) {
    this.caller = caller;
    // Kamailio starts the callee leg's CSeq at 0: its first BYE toward the caller has CSeq 1.
    this.callee = { tag: '', contact: '', cseq: 0, routeSet: [], bindAddr: '' };
    this.lifetime = lifetime;
    this.timeoutBye = timeoutBye;
  }

  get ended(): boolean {
    return this.state === DlgState.DELETED;
  }

  get confirmed(): boolean {
    return this.state === DlgState.CONFIRMED_NA || this.state === DlgState.CONFIRMED;
  }

  /** Kamailio's `did` Record-Route value: h_entry and h_id in reversed hex, joined by '.'. */
  get did(): string {
    return `${reverseHex(this.hEntry)}.${reverseHex(this.hId)}`;
  }
}

/** Which way an in-dialog request goes: from the caller (downstream) or from the callee (upstream). */
export type DlgDir = 'downstream' | 'upstream';

/** Kamailio's core_hash (hash_func.h) over one string: the dialog table's h_entry. */
export function coreHash(s: string, size: number): number {
  const b = Buffer.from(s, 'latin1');
  // Kamailio hashes `char`s: bytes above 127 are negative there.
  const c = (i: number): number => (b[i]! << 24) >> 24;
  let h = 0;
  let p = 0;
  const inc = (v: number): void => {
    v >>>= 0;
    h = (h + ((v ^ (v >>> 3)) >>> 0)) >>> 0;
  };
  for (; p + 4 <= b.length; p += 4) inc((c(p) << 24) + (c(p + 1) << 16) + (c(p + 2) << 8) + c(p + 3));
  let v = 0;
  for (; p < b.length; p++) v = ((v << 8) + c(p)) >>> 0;
  inc(v);
  h = (h + (h >>> 11) + ((h >>> 13) + (h >>> 23))) >>> 0;
  return size ? h & (size - 1) : h;
}

/** int2reverse_hex: the hex digits least significant first ("0" for 0). */
export function reverseHex(n: number): string {
  if (n === 0) return '0';
  let s = '';
  for (let x = n >>> 0; x > 0; x >>>= 4) s += (x & 15).toString(16);
  return s;
}

/** The inverse of reverseHex; NaN when not hex. */
export function parseReverseHex(s: string): number {
  if (!/^[0-9a-fA-F]{1,8}$/.test(s)) return Number.NaN;
  return Number.parseInt([...s].reverse().join(''), 16);
}

/** The `did` parameter of our consumed Route entry (`;lr;ftag=..;did=3a1.f2`), as entry and id. */
export function didFromRouteParams(params: string): { hEntry: number; hId: number } | null {
  const m = /(?:^|;)did=([0-9a-fA-F]+)\.([0-9a-fA-F]+)(?:;|$)/.exec(params);
  if (!m) return null;
  const hEntry = parseReverseHex(m[1]!);
  const hId = parseReverseHex(m[2]!);
  return Number.isNaN(hEntry) || Number.isNaN(hId) ? null : { hEntry, hId };
}

function tagsOf(msg: SipMessage): { from: string; to: string } | null {
  try {
    return { from: msg.from.tag ?? '', to: msg.to.tag ?? '' };
  } catch {
    return null;
  }
}

/**
 * Kamailio's match_dialog: the caller's request carries From tag = caller tag (and To tag = callee
 * tag once known); the callee's carries them the other way round. An early dialog (no callee tag
 * yet) matches the caller's requests on the caller tag alone.
 */
export function matchDialog(d: Dialog, callId: string, fromTag: string, toTag: string): DlgDir | null {
  if (d.callId !== callId) return null;
  if (fromTag === d.caller.tag && (d.callee.tag === '' || toTag === '' || toTag === d.callee.tag)) return 'downstream';
  if (d.callee.tag !== '' && fromTag === d.callee.tag && toTag === d.caller.tag) return 'upstream';
  return null;
}

export class DialogTable {
  private readonly byId = new Map<string, Dialog>();
  private readonly byCallId = new Map<string, Set<Dialog>>();
  /** Next h_id per entry; each entry starts at a random value, as Kamailio's do. */
  private readonly nextIds = new Map<number, number>();

  constructor(readonly size: number, private readonly random: () => number = Math.random) {
    if (size <= 0 || (size & (size - 1)) !== 0) throw new Error(`dialog: hash_size must be a power of two (got ${size})`);
  }

  get count(): number {
    return this.byId.size;
  }

  all(): IterableIterator<Dialog> {
    return this.byId.values();
  }

  /** A fresh (h_entry, h_id) for a Call-ID. */
  allocate(callId: string): { hEntry: number; hId: number } {
    const hEntry = coreHash(callId, this.size);
    let id = this.nextIds.get(hEntry);
    if (id === undefined) id = Math.floor(this.random() * 3 * this.size);
    id = (id + 1) >>> 0 || 1;
    this.nextIds.set(hEntry, id);
    return { hEntry, hId: id };
  }

  add(d: Dialog): void {
    this.byId.set(`${d.hEntry}:${d.hId}`, d);
    let s = this.byCallId.get(d.callId);
    if (!s) this.byCallId.set(d.callId, (s = new Set()));
    s.add(d);
  }

  remove(d: Dialog): void {
    this.byId.delete(`${d.hEntry}:${d.hId}`);
    const s = this.byCallId.get(d.callId);
    if (s) {
      s.delete(d);
      if (s.size === 0) this.byCallId.delete(d.callId);
    }
  }

  get(hEntry: number, hId: number): Dialog | undefined {
    return this.byId.get(`${hEntry}:${hId}`);
  }

  /** Lookup by Call-ID and tags (dlg_get / get_dlg); ended dialogs are skipped. */
  lookup(callId: string, fromTag: string, toTag: string): { dlg: Dialog; dir: DlgDir } | null {
    const s = this.byCallId.get(callId);
    if (!s) return null;
    for (const d of s) {
      if (d.ended) continue;
      const dir = matchDialog(d, callId, fromTag, toTag);
      if (dir) return { dlg: d, dir };
    }
    return null;
  }

  /** The dialog a message belongs to, by Call-ID and tags (replies carry the request's tags). */
  lookupMsg(msg: SipMessage): { dlg: Dialog; dir: DlgDir } | null {
    const t = tagsOf(msg);
    if (!t) return null;
    let callId: string;
    try {
      callId = msg.callId;
    } catch {
      return null;
    }
    return this.lookup(callId, t.from, t.to);
  }
}
