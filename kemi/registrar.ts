/**
 * KSR.registrar (src/modules/registrar: registrar.c, save.c, lookup.c) over usrloc on the shared
 * state (src/state/usrloc.ts): RFC 3261 10.3 REGISTER processing and lookup for routing.
 *
 * modparams (Kamailio's names and defaults): registrar default_expires 3600, min_expires 60,
 * max_expires 0 (none), max_contacts 0 (none), append_branches 1, received_avp (e.g.
 * "$avp(RECEIVED)", filled by nathelper's fix_nated_register), path_mode 2, use_path 0;
 * usrloc use_domain 0 (AOR is the user part only).
 * Return codes as save/lookup: save 1 updated, 3 all removed, 4 query, -1 error, -2 too many
 * contacts; lookup 1 found, -1 none, -3 error.
 */
import type { MsgContext } from '../src/core/context.js';
import { parseUri, parseNameAddrList, type NameAddr, type SipUri } from '../src/sip/index.js';
import { getPv, registerPv } from '../src/pv/registry.js';
import { StateError, type Awaitable, type StateStore } from '../src/state/store.js';
import { byPreference, newRuid, Usrloc, type UlContact } from '../src/state/usrloc.js';
import { defineModule, type KemiArg, type ModuleEnv } from './types.js';

const str = (v: KemiArg): string => (v === null || v === undefined ? '' : String(v));
const now = (): number => Math.floor(Date.now() / 1000);

interface RegistrarParams {
  defaultExpires: number;
  minExpires: number;
  maxExpires: number;
  maxContacts: number;
  appendBranches: boolean;
  receivedAvp: string;
  pathMode: number;
  usePath: boolean;
  useDomain: boolean;
}

let params: RegistrarParams = {
  defaultExpires: 3600, minExpires: 60, maxExpires: 0, maxContacts: 0, appendBranches: true,
  receivedAvp: '', pathMode: 2, usePath: false, useDomain: false,
};
let store: StateStore | null = null;
const tables = new Map<string, Usrloc>();

function table(name: string): Usrloc {
  if (!store) throw new Error('KSR.registrar: module not initialised');
  let t = tables.get(name);
  if (!t) tables.set(name, (t = new Usrloc(store, name || 'location')));
  return t;
}

/** The AOR of a URI: user (and @host with use_domain), lowercased as usrloc's case_sensitive 0. */
function aorOf(uri: string): string | null {
  let u: SipUri;
  try {
    u = parseUri(uri);
  } catch {
    return null;
  }
  if (!u.user) return null;
  const user = decodeURIComponent(u.user).toLowerCase();
  return params.useDomain ? `${user}@${u.host.toLowerCase()}` : user;
}

function fail(ctx: MsgContext, what: string, e: unknown): number {
  ctx.proxy.log(ctx, 'err', `registrar ${what}: ${e instanceof Error ? e.message : String(e)}`);
  return -1;
}

/** Runs `fn` on a value or a Promise of it; a state error becomes the failure code. */
function chain<T>(ctx: MsgContext, what: string, v: Awaitable<T>, fn: (x: T) => Awaitable<number>): Awaitable<number> {
  if (v instanceof Promise) {
    return v.then(fn).catch((e: unknown) => {
      if (!(e instanceof StateError)) throw e;
      return fail(ctx, what, e);
    });
  }
  return fn(v);
}

function all(vs: Awaitable<void>[]): Awaitable<void> {
  return vs.some((v) => v instanceof Promise) ? Promise.all(vs).then(() => undefined) : undefined;
}

// ---- save ---------------------------------------------------------------------------------------

// save flags: 1 memory only and 8 no expires variation change nothing here (there is no database
// behind usrloc and no expires_range); 16 (prepare reply only) is not supported: reg_send_reply
// is not implemented.
const FLAG_NO_REPLY = 2;
const FLAG_SINGLE_CONTACT = 4;

function expiresOf(ctx: MsgContext, na: NameAddr): number {
  const p = na.params.get('expires');
  let e = p !== undefined && p !== null && /^\d+$/.test(p) ? Number(p) : NaN;
  if (Number.isNaN(e)) {
    const h = ctx.msg.header('expires')?.trim();
    e = h && /^\d+$/.test(h) ? Number(h) : params.defaultExpires;
  }
  if (e === 0) return 0;
  if (params.minExpires > 0 && e < params.minExpires) e = params.minExpires;
  if (params.maxExpires > 0 && e > params.maxExpires) e = params.maxExpires;
  return e;
}

function qOf(na: NameAddr): number {
  const q = na.params.get('q');
  if (q === undefined || q === null) return -1;
  const n = Number(q);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? Math.round(n * 1000) : -1;
}

function reply(ctx: MsgContext, flags: number, code: number, reason: string, headers = ''): void {
  if (flags & FLAG_NO_REPLY) return;
  ctx.proxy.sendReply(ctx, code, reason, headers);
}

/** The 200 OK's Contact lines: every live contact with its remaining lifetime. */
function okHeaders(ctx: MsgContext, contacts: UlContact[]): string {
  const t = now();
  let h = '';
  for (const c of contacts) h += `Contact: <${c.c}>;expires=${Math.max(0, c.expires - t)}${c.q >= 0 ? `;q=${(c.q / 1000).toFixed(3).replace(/0+$/, '').replace(/\.$/, '')}` : ''}\r\n`;
  const path = ctx.msg.headers('path');
  const supported = ctx.msg.headerList('supported').some((s) => s.trim().toLowerCase() === 'path');
  if (path.length && (params.pathMode !== 2 || supported)) for (const p of path) h += `Path: ${p}\r\n`;
  return h;
}

function save(ctx: MsgContext, tname: string, flags: number, aorUri?: string): Awaitable<number> {
  const msg = ctx.msg;
  if (!msg.isRequest || msg.method !== 'REGISTER') return -1;
  let aorSource: string;
  try {
    aorSource = aorUri ?? msg.to.uri;
  } catch {
    reply(ctx, flags, 400, 'Bad To header');
    return -1;
  }
  const aor = aorOf(aorSource);
  if (!aor) {
    reply(ctx, flags, 400, 'Bad AOR');
    return -1;
  }
  let contacts: NameAddr[];
  try {
    contacts = msg.headers('contact').flatMap((v) => parseNameAddrList(v));
  } catch {
    reply(ctx, flags, 400, 'Bad Contact');
    return -1;
  }
  const ul = table(tname);
  const callid = msg.callId;
  const cseq = msg.cseq.seq;
  const star = contacts.some((c) => c.uri === '*');
  if (star) {
    const exp = msg.header('expires')?.trim();
    if (contacts.length !== 1 || exp !== '0') {
      reply(ctx, flags, 400, 'Invalid Contact');
      return -1;
    }
  }
  return chain(ctx, 'save', ul.get(aor), (existing) => {
    if (contacts.length === 0) {
      reply(ctx, flags, 200, 'OK', okHeaders(ctx, existing));
      return 4;
    }
    if (star) {
      return chain(ctx, 'save', all(existing.map((c) => ul.remove(aor, c))), () => {
        reply(ctx, flags, 200, 'OK');
        return 3;
      });
    }
    const t = now();
    const received = params.receivedAvp ? pvString(ctx, params.receivedAvp) : null;
    const path = params.usePath || params.pathMode > 0 ? msg.headers('path').join(',') || null : null;
    const ua = msg.header('user-agent') ?? null;
    const socket = `${ctx.rcv.proto}:${ctx.rcv.localAddress}:${ctx.rcv.localPort}`;
    const result = new Map<string, UlContact>(existing.map((c) => [c.instance ? `${c.instance};reg-id=${c.regId}` : c.c, c]));
    const writes: Awaitable<void>[] = [];
    for (const na of contacts) {
      let instance: string | null = na.params.get('+sip.instance') ?? null;
      if (instance) instance = instance.replace(/^"|"$/g, '');
      const regId = Number(na.params.get('reg-id') ?? 0) || 0;
      const key = instance ? `${instance};reg-id=${regId}` : na.uri;
      const old = result.get(key);
      if (old && old.callid === callid && cseq < old.cseq) {
        reply(ctx, flags, 400, 'Invalid CSeq number');
        return -1;
      }
      const exp = expiresOf(ctx, na);
      if (exp === 0) {
        if (old) {
          writes.push(ul.remove(aor, old));
          result.delete(key);
        }
        continue;
      }
      const c: UlContact = {
        c: na.uri, expires: t + exp, q: qOf(na), callid, cseq, path, received, socket, ua, instance, regId,
        cflags: ctx.bflags[0] ?? 0, ruid: old?.ruid ?? newRuid(), modified: t,
      };
      if (!old && params.maxContacts > 0 && result.size >= params.maxContacts && !(flags & FLAG_SINGLE_CONTACT)) {
        reply(ctx, flags, 503, 'Too Many Registered Contacts');
        return -2;
      }
      result.set(key, c);
      writes.push(ul.put(aor, c));
    }
    if (flags & FLAG_SINGLE_CONTACT) {
      // One contact per AOR: the last one of this REGISTER replaces every other.
      const keep = [...result.values()].filter((c) => c.modified === t).pop();
      for (const [k, c] of result) {
        if (c !== keep) {
          writes.push(ul.remove(aor, c));
          result.delete(k);
        }
      }
    }
    return chain(ctx, 'save', all(writes), () => {
      reply(ctx, flags, 200, 'OK', okHeaders(ctx, [...result.values()].sort(byPreference)));
      return 1;
    });
  });
}

function pvString(ctx: MsgContext, spec: string): string | null {
  try {
    const v = getPv(ctx, spec);
    return v === null || v === undefined || v === '' ? null : String(v);
  } catch {
    return null;
  }
}

// ---- lookup -------------------------------------------------------------------------------------

/** Where a contact is reached: its received address, else the first Path hop, else itself. */
function nextHop(c: UlContact): string | null {
  if (c.received) return c.received;
  if (c.path) {
    const first = parseNameAddrList(c.path)[0];
    if (first) return first.uri;
  }
  return null;
}

function applyContacts(ctx: MsgContext, contacts: UlContact[], toDset: boolean): number {
  if (contacts.length === 0) return -1;
  const list = params.appendBranches || toDset ? contacts : contacts.slice(0, 1);
  let first = true;
  for (const c of list) {
    if (first && !toDset) {
      ctx.msg.ruri = c.c;
      ctx.dstUri = nextHop(c);
      ctx.ruriPath = c.path;
      ctx.bflags[0] = (ctx.bflags[0] ?? 0) | c.cflags;
      first = false;
      continue;
    }
    ctx.branches.push({
      uri: c.c, dstUri: nextHop(c), path: c.path, q: c.q, flags: c.cflags,
      socket: null, instance: c.instance, ruid: c.ruid, location_ua: c.ua,
    });
  }
  return 1;
}

function lookup(ctx: MsgContext, tname: string, uri: string | null, toDset = false): Awaitable<number> {
  if (!ctx.msg.isRequest) return -3;
  const aor = aorOf(uri ?? ctx.msg.ruri);
  if (!aor) return -1;
  return chain(ctx, 'lookup', table(tname).get(aor), (cs) => applyContacts(ctx, cs, toDset));
}

function registered(ctx: MsgContext, tname: string, uri: string | null): Awaitable<number> {
  const aor = aorOf(uri ?? (ctx.msg.isRequest ? ctx.msg.ruri : ''));
  if (!aor) return -1;
  return chain(ctx, 'registered', table(tname).get(aor), (cs) => (cs.length > 0 ? 1 : -1));
}

function unregister(ctx: MsgContext, tname: string, uri: string, ruid?: string): Awaitable<number> {
  const aor = aorOf(uri);
  if (!aor) return -1;
  const ul = table(tname);
  return chain(ctx, 'unregister', ul.get(aor), (cs) => {
    const gone = cs.filter((c) => !ruid || c.ruid === ruid);
    if (gone.length === 0) return ruid ? -1 : 1;
    return chain(ctx, 'unregister', all(gone.map((c) => ul.remove(aor, c))), () => 1);
  });
}

// ---- reg_fetch_contacts / $ulc -----------------------------------------------------------------

interface Profile {
  aor: string;
  domain: string;
  contacts: UlContact[];
}
const profiles = new WeakMap<MsgContext, Map<string, Profile>>();

function fetchContacts(ctx: MsgContext, tname: string, uri: string, profile: string): Awaitable<number> {
  const aor = aorOf(uri);
  if (!aor) return -1;
  return chain(ctx, 'reg_fetch_contacts', table(tname).get(aor), (cs) => {
    let m = profiles.get(ctx);
    if (!m) profiles.set(ctx, (m = new Map()));
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
    case 'addr': return c.c;
    case 'path': return c.path;
    case 'received': return c.received;
    case 'expires': return c.expires;
    case 'callid': return c.callid;
    case 'q': return c.q;
    case 'cseq': return c.cseq;
    case 'flags': return 0;
    case 'cflags': return c.cflags;
    case 'user_agent': return c.ua;
    case 'socket': return c.socket;
    case 'modified': return c.modified;
    case 'methods': return null;
    case 'instance': return c.instance;
    case 'reg_id': return c.regId;
    case 'ruid': return c.ruid;
    default: throw new Error(`$ulc: unknown attribute '${attr}'`);
  }
}

function registerUlcPv(): void {
  registerPv('ulc', {
    get: (ctx, arg, index) => {
      const [profile, attr] = arg.split('=>').map((s) => s.trim());
      const p = profiles.get(ctx)?.get(profile ?? '');
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

// ---- module -------------------------------------------------------------------------------------

function num(v: string | number | undefined, d: number): number {
  const n = Number(v);
  return v === undefined || !Number.isFinite(n) ? d : n;
}

function init(env: ModuleEnv): void {
  const p = env.params;
  const ul = env.allParams.usrloc ?? {};
  params = {
    defaultExpires: num(p.default_expires, 3600),
    minExpires: num(p.min_expires, 60),
    maxExpires: num(p.max_expires, 0),
    maxContacts: num(p.max_contacts, 0),
    appendBranches: num(p.append_branches, 1) !== 0,
    receivedAvp: String(p.received_avp ?? ''),
    pathMode: num(p.path_mode, 2),
    usePath: num(p.use_path, 0) !== 0,
    useDomain: num(ul.use_domain, 0) !== 0,
  };
  store = env.state;
  tables.clear();
  registerUlcPv();
}

async function dump(): Promise<unknown> {
  const out: unknown[] = [];
  for (const [name, ul] of tables.size ? tables : new Map([['location', table('location')]])) {
    const aors: unknown[] = [];
    for (const aor of await ul.aors()) {
      const cs = await ul.get(aor);
      if (cs.length) aors.push({ Info: { AoR: aor, Contacts: cs.map((c) => ({ Contact: { Address: c.c, Expires: c.expires - now(), Q: c.q, 'Call-ID': c.callid, CSeq: c.cseq, 'User-Agent': c.ua, Received: c.received, Path: c.path, Socket: c.socket, Ruid: c.ruid, Instance: c.instance, 'Reg-Id': c.regId } })) } });
    }
    out.push({ Domain: { Domain: name, AoRs: aors } });
  }
  return { Domains: out };
}

export default defineModule('registrar', [
  { name: 'save', params: ['str', 'int'], ret: 'int', fn: (ctx, t, f) => save(ctx, str(t), Number(f) || 0) },
  { name: 'save_uri', params: ['str', 'int', 'str'], ret: 'int', fn: (ctx, t, f, u) => save(ctx, str(t), Number(f) || 0, str(u)) },
  { name: 'lookup', params: ['str'], ret: 'int', fn: (ctx, t) => lookup(ctx, str(t), null) },
  { name: 'lookup_uri', params: ['str', 'str'], ret: 'int', fn: (ctx, t, u) => lookup(ctx, str(t), str(u)) },
  { name: 'lookup_to_dset', params: ['str', 'str'], ret: 'int', fn: (ctx, t, u) => lookup(ctx, str(t), str(u) || null, true) },
  { name: 'lookup_branches', params: ['str'], ret: 'int', fn: (ctx, t) => {
    // The R-URI branch, then each branch that names one of our AORs, replaced by its contacts.
    const old = ctx.branches;
    ctx.branches = [];
    const steps: Awaitable<number>[] = [lookup(ctx, str(t), null)];
    for (const b of old) steps.push(lookup(ctx, str(t), b.uri, true));
    const settle = (rs: number[]): number => (rs.some((r) => r > 0) ? 1 : -1);
    return steps.some((s) => s instanceof Promise) ? Promise.all(steps).then(settle) : settle(steps as number[]);
  } },
  { name: 'registered', params: ['str'], ret: 'int', fn: (ctx, t) => registered(ctx, str(t), null) },
  { name: 'registered_uri', params: ['str', 'str'], ret: 'int', fn: (ctx, t, u) => registered(ctx, str(t), str(u)) },
  { name: 'unregister', params: ['str', 'str'], ret: 'int', fn: (ctx, t, u) => unregister(ctx, str(t), str(u)) },
  { name: 'unregister_ruid', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, t, u, r) => unregister(ctx, str(t), str(u), str(r)) },
  { name: 'reg_fetch_contacts', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, t, u, p) => fetchContacts(ctx, str(t), str(u), str(p)) },
  { name: 'reg_free_contacts', params: ['str'], ret: 'int', fn: (ctx, p) => (profiles.get(ctx)?.delete(str(p)) ? 1 : -1) },
], {
  init,
  rpc: {
    'ul.dump': () => dump(),
    'ul.lookup': async (p) => {
      const aor = aorOf(String(p[1] ?? '').includes(':') ? String(p[1]) : `sip:${String(p[1] ?? '')}`);
      if (!aor) throw new Error('bad AoR');
      const cs = await table(String(p[0] ?? 'location')).get(aor);
      if (!cs.length) throw new Error('AOR not found');
      return { AoR: aor, Contacts: cs.map((c) => ({ Contact: { Address: c.c, Expires: c.expires - now(), Q: c.q } })) };
    },
    'ul.rm': async (p) => {
      const aor = aorOf(String(p[1] ?? '').includes(':') ? String(p[1]) : `sip:${String(p[1] ?? '')}`);
      if (!aor) throw new Error('bad AoR');
      const ul = table(String(p[0] ?? 'location'));
      for (const c of await ul.get(aor)) await ul.remove(aor, c);
      return 'ok';
    },
  },
});
