/**
 * KSR.registrar (Kamailio src/modules/registrar: save.c, lookup.c, reply.c, regpv.c) over usrloc
 * on the shared state (src/state/usrloc.ts, layout documented there): RFC 3261 10.3 REGISTER
 * processing and location lookup for routing.
 *
 * modparams, Kamailio's names and defaults: registrar default_expires 3600, min_expires 60,
 * min_expires_mode 0 (1: answer 423 with Min-Expires instead of raising the value), max_expires 0
 * (none), max_contacts 0 (none), default_q -1 (unspecified), append_branches 1, received_avp
 * (e.g. "$avp(RECEIVED)", set by the script or nathelper's fix_nated_register), received_param
 * "received", use_path 0, path_mode 2 (0 off, 1 lazy, 2 strict), retry_after 0, xavp_cfg (its
 * q, expires, match_callid, match_received, match_contact fields are honoured); usrloc use_domain 0
 * (the AOR is the user part only; 1: user@domain), method_filtering 0 (1: lookup skips contacts
 * whose Allow / `methods=` did not list the request's method, and returns -2 when only such
 * contacts exist; requests with a To tag are not filtered, as Kamailio). default_expires_range /
 * expires_range, GRUU and outbound are not implemented.
 *
 * save flags (registrar.h): 0x01 memory only (no database here: no effect), 0x02 no reply,
 * 0x04 one contact per AOR (the one of this REGISTER replaces the others), 0x08 no expires
 * variation (no effect: no ranges), 0x10 with 0x02: prepare the reply for reg_send_reply().
 * Return codes: save 1 (new record / contact inserted), 2 (contact updated), 3 (deleted: `*` or
 * expires=0), 4 (query without Contact), -1 error, -2 too many contacts. lookup 1 found, -1 not
 * found, -3 error (bad AOR).
 * The control RPCs ul.dump, ul.lookup <table> <aor> and ul.rm <table> <aor> live here (Kamailio's
 * usrloc has them; kemi-proxy's usrloc is this module's store).
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { parseUri, parseNameAddrList, type NameAddr, type SipUri } from '../src/sip/index.js';
import { getPv, type PvRegistry } from '../src/pv/registry.js';
import { StateError, type Awaitable, type StateStore } from '../src/state/store.js';
import { byPreference, contactKey, newRuid, nextRegSeq, Usrloc, type UlContact } from '../src/state/usrloc.js';
import { ModuleKey } from '../src/context/module-state.js';
import { defineModule, type ModuleEnv } from './types.js';
import { str } from './args.js';

const now = (): number => Math.floor(Date.now() / 1000);

interface RegistrarParams {
  defaultExpires: number;
  minExpires: number;
  minExpiresMode: boolean;
  maxExpires: number;
  maxContacts: number;
  defaultQ: number;
  appendBranches: boolean;
  receivedAvp: string;
  receivedParam: string;
  pathMode: number;
  usePath: boolean;
  retryAfter: number;
  useDomain: boolean;
  xavpCfg: string;
  methodFiltering: boolean;
}

const DEFAULTS: RegistrarParams = {
  defaultExpires: 3600, minExpires: 60, minExpiresMode: false, maxExpires: 0, maxContacts: 0, defaultQ: -1,
  appendBranches: true, receivedAvp: '', receivedParam: 'received', pathMode: 2, usePath: false, retryAfter: 0,
  useDomain: false, xavpCfg: '', methodFiltering: false,
};
/** One instance's registrar: its modparams, its usrloc tables, and what it keeps per message. */
export class RegistrarState {
  private readonly tables = new Map<string, Usrloc>();
  /** The reply save() built for each request (sent at once, or later by reg_send_reply). */
  readonly prepared = new WeakMap<MsgContext, Prepared>();
  /** reg_fetch_contacts profiles per message ($ulc). */
  readonly profiles = new WeakMap<MsgContext, Map<string, Profile>>();

  constructor(readonly params: RegistrarParams, private readonly store: StateStore) {}

  /** The usrloc table by name ("location" when empty). */
  table(name: string): Usrloc {
    const n = name || 'location';
    let t = this.tables.get(n);
    if (!t) this.tables.set(n, (t = new Usrloc(this.store, n)));
    return t;
  }

  /** The tables used so far (ul.dump), else "location". */
  usedTables(): Usrloc[] {
    return this.tables.size ? [...this.tables.values()] : [this.table('location')];
  }
}

export const REGISTRAR = new ModuleKey<RegistrarState>('registrar');

function st(ctx: MsgContext): RegistrarState {
  return REGISTRAR.of(ctx);
}

/** extract_aor: the unescaped user (and @host with use_domain), lowercased; null when unparsable. */
function aorOf(uri: string, useDomain: boolean): string | null {
  let u: SipUri;
  try {
    u = parseUri(uri);
  } catch {
    return null;
  }
  let user: string;
  try {
    user = decodeURIComponent(u.user ?? '');
  } catch {
    return null;
  }
  const aor = useDomain ? (user ? `${user}@${u.host}` : u.host) : user;
  return aor.toLowerCase();
}

function logErr(ctx: MsgContext, what: string, e: unknown): number {
  ctx.proxy.log(ctx, 'err', `registrar ${what}: ${e instanceof Error ? e.message : String(e)}`);
  return -1;
}

/** Runs `fn` on a value or a Promise of it; a state error becomes `failCode` (logged). */
function chain<T>(ctx: MsgContext, what: string, v: Awaitable<T>, fn: (x: T) => Awaitable<number>, failCode = -1): Awaitable<number> {
  if (v instanceof Promise) {
    return v.then(fn).catch((e: unknown) => {
      if (!(e instanceof StateError)) throw e;
      logErr(ctx, what, e);
      return failCode;
    });
  }
  return fn(v);
}

function all(vs: Awaitable<void>[]): Awaitable<void> {
  return vs.some((v) => v instanceof Promise) ? Promise.all(vs).then(() => undefined) : undefined;
}

// ---- replies (reply.c) ---------------------------------------------------------------------------

const FL_NORPL = 0x02;
const FL_REPL = 0x04;
const FL_PREPRPL = 0x10;

/** rerrno values used here, with reply.c's code and P-Registrar-Error text. */
const RERR = {
  INV_CSEQ: [400, 'Invalid CSeq number'],
  AOR_PARSE: [400, 'Error while parsing AOR'],
  INV_EXP: [400, 'Invalid expires param in contact'],
  INV_Q: [400, 'Invalid q param in contact'],
  PARSE_CONT: [400, 'Contact parse error'],
  STAR_EXP: [400, '* used in contact and expires is not zero'],
  STAR_CONT: [400, '* used in contact and more than 1 contact'],
  TOO_MANY: [503, 'Too many registered contacts'],
  UL_GET: [500, 'usrloc_record_get failed'],
  PATH_UNSUP: [420, 'Path extension not supported'],
  LOW_EXP: [423, 'Expiration time too low'],
} as const;
type Rerr = keyof typeof RERR;

const REASONS: Record<number, string> = {
  200: 'OK', 400: 'Bad Request', 420: 'Bad Extension', 423: 'Interval Too Brief', 500: 'Server Internal Error', 503: 'Service Unavailable',
};

interface Prepared {
  code: number;
  reason: string;
  headers: string;
  /**
   * Headers Kamailio adds only when the reply goes out (a failed save prepares nothing, so
   * reg_send_reply adds them after what the script appended meanwhile).
   */
  late: string;
}

function qText(q: number): string {
  if (q < 0) return '';
  if (q >= 1) return '1';
  if (q <= 0) return '0';
  return String(Math.round(q * 1000) / 1000);
}

/** build_contact: one Contact header listing every live contact with its remaining lifetime. */
function contactHeader(contacts: UlContact[], receivedParam: string): string {
  if (contacts.length === 0) return '';
  const t = now();
  const parts = contacts.map((c) => {
    let s = `<${c.contact}>`;
    const q = qText(c.q);
    if (q) s += `;q=${q}`;
    s += `;expires=${Math.max(0, c.expires - t)}`;
    if (receivedParam && c.received) s += `;${receivedParam}="${c.received}"`;
    if (c.instance) s += `;+sip.instance="${c.instance}"`;
    if (c.reg_id > 0) s += `;reg-id=${c.reg_id}`;
    return s;
  });
  return `Contact: ${parts.join(', ')}\r\n`;
}

function supports(ctx: MsgContext, tag: string): boolean {
  return ctx.msg.headerList('supported').some((s) => s.trim().toLowerCase() === tag);
}

/** reg_reply_helper: the reply for the outcome `err` (null: success), sent unless flags say not. */
function finish(ctx: MsgContext, flags: number, err: Rerr | null, contacts: UlContact[] | null, path: string | null): boolean {
  const reg = st(ctx);
  const params = reg.params;
  let headers = contacts ? contactHeader(contacts, params.receivedParam) : '';
  const failed = err !== null;
  let code = 200;
  if (err === null) {
    if (params.usePath && path && params.pathMode !== 0) {
      if (supports(ctx, 'path')) headers += `Path: ${path}\r\n`;
      else if (params.pathMode === 2) {
        err = 'PATH_UNSUP';
        headers += `Unsupported: path\r\nPath: ${path}\r\n`;
      }
    }
  } else if (err === 'LOW_EXP') headers += `Min-Expires: ${params.minExpires}\r\n`;
  if (err !== null) {
    code = RERR[err][0];
    headers += `P-Registrar-Error: ${RERR[err][1]}\r\n`;
    if (code >= 500 && params.retryAfter > 0) headers += `Retry-After: ${params.retryAfter}\r\n`;
  }
  const contact = contacts ? contactHeader(contacts, params.receivedParam) : '';
  const p = failed ? { code, reason: REASONS[code] ?? 'OK', headers: contact, late: headers.slice(contact.length) } : { code, reason: REASONS[code] ?? 'OK', headers, late: '' };
  reg.prepared.set(ctx, p);
  if (flags & FL_NORPL) return true;
  return ctx.proxy.sendReply(ctx, p.code, p.reason, p.headers + p.late) > 0;
}

/** Kamailio's METHOD_* bits (parser/msg_parser.h); any other method is METHOD_OTHER. */
const METHOD_BITS: Record<string, number> = {
  INVITE: 1, CANCEL: 2, ACK: 4, BYE: 8, INFO: 16, REGISTER: 32, SUBSCRIBE: 64, NOTIFY: 128, MESSAGE: 256,
  OPTIONS: 512, PRACK: 1024, UPDATE: 2048, REFER: 4096, PUBLISH: 8192, KDMQ: 16384, GET: 32768, POST: 65536,
  PUT: 131072, DELETE: 262144,
};
const METHOD_OTHER = 524288;
const ALL_METHODS = 0xffffffff;
const methodBit = (m: string): number => METHOD_BITS[m.toUpperCase()] ?? METHOD_OTHER;

/** A comma-separated method list (Allow values, a methods= parameter) as a bitmask. */
function methodsMask(lists: readonly string[]): number {
  let mask = 0;
  for (const list of lists) for (const m of list.replace(/"/g, '').split(',')) if (m.trim()) mask |= methodBit(m.trim());
  return mask >>> 0;
}

/** A field of the xavp_cfg modparam's xavp ($xavp(<xavp_cfg>=>name)), or undefined. */
function xcfg(ctx: MsgContext, name: string): string | number | undefined {
  const params = st(ctx).params;
  if (!params.xavpCfg) return undefined;
  const v = ctx.xavps.get(params.xavpCfg)?.[0]?.get(name)?.[0];
  return v === null || v === undefined ? undefined : (v as string | number);
}

// ---- save (save.c) -------------------------------------------------------------------------------

interface ParsedContact {
  na: NameAddr;
  key: string;
  instance: string | null;
  regId: number;
  expires: number;
  q: number;
}

/** calc_contact_expires: seconds from now; 0 removes; null when below min_expires in mode 1. */
function expiresOf(ctx: MsgContext, na: NameAddr): number | null {
  const params = st(ctx).params;
  const p = na.params.get('expires');
  const x = xcfg(ctx, 'expires');
  let e: number;
  if (typeof x === 'number' && x >= 0) e = x;
  else if (p === undefined || p === null || p === '') {
    const h = ctx.msg.header('expires')?.trim();
    e = h !== undefined && /^\d+$/.test(h) ? Number(h) : params.defaultExpires;
  } else e = /^\d+$/.test(p) ? Number(p) : params.defaultExpires;
  if (e === 0) return 0;
  if (e < params.minExpires) {
    if (params.minExpiresMode) return null;
    e = params.minExpires;
  }
  if (params.maxExpires > 0 && e > params.maxExpires) e = params.maxExpires;
  return e;
}

/** The q as 0..1: $xavp(<xavp_cfg>=>q) (0..1000), else the q param, else default_q; NaN when invalid. */
function qOf(ctx: MsgContext, na: NameAddr): number {
  const params = st(ctx).params;
  // set_q_override() for this message wins over everything (save.c).
  const o = ctx.moduleData.get(Q_OVERRIDE);
  if (typeof o === 'number') return o / 1000;
  const x = xcfg(ctx, 'q');
  if (typeof x === 'number') return x >= 0 && x <= 1000 ? x / 1000 : NaN;
  const q = na.params.get('q');
  if (q === undefined) return params.defaultQ < 0 ? -1 : params.defaultQ / 1000;
  const n = q === null ? null : str2q(q);
  return n === null ? NaN : n / 1000;
}

/** Expires header as Kamailio reads it: -1 when absent or invalid. */
function expiresHeader(ctx: MsgContext): number {
  const h = ctx.msg.header('expires')?.trim();
  return h !== undefined && /^\d+$/.test(h) ? Number(h) : -1;
}

function save(ctx: MsgContext, tname: string, flags: number, aorUri?: string): Awaitable<number> {
  const msg = ctx.msg;
  if (!msg.isRequest) return -1;
  const reg = st(ctx);
  const params = reg.params;
  let aor: string | null;
  try {
    aor = aorOf(aorUri || msg.to.uri, params.useDomain);
  } catch {
    aor = null;
  }
  if (aor === null) return -1; // extract_aor failed: Kamailio returns without a reply
  const fail = (err: Rerr, contacts: UlContact[] | null = null): number => {
    finish(ctx, flags, err, contacts, null);
    return err === 'TOO_MANY' ? -2 : -1;
  };

  // check_contacts
  const hdrs = msg.headers('contact');
  let star = false;
  const parsed: ParsedContact[] = [];
  try {
    for (const v of hdrs) {
      for (const na of parseNameAddrList(v)) {
        if (na.uri === '*') {
          star = true;
          continue;
        }
        let instance = na.params.get('+sip.instance') ?? null;
        if (instance) instance = instance.replace(/^"|"$/g, '');
        const regIdRaw = na.params.get('reg-id');
        const regId = regIdRaw === undefined || regIdRaw === null ? 0 : Number(regIdRaw);
        parsed.push({ na, key: '', instance, regId: Number.isInteger(regId) && regId >= 0 ? regId : 0, expires: 0, q: 0 });
      }
    }
  } catch {
    return fail('PARSE_CONT');
  }
  if (star) {
    if (expiresHeader(ctx) !== 0) return fail('STAR_EXP');
    if (parsed.length > 0 || hdrs.length > 1) return fail('STAR_CONT');
  }
  for (const p of parsed) {
    const e = expiresOf(ctx, p.na);
    if (e === null) return fail('LOW_EXP');
    const q = qOf(ctx, p.na);
    if (Number.isNaN(q)) return fail('INV_Q');
    p.expires = e;
    p.q = q;
    p.key = contactKey({ contact: p.na.uri, instance: p.instance, reg_id: p.regId });
  }

  const ul = reg.table(tname);
  const path = params.usePath ? msg.headers('path').join(',') || null : null;
  return chain(ctx, 'save', ul.get(aor), (existing) => {
    if (star) {
      return chain(ctx, 'save', all(existing.map((c) => ul.remove(aor, c))), () => {
        finish(ctx, flags, null, null, path);
        return 3;
      });
    }
    if (parsed.length === 0) {
      finish(ctx, flags, null, existing, path);
      return 4;
    }
    const t = now();
    const callid = msg.callId;
    const cseq = msg.cseq.seq;
    const received = params.receivedAvp ? pvString(ctx, params.receivedAvp) : null;
    const ua = msg.header('user-agent') ?? null;
    const socket = `${ctx.rcv.proto}:${ctx.rcv.localAddress}:${ctx.rcv.localPort}`;
    // Kamailio: the contact's methods= parameter, else the Allow headers, else every method.
    const allow = msg.headers('allow');
    const allowed = allow.length ? methodsMask(allow) : ALL_METHODS;
    const make = (p: ParsedContact, old: UlContact | undefined): UlContact => {
      const m = p.na.params.get('methods');
      return {
        contact: p.na.uri, expires: t + p.expires, q: p.q, callid, cseq, path, received, socket, user_agent: ua,
        instance: p.instance, reg_id: p.regId, flags: ctx.bflags[0] ?? 0, ruid: old?.ruid ?? newRuid(), last_modified: t,
        methods: m ? methodsMask([m]) : allowed,
        // A refresh keeps its place among contacts of equal q (values from before reg_seq: 0).
        reg_seq: old ? old.reg_seq : nextRegSeq(),
      };
    };
    const result = new Map<string, UlContact>(existing.map((c) => [contactKey(c), c]));
    const writes: Awaitable<void>[] = [];
    const put = (c: UlContact): void => {
      result.set(contactKey(c), c);
      writes.push(ul.put(aor, c));
    };
    const drop = (c: UlContact): void => {
      result.delete(contactKey(c));
      writes.push(ul.remove(aor, c));
    };
    const done = (rc: number): Awaitable<number> =>
      chain(ctx, 'save', all(writes), () => {
        finish(ctx, flags, null, [...result.values()].sort(byPreference), path);
        return rc;
      });

    if (existing.length === 0) {
      // insert_contacts: a new record; every contact with expires > 0, at most max_contacts.
      let num = 0;
      for (const p of parsed) {
        if (p.expires === 0) continue;
        if (params.maxContacts > 0 && num >= params.maxContacts) return fail('TOO_MANY');
        num++;
      }
      for (const p of parsed) if (p.expires > 0) put(make(p, result.get(p.key)));
      return done(1);
    }

    // get_ucontact: same Call-ID with a lower CSeq is out of order; an equal CSeq is a
    // retransmission within 20 s of the last update (skipped), else invalid too. Contacts with
    // +sip.instance match by instance and reg-id, without the CSeq check.
    const match = (p: ParsedContact): 'bad' | 'skip' | UlContact | undefined => {
      const old = result.get(p.key);
      if (!old || p.instance) return old;
      if (old.callid === callid) {
        if (cseq < old.cseq) return 'bad';
        if (cseq === old.cseq) return old.last_modified + 20 > t ? 'skip' : 'bad';
      }
      return old;
    };
    const mode = (flags & FL_REPL) !== 0;
    if (!mode && params.maxContacts > 0) {
      // test_max_contacts, before anything changes
      let num = existing.length;
      for (const p of parsed) {
        const m = match(p);
        if (m === 'bad') return fail('INV_CSEQ', existing);
        if (m === 'skip') continue;
        if (!m && p.expires !== 0) num++;
        else if (m && p.expires === 0) num--;
      }
      if (num > params.maxContacts) return fail('TOO_MANY', existing);
    }
    for (const p of parsed) if (match(p) === 'bad') return fail('INV_CSEQ', existing);

    // update_contacts
    let rc = 0;
    for (const p of parsed) {
      const m = match(p);
      if (m === 'skip') {
        if (p.expires !== 0 && mode) break;
        continue;
      }
      if (m === 'bad') continue; // checked above
      let updated = false;
      if (!m) {
        if (p.expires === 0) continue;
        const c = make(p, undefined);
        put(c);
        rc = 1;
        if (mode) {
          for (const o of [...result.values()]) if (o !== c) drop(o);
          updated = true;
        }
      } else if (p.expires === 0) {
        drop(m);
        rc = 3;
      } else {
        if (mode) {
          for (const o of [...result.values()]) if (o !== m) drop(o);
          updated = true;
        }
        if (m.instance && m.callid !== callid) {
          for (const o of [...result.values()]) if (o !== m && o.instance === m.instance) drop(o);
          updated = true;
        }
        put(make(p, m));
        rc = 2;
      }
      if (updated) break;
    }
    return done(rc === 0 ? 1 : rc);
  }, -1);
}

function pvString(ctx: MsgContext, spec: string): string | null {
  try {
    const v = getPv(ctx, spec);
    return v === null || v === undefined || v === '' ? null : String(v);
  } catch {
    return null;
  }
}

// ---- lookup (lookup.c) ---------------------------------------------------------------------------

/** The first URI of a Path vector: the next hop towards the contact. */
function pathFirstHop(path: string): string | null {
  try {
    return parseNameAddrList(path)[0]?.uri ?? null;
  } catch {
    return null;
  }
}

/** Where a contact is reached: the first Path hop, else its received address, else null ($du unset). */
function nextHop(c: UlContact): string | null {
  if (c.path) {
    const hop = pathFirstHop(c.path);
    if (hop) return hop;
  }
  return c.received;
}

function toBranch(ctx: MsgContext, c: UlContact): void {
  ctx.branches.push({
    uri: c.contact, dstUri: nextHop(c), path: c.path, q: c.q, flags: c.flags,
    socket: null, instance: c.instance, ruid: c.ruid, location_ua: c.user_agent,
  });
}

/** lookup_helper: mode 0 rewrites the R-URI to the best contact; mode 1 (to_dset) only adds branches. */
function applyContacts(ctx: MsgContext, contacts: UlContact[], toDset: boolean, appendBranches: boolean): number {
  if (contacts.length === 0) return -1;
  let rest = contacts;
  if (!toDset) {
    const c = contacts[0]!;
    ctx.msg.ruri = c.contact;
    ctx.dstUri = nextHop(c);
    ctx.ruriPath = c.path && pathFirstHop(c.path) ? c.path : null;
    ctx.bflags[0] = (ctx.bflags[0] ?? 0) | c.flags;
    ctx.moduleData.set('registrar:ruri', { ruid: c.ruid, instance: c.instance, ua: c.user_agent, q: c.q });
    rest = contacts.slice(1);
  }
  if (appendBranches) for (const c of rest) toBranch(ctx, c);
  return 1;
}

function lookup(ctx: MsgContext, tname: string, uri: string | null, toDset = false): Awaitable<number> {
  if (!ctx.msg.isRequest) return -3;
  const reg = st(ctx);
  const { useDomain, methodFiltering, appendBranches } = reg.params;
  const aor = aorOf(uri || ctx.msg.ruri, useDomain);
  if (aor === null) return -3;
  return chain(ctx, 'lookup', reg.table(tname).get(aor), (cs) => {
    if (!methodFiltering || cs.length === 0 || ctx.msg.to.tag) return applyContacts(ctx, cs, toDset, appendBranches);
    const bit = methodBit(ctx.msg.method);
    const able = cs.filter((c) => ((c.methods ?? ALL_METHODS) & bit) !== 0);
    // Contacts exist but none accepts this method: -2 (the basic example answers 405).
    return able.length ? applyContacts(ctx, able, toDset, appendBranches) : -2;
  }, -3);
}

/**
 * registered4: 1 when the AOR has a live contact; match flags 1/2/4 narrow it to the contact whose
 * Call-ID / received / Contact URI equals $xavp(<xavp_cfg>=>match_callid / match_received /
 * match_contact). registered_action with action flags (xavp_rcd details) fails naming itself.
 */
function registered(ctx: MsgContext, tname: string, uri: string | null, matchFlags = 0): Awaitable<number> {
  let target = uri;
  if (!target) {
    try {
      target = ctx.msg.isRequest ? ctx.msg.ruri : ctx.msg.to.uri;
    } catch {
      return -1;
    }
  }
  const reg = st(ctx);
  const aor = aorOf(target, reg.params.useDomain);
  if (aor === null) return -1;
  const want = (flag: number, name: string): string | null => {
    if (!(matchFlags & flag)) return null;
    const v = xcfg(ctx, name);
    return v === undefined || v === '' ? null : String(v);
  };
  const callid = want(1, 'match_callid');
  const received = want(2, 'match_received');
  const contact = want(4, 'match_contact');
  return chain(ctx, 'registered', reg.table(tname).get(aor), (cs) =>
    cs.some((c) => (callid === null || c.callid === callid) && (received === null || c.received === received)
      && (contact === null || c.contact === contact)) ? 1 : -1);
}

function unregister(ctx: MsgContext, tname: string, uri: string, ruid?: string): Awaitable<number> {
  const reg = st(ctx);
  const aor = aorOf(uri, reg.params.useDomain);
  if (aor === null) return -1;
  const ul = reg.table(tname);
  return chain(ctx, 'unregister', ul.get(aor), (cs) => {
    const gone = cs.filter((c) => ruid === undefined || c.ruid === ruid);
    if (gone.length === 0) return ruid !== undefined ? -1 : 1;
    return chain(ctx, 'unregister', all(gone.map((c) => ul.remove(aor, c))), () => 1);
  });
}

// ---- reg_fetch_contacts / $ulc (regpv.c) ---------------------------------------------------------

interface Profile {
  aor: string;
  domain: string;
  contacts: UlContact[];
}

function fetchContacts(ctx: MsgContext, tname: string, uri: string, profile: string): Awaitable<number> {
  const reg = st(ctx);
  const aor = aorOf(uri, reg.params.useDomain);
  if (aor === null) return -1;
  return chain(ctx, 'reg_fetch_contacts', reg.table(tname).get(aor), (cs) => {
    let m = reg.profiles.get(ctx);
    if (!m) reg.profiles.set(ctx, (m = new Map()));
    let domain = '';
    try {
      domain = parseUri(uri).host;
    } catch {
      /* AOR parsed above */
    }
    m.set(profile, { aor, domain, contacts: cs });
    return cs.length > 0 ? 1 : -1;
  });
}

function ulcAttr(c: UlContact, attr: string): string | number | null {
  switch (attr) {
    case 'addr': return c.contact;
    case 'path': return c.path;
    case 'received': return c.received;
    case 'expires': return c.expires;
    case 'callid': return c.callid;
    case 'q': return c.q < 0 ? -1 : Math.round(c.q * 1000);
    case 'cseq': return c.cseq;
    case 'flags': return 0;
    case 'cflags': return c.flags;
    case 'user_agent': return c.user_agent;
    case 'socket': return c.socket;
    case 'modified': return c.last_modified;
    case 'methods': return (c.methods ?? ALL_METHODS) >>> 0;
    case 'instance': return c.instance;
    case 'reg_id': return c.reg_id;
    case 'ruid': return c.ruid;
    default: throw new Error(`$ulc: unknown attribute '${attr}'`);
  }
}

function registerUlcPv(pvs: PvRegistry, reg: RegistrarState): void {
  const registerPv = pvs.register.bind(pvs);
  registerPv('ulc', {
    get: (ctx, arg, index) => {
      const [profile, attr] = arg.split('=>').map((s) => s.trim());
      const p = reg.profiles.get(ctx)?.get(profile ?? '');
      if (!p) return null;
      switch (attr) {
        case 'aor': return p.aor;
        case 'domain': return p.domain;
        case 'aorhash': return null;
        case 'count': return p.contacts.length;
        default: {
          const c = p.contacts[index ?? 0];
          return c ? ulcAttr(c, attr ?? '') : null;
        }
      }
    },
  });
}

// ---- module --------------------------------------------------------------------------------------

function num(v: string | number | undefined, d: number): number {
  const n = Number(v);
  return v === undefined || v === '' || !Number.isFinite(n) ? d : n;
}

function init(env: ModuleEnv): RegistrarState {
  const p = env.params;
  const ul = env.allParams.usrloc ?? {};
  const params: RegistrarParams = {
    defaultExpires: num(p.default_expires, DEFAULTS.defaultExpires),
    minExpires: num(p.min_expires, DEFAULTS.minExpires),
    minExpiresMode: num(p.min_expires_mode, 0) !== 0,
    maxExpires: num(p.max_expires, DEFAULTS.maxExpires),
    maxContacts: num(p.max_contacts, DEFAULTS.maxContacts),
    defaultQ: num(p.default_q, DEFAULTS.defaultQ),
    appendBranches: num(p.append_branches, 1) !== 0,
    receivedAvp: String(p.received_avp ?? ''),
    receivedParam: p.received_param === undefined ? DEFAULTS.receivedParam : String(p.received_param),
    pathMode: num(p.path_mode, DEFAULTS.pathMode),
    usePath: num(p.use_path, 0) !== 0,
    retryAfter: num(p.retry_after, 0),
    useDomain: num(ul.use_domain ?? p.use_domain, 0) !== 0,
    xavpCfg: String(p.xavp_cfg ?? ''),
    methodFiltering: num(p.method_filtering, 0) !== 0,
  };
  const reg = new RegistrarState(params, env.state);
  registerUlcPv(env.pvs, reg);
  return reg;
}

/** Kamailio's ul.dump Contact struct. */
function rpcContact(c: UlContact): unknown {
  return {
    Contact: {
      Address: c.contact, Expires: c.expires - now(), Q: c.q, 'Call-ID': c.callid, CSeq: c.cseq,
      'User-Agent': c.user_agent ?? '', Received: c.received ?? '', Path: c.path ?? '', State: 'CS_NEW',
      Flags: 0, CFlags: c.flags, Socket: c.socket ?? '', Methods: (c.methods ?? ALL_METHODS) >>> 0, Ruid: c.ruid, Instance: c.instance ?? '',
      'Reg-Id': c.reg_id, 'Last-Modified': c.last_modified,
    },
  };
}

async function dump(reg: RegistrarState): Promise<unknown> {
  const out: unknown[] = [];
  for (const ul of reg.usedTables()) {
    const aors: unknown[] = [];
    for (const aor of await ul.aors()) {
      const cs = await ul.get(aor);
      if (cs.length) aors.push({ Info: { AoR: aor, Contacts: cs.map(rpcContact) } });
    }
    out.push({ Domain: { Domain: ul.table, AoRs: aors, Stats: { Records: aors.length } } });
  }
  return { Domains: out };
}

/** The AOR of an RPC argument: `bob`, `bob@example.org` or a full URI. */
function rpcAor(v: unknown, useDomain: boolean): string {
  const s = String(v ?? '');
  const aor = s.includes(':') ? aorOf(s, useDomain) : s.toLowerCase();
  if (!aor) throw new Error('bad AoR');
  if (!useDomain && !s.includes(':')) return aor.split('@')[0]!;
  return aor;
}

const Q_OVERRIDE = 'registrar:q_override';

/** str2q: "0", "0.5", "1.000" as Kamailio's integer q (0..1000), or null. */
function str2q(s: string): number | null {
  const t = s.trim();
  if (!/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(t)) return null;
  return Math.round(Number(t) * 1000);
}

export default defineModule<RegistrarState>('registrar', [
  { name: 'set_q_override', params: ['str'], ret: 'int', fn: (ctx, q) => {
    const n = str2q(str(q));
    if (n === null) {
      ctx.proxy.log(ctx, 'err', 'registrar: invalid q value');
      return -1;
    }
    ctx.moduleData.set(Q_OVERRIDE, n);
    return 1;
  } },
  // A header naming the socket the request came in on ("udp:127.0.0.1:5060"), added at the end of
  // the headers (a registrar behind this proxy reads it with its sock_hdr_name).
  { name: 'add_sock_hdr', params: ['str'], ret: 'int', fn: (ctx, name) => {
    const n = str(name);
    if (!n) return -1;
    const r = ctx.rcv;
    const host = r.family === 6 ? `[${r.localAddress}]` : r.localAddress;
    ctx.msg.appendHeader(`${n}: ${r.proto}:${host}:${r.localPort}\r\n`);
    return 1;
  } },
  { name: 'save', params: ['str', 'int'], ret: 'int', fn: (ctx, t, f) => save(ctx, str(t), Number(f) || 0) },
  { name: 'save_uri', params: ['str', 'int', 'str'], ret: 'int', fn: (ctx, t, f, u) => save(ctx, str(t), Number(f) || 0, str(u)) },
  { name: 'lookup', params: ['str'], ret: 'int', fn: (ctx, t) => lookup(ctx, str(t), null) },
  { name: 'lookup_uri', params: ['str', 'str'], ret: 'int', fn: (ctx, t, u) => lookup(ctx, str(t), str(u) || null) },
  { name: 'lookup_to_dset', params: ['str', 'str'], ret: 'int', fn: (ctx, t, u) => lookup(ctx, str(t), str(u) || null, true) },
  { name: 'lookup_branches', params: ['str'], ret: 'int', fn: (ctx, t) => {
    // The R-URI branch, then each branch replaced by the contacts of its AOR (kept when none).
    const old = ctx.branches;
    ctx.branches = [];
    const steps: Awaitable<number>[] = [lookup(ctx, str(t), null)];
    for (const b of old) {
      const r = lookup(ctx, str(t), b.uri, true);
      const keep = (x: number): number => {
        if (x < 0) ctx.branches.push(b);
        return x;
      };
      steps.push(r instanceof Promise ? r.then(keep) : keep(r));
    }
    const settle = (rs: number[]): number => (rs.some((r) => r > 0) ? 1 : -1);
    return steps.some((s) => s instanceof Promise) ? Promise.all(steps).then(settle) : settle(steps as number[]);
  } },
  { name: 'registered', params: ['str'], ret: 'int', fn: (ctx, t) => registered(ctx, str(t), null) },
  { name: 'registered_uri', params: ['str', 'str'], ret: 'int', fn: (ctx, t, u) => registered(ctx, str(t), str(u) || null) },
  { name: 'registered_flags', params: ['str', 'str', 'int'], ret: 'int', fn: (ctx, t, u, f) => registered(ctx, str(t), str(u) || null, Number(f) || 0) },
  { name: 'registered_action', params: ['str', 'str', 'int', 'int'], ret: 'int', fn: (ctx, t, u, f, a) => {
    // The action flags fill xavp_rcd with the contact's details: not provided, so not ignored either.
    if (Number(a) || 0) throw new Error('KSR.registrar.registered_action: action flags (xavp_rcd) are not implemented in kemi-proxy');
    return registered(ctx, str(t), str(u) || null, Number(f) || 0);
  } },
  { name: 'unregister', params: ['str', 'str'], ret: 'int', fn: (ctx, t, u) => unregister(ctx, str(t), str(u)) },
  { name: 'unregister_ruid', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, t, u, r) => unregister(ctx, str(t), str(u), str(r)) },
  { name: 'reg_fetch_contacts', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, t, u, p) => fetchContacts(ctx, str(t), str(u), str(p)) },
  { name: 'reg_free_contacts', params: ['str'], ret: 'int', fn: (ctx, p) => (st(ctx).profiles.get(ctx)?.delete(str(p)) ? 1 : -1) },
  { name: 'reg_send_reply', params: [], ret: 'int', fn: (ctx) => {
    const p = st(ctx).prepared.get(ctx);
    if (!p || ctx.replied) return -1;
    if (p.late) ctx.replyHeaders = (ctx.replyHeaders ?? '') + p.late;
    return ctx.proxy.sendReply(ctx, p.code, p.reason, p.headers) > 0 ? 1 : -1;
  } },
], {
  key: REGISTRAR,
  init,
  rpc: (reg) => ({
    'ul.dump': () => dump(reg),
    'ul.lookup': async (p) => {
      const aor = rpcAor(p[1], reg.params.useDomain);
      const cs = await reg.table(String(p[0] ?? 'location')).get(aor);
      if (!cs.length) throw new Error('AOR not found');
      return { AoR: aor, Contacts: cs.map(rpcContact) };
    },
    'ul.rm': async (p) => {
      const aor = rpcAor(p[1], reg.params.useDomain);
      const ul = reg.table(String(p[0] ?? 'location'));
      const cs = await ul.get(aor);
      if (!cs.length) throw new Error('AOR not found');
      for (const c of cs) await ul.remove(aor, c);
      return 'ok';
    },
  }),
});
