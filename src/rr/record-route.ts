/**
 * Record-Route insertion and loose routing (RFC 3261 16.6 step 4, 16.4, 16.12), as Kamailio's rr
 * module does them (src/modules/rr/record.c, loose.c) with its defaults: `lr` always,
 * `append_fromtag` on, double Record-Route when the receiving and sending sockets differ.
 *
 * record_route only marks the message; the header is written when the outgoing socket is known.
 */
import type { MsgContext } from '../context/msg-context.js';
import { parseNameAddr, parseUri, type NameAddr, type SipUri } from '../sip/index.js';
import type { ListenSocket } from '../transport/types.js';
import { ModuleKey } from '../context/module-state.js';

/** rr's per-message state; a branch gets its own copy (what a branch route adds stays there). */
export class RrState {
  /** record_route was called for this message. */
  added = false;
  /** Extra URI parameters (add_rr_param / record_route_params), each starting with ';'. */
  params = '';
  /** record_route_preset addresses, used instead of the sockets'. */
  preset: string[] | null = null;
  /** Parameters of our Route entry consumed by loose_route (check_route_param, is_direction). */
  routeParams: string | null = null;
  /** ftag of our consumed Route entry. */
  ftag: string | null = null;

  inherit(): RrState {
    const c = new RrState();
    c.added = this.added;
    c.params = this.params;
    c.preset = this.preset ? [...this.preset] : null;
    c.routeParams = this.routeParams;
    c.ftag = this.ftag;
    return c;
  }
}

const KEY = 'rr';

export function rrState(ctx: MsgContext): RrState {
  let st = ctx.moduleData.get(KEY) as RrState | undefined;
  if (!st) {
    st = new RrState();
    ctx.moduleData.set(KEY, st);
  }
  return st;
}

function hostOf(s: ListenSocket, advertised: string | null): string {
  if (advertised) return advertised;
  return s.family === 6 ? `[${s.address}]` : s.address;
}

/** rr modparams: enable_full_lr (`;lr=on` instead of `;lr`), append_fromtag. */
export interface RrSettings {
  readonly fullLr: boolean;
  readonly appendFromtag: boolean;
  /**
   * Kamailio's rr callbacks (register_rrcb): run by loose_route after it consumed a Route entry of
   * ours, with that entry's parameters (the dialog module matches in-dialog requests by its `did`).
   */
  readonly callbacks: RrCallback[];
}

export type RrCallback = (ctx: MsgContext, routeParams: string) => void;

/** Kamailio's defaults: enable_full_lr 0, append_fromtag 1. */
const RR_DEFAULTS: RrSettings = { fullLr: false, appendFromtag: true, callbacks: [] };

/** An instance's rr settings (the rr module's state). */
export const RR = new ModuleKey<RrSettings>('rr');

export function rrSettings(params: Readonly<Record<string, string | number>>): RrSettings {
  return {
    fullLr: Number(params.enable_full_lr ?? 0) !== 0,
    appendFromtag: Number(params.append_fromtag ?? 1) !== 0,
    callbacks: [],
  };
}

/** The loose-routing parameter: `;lr`, or `;lr=on` with enable_full_lr. */
const lrParam = (rr: RrSettings): string => (rr.fullLr ? ';lr=on' : ';lr');

function rrUri(host: string, port: string | number, proto: string, params: string, ftag: string | undefined, rr: RrSettings, r2 = false): string {
  // Kamailio (msg_translator.c, SUBST_RCV_ALL/SUBST_SND_ALL) writes transport=ws for WS and WSS alike (RFC 7118 5.2).
  const transport = proto === 'udp' ? '' : `;transport=${proto === 'wss' ? 'ws' : proto}`;
  const f = ftag ? `;ftag=${ftag}` : '';
  // Both entries of a double Record-Route carry r2=on, as rr's record.c writes them.
  return `<sip:${host}:${port}${transport}${r2 ? ';r2=on' : ''}${lrParam(rr)}${f}${params}>`;
}

/**
 * The Record-Route lines for a request leaving through `out` that came in through `inSock`
 * (null when the receiving socket is unknown). Empty when record_route was not called.
 */
export function recordRouteLines(ctx: MsgContext, inSock: ListenSocket | null, out: ListenSocket): string {
  const rr = RR.find(ctx) ?? RR_DEFAULTS;
  const st = ctx.moduleData.get(KEY) as RrState | undefined;
  if (!st || !st.added) return '';
  let ftag: string | undefined;
  try {
    ftag = rr.appendFromtag ? ctx.msg.from.tag : undefined;
  } catch {
    ftag = undefined;
  }
  if (st.preset) {
    return st.preset.map((a) => `Record-Route: <${a.startsWith('sip:') || a.startsWith('sips:') ? a : `sip:${a}`}${lrParam(rr)}${ftag ? `;ftag=${ftag}` : ''}${st.params}>\r\n`).join('');
  }
  const outHost = hostOf(out, ctx.advertisedAddress);
  const outPort = ctx.advertisedPort ?? out.port;
  if (!inSock || inSock.id === out.id) return `Record-Route: ${rrUri(outHost, outPort, out.proto, st.params, ftag, rr)}\r\n`;
  // Double Record-Route: the outbound side first (the callee sees it first), then the inbound side.
  return `Record-Route: ${rrUri(outHost, outPort, out.proto, st.params, ftag, rr, true)}\r\n` +
    `Record-Route: ${rrUri(hostOf(inSock, null), inSock.port, inSock.proto, st.params, ftag, rr, true)}\r\n`;
}

export interface RouteEntry {
  na: NameAddr;
  uri: SipUri;
}

function routeEntries(ctx: MsgContext): RouteEntry[] {
  const out: RouteEntry[] = [];
  for (const v of ctx.msg.headerList('route')) {
    const na = parseNameAddr(v);
    out.push({ na, uri: parseUri(na.uri) });
  }
  return out;
}

function isOurs(ctx: MsgContext, u: SipUri): boolean {
  return ctx.proxy.isMyself(u.host, u.port);
}

function paramsText(u: SipUri): string {
  let s = '';
  for (const [k, v] of u.params) s += v === null ? `;${k}` : `;${k}=${v}`;
  return s;
}

/** Replaces the Route headers of the message by `entries` (raw name-addr values). */
function rewriteRoutes(ctx: MsgContext, entries: readonly string[]): void {
  const msg = ctx.msg;
  const fields = msg.headerFields.filter((f) => f.lname === 'route');
  const first = fields[0];
  if (entries.length > 0 && first) msg.insertBefore(first, entries.map((e) => `Route: ${e}\r\n`).join(''));
  for (const f of fields) msg.removeHeader(f);
}

/**
 * loose_route: 1 next hop set from the route set, -1 no Route header (or error), -3 an initial
 * request whose preloaded route set only named us.
 */
export function looseRoute(ctx: MsgContext): number {
  const r = looseRouteInner(ctx);
  if (r === 1) {
    const params = rrState(ctx).routeParams;
    const cbs = RR.find(ctx)?.callbacks;
    if (params !== null && cbs) for (const cb of cbs) cb(ctx, params);
  }
  return r;
}

function looseRouteInner(ctx: MsgContext): number {
  const msg = ctx.msg;
  if (!msg.isRequest) return -1;
  let routes: RouteEntry[];
  try {
    routes = routeEntries(ctx);
  } catch {
    return -1;
  }
  const st = rrState(ctx);
  let ruri: SipUri;
  try {
    ruri = msg.parsedRuri();
  } catch {
    return -1;
  }
  // A strict router before us put our Record-Route URI in the R-URI (16.4): Kamailio's
  // after_strict. The first Route is the next hop: a strict one (no lr) becomes the R-URI and
  // leaves the set; a loose one becomes $du, and the last Route (the real R-URI) becomes the R-URI.
  let inDialog = false;
  try {
    inDialog = !!msg.to.tag;
  } catch {
    inDialog = false;
  }
  // Only an in-dialog request (To tag) can come from a strict router: one without is "preloaded".
  if (inDialog && routes.length > 0 && isOurs(ctx, ruri)) {
    st.routeParams = paramsText(ruri);
    st.ftag = ruri.params.get('ftag') ?? null;
    // With double Record-Route the second entry of ours (r2) comes off first.
    const first = routes[0]!.uri.params.has('r2') && isOurs(ctx, routes[0]!.uri) ? 1 : 0;
    const next = routes[first];
    if (!next) {
      rewriteRoutes(ctx, []);
      return 1;
    }
    if (!next.uri.params.has('lr')) {
      msg.ruri = next.na.uri;
      rewriteRoutes(ctx, routes.slice(first + 1).map((r) => r.na.raw));
    } else {
      ctx.dstUri = next.na.uri;
      ctx.markRuriNew();
      msg.ruri = routes[routes.length - 1]!.na.uri;
      rewriteRoutes(ctx, routes.slice(first, -1).map((r) => r.na.raw));
    }
    return 1;
  }
  if (routes.length === 0) return -1;
  let i = 0;
  let consumed = false;
  // Our own entries (two with double Record-Route) come off the top.
  while (i < routes.length && isOurs(ctx, routes[i]!.uri)) {
    const u = routes[i]!.uri;
    st.routeParams = paramsText(u);
    st.ftag = u.params.get('ftag') ?? null;
    consumed = true;
    i++;
  }
  const rest = routes.slice(i);
  let hasToTag = false;
  try {
    hasToTag = msg.to.tag !== undefined;
  } catch {
    hasToTag = false;
  }
  if (rest.length === 0) {
    if (consumed) rewriteRoutes(ctx, []);
    // Nothing after us: an in-dialog request goes by its R-URI; a preloaded initial one was only for us.
    return hasToTag ? 1 : consumed ? -3 : -1;
  }
  const next = rest[0]!;
  if (next.uri.params.has('lr')) {
    if (consumed) rewriteRoutes(ctx, rest.map((r) => r.na.raw));
    ctx.dstUri = next.na.uri;
    ctx.markRuriNew();
  } else {
    // Strict next hop (16.6 step 6): it goes into the R-URI, the old R-URI to the end of the set.
    const oldRuri = msg.ruri;
    msg.ruri = next.na.uri;
    rewriteRoutes(ctx, [...rest.slice(1).map((r) => r.na.raw), `<${oldRuri}>`]);
  }
  return 1;
}
