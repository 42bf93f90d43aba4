/**
 * KSR.pike (src/modules/pike): flood detection per source IP, kept per proxy instance (PikeState)
 * as Kamailio keeps it per instance (its tree lives in one instance's shared memory).
 *
 * The algorithm is Kamailio's ip_tree.c / pike_funcs.c: a prefix tree of address bytes (one root
 * per first byte; IPv4 4 bytes, IPv6 16). A request marks the longest known prefix of its address;
 * a prefix node that gets hot (hits in the current or previous unit, or their average, reach
 * reqs_density_per_unit / 4) grows a child for the next byte, so only busy prefixes are expanded
 * down to the full address. The full-address leaf counts leaf hits; it turns red when its leaf hits
 * in the current or previous unit, or their average, reach reqs_density_per_unit. Every
 * sampling_time_unit seconds the counters shift (current -> previous) and a red leaf that is no
 * longer hot is unblocked. Leaves not hit for remove_latency seconds are removed (their parent
 * then waits remove_latency in turn).
 *
 * pike_check_req / pike_check_ip: 1 allowed, -2 the address has just been blocked (this request
 * turned it red), -1 still blocked; pike_check_ip with an empty or unparseable address -1.
 * modparams as Kamailio: sampling_time_unit (2 s), reqs_density_per_unit (30), remove_latency
 * (120 s). Not provided: the pike.top RPC and pike's log_level.
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { ipBytes } from '../src/lib/ip.js';
import { ModuleKey } from '../src/context/module-state.js';
import { defineModule, type KemiArg, type ModuleEnv } from './types.js';
import { str } from './args.js';

const PREV = 0;
const CURR = 1;
/* node->flags */
const NODE_IPLEAF = 1 << 2;
const NODE_ISRED = 1 << 3;
/* mark_node result flags */
const NEW_NODE = 1 << 0;
const RED_NODE = 1 << 1;
const NEWRED_NODE = 1 << 2;
const NO_UPDATE = 1 << 3;
/** Counters are `unsigned short` in Kamailio; increments stop below MAX_TYPE_VAL - 1. */
const USHORT_MAX = 0xffff;

interface PikeNode {
  byte: number;
  hits: [number, number];
  leafHits: [number, number];
  flags: number;
  kids: PikeNode[];
  parent: PikeNode | null;
  /** Seconds (tree clock) when the node expires; meaningful while in the timer set. */
  expires: number;
}

/** Kamailio's pike IP tree; `now` values are in seconds (Kamailio's ticks). */
export class PikeTree {
  private readonly roots = new Map<number, PikeNode>();
  /** Nodes in the expiry list (IP leaves and tree leaves). */
  private readonly timer = new Set<PikeNode>();

  constructor(private readonly maxHits: number, private readonly timeout: number) {}

  private isHotNonLeaf(n: PikeNode): boolean {
    const q = this.maxHits >> 2;
    return n.hits[PREV] >= q || n.hits[CURR] >= q || (n.hits[PREV] + n.hits[CURR]) >> 1 >= q;
  }

  private isHotLeaf(n: PikeNode): boolean {
    const m = this.maxHits;
    return n.leafHits[PREV] >= m || n.leafHits[CURR] >= m || (n.leafHits[PREV] + n.leafHits[CURR]) >> 1 >= m;
  }

  private isWarmLeaf(n: PikeNode): boolean {
    return n.hits[CURR] >= this.maxHits >> 2;
  }

  private static node(byte: number, parent: PikeNode | null): PikeNode {
    return { byte, hits: [0, 0], leafHits: [0, 0], flags: 0, kids: [], parent, expires: 0 };
  }

  /** split_node(): the child inherits part of its father's hits (unsigned arithmetic as in C). */
  private split(dad: PikeNode, byte: number): PikeNode {
    const n = PikeTree.node(byte, dad);
    if (dad.hits[CURR] >= 1) n.hits[CURR] = dad.hits[CURR] - 1;
    if (dad.leafHits[CURR] >= 1) n.leafHits[PREV] = (dad.leafHits[PREV] - 1) & USHORT_MAX;
    dad.kids.unshift(n);
    return n;
  }

  /** mark_node(): one more hit for the address; the node marked, its father when split, and flags. */
  private mark(ip: Uint8Array): { node: PikeNode; father: PikeNode | null; flags: number } {
    const root = this.roots.get(ip[0]!);
    let siblings: PikeNode[] = root ? [root] : [];
    let node: PikeNode | null = null;
    let pos = 0;
    // The longest known prefix of the address.
    while (pos < ip.length) {
      const want = ip[pos]!;
      const found = siblings.find((k) => k.byte === want);
      if (!found) break;
      node = found;
      siblings = found.kids;
      pos++;
    }
    if (pos === ip.length) {
      const n = node!;
      n.flags |= NODE_IPLEAF;
      if (n.leafHits[CURR] < USHORT_MAX - 1) n.leafHits[CURR]++;
      if ((n.flags & NODE_ISRED) === 0) {
        if (this.isHotLeaf(n)) {
          n.flags |= NODE_ISRED;
          return { node: n, father: null, flags: RED_NODE | NEWRED_NODE };
        }
        return { node: n, father: null, flags: 0 };
      }
      return { node: n, father: null, flags: RED_NODE };
    }
    if (pos === 0) {
      const n = PikeTree.node(ip[0]!, null);
      n.hits[CURR] = 1;
      this.roots.set(ip[0]!, n);
      return { node: n, father: null, flags: NEW_NODE };
    }
    const n = node!;
    if (n.hits[CURR] < USHORT_MAX - 1) n.hits[CURR]++;
    if (this.isHotNonLeaf(n)) return { node: this.split(n, ip[pos]!), father: n, flags: NEW_NODE };
    // Few hits on a prefix: its timer is not refreshed, so it expires (saves memory).
    return { node: n, father: null, flags: this.isWarmLeaf(n) ? 0 : NO_UPDATE };
  }

  /** pike_check_ipaddr(): 1, -2 (newly blocked) or -1 (blocked). */
  check(ip: Uint8Array, now: number): number {
    const { node, father, flags } = this.mark(ip);
    if (flags & NEW_NODE) {
      node.expires = now + this.timeout;
      this.timer.add(node);
      // The father leaves the timer when it just got its only kid and is not an address itself.
      if (father && !(father.flags & NODE_IPLEAF) && father.kids.length === 1) this.timer.delete(father);
    } else if ((node.flags & NODE_IPLEAF || node.kids.length === 0) && !(flags & NO_UPDATE)) {
      node.expires = now + this.timeout;
    }
    if (flags & RED_NODE) return flags & NEWRED_NODE ? -2 : -1;
    return 1;
  }

  /** swap_routine(), every sampling_time_unit: current counters become previous; unblocks cooled leaves. */
  swap(): void {
    const refresh = (n: PikeNode): void => {
      n.hits[PREV] = n.hits[CURR];
      n.hits[CURR] = 0;
      n.leafHits[PREV] = n.leafHits[CURR];
      n.leafHits[CURR] = 0;
      if (n.flags & NODE_ISRED && !this.isHotLeaf(n)) n.flags &= ~NODE_ISRED;
      for (const k of n.kids) refresh(k);
    };
    for (const r of this.roots.values()) refresh(r);
  }

  /** clean_routine(), every second: removes expired nodes. */
  clean(now: number): void {
    for (const node of [...this.timer]) {
      if (node.expires > now) continue;
      this.timer.delete(node);
      if (node.kids.length > 0) {
        // An address leaf that is also a prefix (IPv4 bytes inside IPv6): stays until its kids go.
        node.flags &= ~NODE_IPLEAF;
        node.leafHits[CURR] = 0;
        continue;
      }
      const dad = node.parent;
      if (dad) {
        // The last kid goes: the father becomes a tree leaf and waits in the timer in turn.
        if (dad.kids.length === 1 && !(dad.flags & NODE_IPLEAF)) {
          dad.expires = now + this.timeout;
          this.timer.add(dad);
        }
        dad.kids.splice(dad.kids.indexOf(node), 1);
      } else if (this.roots.get(node.byte) === node) {
        this.roots.delete(node.byte);
      }
    }
  }

  /** Nodes in the tree (tests, diagnostics). */
  size(): number {
    let n = 0;
    const walk = (x: PikeNode): void => {
      n++;
      for (const k of x.kids) walk(k);
    };
    for (const r of this.roots.values()) walk(r);
    return n;
  }
}

/** One proxy instance's pike: its IP tree and the timers that shift and expire its counters. */
class PikeState {
  timers: NodeJS.Timeout[] = [];

  constructor(readonly tree: PikeTree) {}
}

export const PIKE = new ModuleKey<PikeState>('pike');

/**
 * One check of `ip` at `nowMs` (Date.now() by default) against the instance's tree. The counters
 * shift on the instance's sampling timer; tests drive a PikeTree directly for that.
 */
export function pikeCheck(st: PikeState, ip: string, nowMs = Date.now()): number {
  if (!ip) return -1;
  const b = ipBytes(ip);
  if (!b) return -1;
  return st.tree.check(b, Math.floor(nowMs / 1000));
}

function init(env: ModuleEnv): PikeState {
  const num = (name: string, def: number): number => {
    const v = env.params[name];
    return v === undefined || v === '' || Number.isNaN(Number(v)) ? def : Number(v);
  };
  const unit = num('sampling_time_unit', 2);
  const density = num('reqs_density_per_unit', 30);
  const latency = num('remove_latency', 120);
  const st = new PikeState(new PikeTree(density, latency));
  const tree = st.tree;
  // Kamailio: register_timer(clean_routine, 0, 1) and register_timer(swap_routine, 0, unit).
  st.timers = [
    setInterval(() => tree.clean(Math.floor(Date.now() / 1000)), 1000),
    setInterval(() => tree.swap(), Math.max(1, unit) * 1000),
  ];
  for (const t of st.timers) t.unref();
  return st;
}

export default defineModule<PikeState>('pike', [
  { name: 'pike_check_req', params: [], ret: 'int', fn: (ctx: MsgContext) => pikeCheck(PIKE.of(ctx), ctx.rcv.srcAddress) },
  { name: 'pike_check_ip', params: ['str'], ret: 'int', fn: (ctx, ip) => pikeCheck(PIKE.of(ctx), str(ip)) },
], {
  key: PIKE,
  init,
  close: (st) => {
    for (const t of st.timers) clearInterval(t);
    st.timers = [];
  },
});
