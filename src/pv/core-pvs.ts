/**
 * The core pseudo-variables of an instance (Kamailio 5.6's pv module, src/modules/pv/pv.c
 * mod_pvs[], and the core's $null/$rc/$env/$def): registerCorePvs is the entry point. Here:
 * request/reply line, R-URI/From/To and their parts, addresses, headers, body, flags, $branch,
 * $du, $fs, $var/$vz/$vn (per instance), $shv, credentials, and the PVs Kamailio has that
 * kemi-proxy does not provide (null, logged once). The rest by topic: message-pvs.ts (headers,
 * URI attributes, sockets), context-pvs.ts (flags, branches, constants, env, time), avp-pvs.ts.
 */
import type { MsgContext, PvValue } from '../context/msg-context.js';
import { formatUri, parseUri, rawDisplayName, type NameAddr, type SipUri } from '../sip/index.js';
import { PvSetError, type PvHandler, type PvRegistry } from './registry.js';
import { setXtoPart, type XtoPart } from './xto-set.js';
import { registerMessagePvs } from './message-pvs.js';
import { registerAvpPvs } from './avp-pvs.js';
import { registerContextPvs, type ContextPvOptions } from './context-pvs.js';
import { registerOnSendPvs } from './onsend-pvs.js';
import { findSocket, parseSocketSpec } from '../transport/types.js';

const ro = (get: (ctx: MsgContext, arg: string, index: number | null) => PvValue | null | undefined) => ({
  get: (ctx: MsgContext, arg: string, index: number | null): PvValue | null => get(ctx, arg, index) ?? null,
});

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function ruri(ctx: MsgContext): SipUri | undefined {
  return ctx.msg.isRequest ? safe(() => ctx.msg.parsedRuri()) : undefined;
}

function uriOf(na: NameAddr | undefined): SipUri | undefined {
  return na ? safe(() => parseUri(na.uri)) : undefined;
}

function setRuriPart(ctx: MsgContext, part: 'user' | 'host' | 'port', v: PvValue | null): void {
  const u = parseUri(ctx.msg.ruri);
  if (part === 'user') u.user = v === null || v === '' ? undefined : String(v);
  else if (part === 'host') u.host = String(v ?? '');
  else u.port = v === null || v === '' ? undefined : Number(v);
  ctx.msg.ruri = formatUri(u);
}

function hostPort(u: SipUri | undefined): string | undefined {
  return u?.host;
}

function nameAddrPvs(reg: PvRegistry, prefix: 'f' | 't', get: (ctx: MsgContext) => NameAddr | undefined): void {
  const registerPv = reg.register.bind(reg);
  const long = prefix === 'f' ? 'from' : 'to';
  const hdr = prefix === 'f' ? 'from' : 'to';
  const writable = (h: { get: PvHandler['get'] }, part: XtoPart): PvHandler => ({
    get: h.get,
    set: (c, _a, v) => setXtoPart(c, hdr, part, v),
  });
  const uri = writable(ro((c) => get(c)?.uri), 'uri');
  const user = writable(ro((c) => uriOf(get(c))?.user || undefined), 'user');
  const domain = writable(ro((c) => hostPort(uriOf(get(c))) || undefined), 'domain');
  registerPv(`${prefix}u`, uri);
  registerPv(long, uri);
  registerPv(`${prefix}U`, user);
  registerPv(`${long}.user`, user);
  registerPv(`${prefix}d`, domain);
  registerPv(`${long}.domain`, domain);
  registerPv(`${prefix}Ul`, ro((c) => (get(c) ? uriOf(get(c))?.user?.length ?? 0 : undefined)));
  // As Kamailio: the display name as written, quotes included.
  registerPv(`${prefix}n`, writable(ro((c) => rawDisplayName(get(c)) || undefined), 'display'));
  registerPv(`${prefix}t`, ro((c) => get(c)?.tag || undefined));
}

/**
 * PVs Kamailio 5.6 knows that kemi-proxy does not provide: they read as $null and the first read
 * logs that they are not provided (Kamailio would give a value), so a script relying on one shows.
 */
export const NOT_PROVIDED = ['stat', 'sel', 'xavu', 'xavi', 'rpl', 'ccp', 'msgbuf', 'fsn', 'Rn'] as const;

/**
 * PVs of other Kamailio modules kemi-proxy binds that it does not provide (same treatment; a
 * module that provides one registers it in its init, over this): tmx, rr, sl, siputils, kex,
 * corex, nathelper, dispatcher, htable.
 */
export const MODULE_PVS_NOT_PROVIDED = [
  'T_reply_ruid', 'T_reply_last', 'T_inv', 'T', 'T_branch', 'route_uri', 'fti', 'tti', 'rdir', 'ltt', 'pcv',
  'sruid', 'cfg', 'lsock', 'sock', 'rr_count', 'rr_top_count', 'dsv', 'shtrecord',
] as const;

/** Registers the core PVs of an instance (Kamailio's pv module and the core's). */
export function registerCorePvs(reg: PvRegistry, opts: ContextPvOptions = {}): void {
  const registerPv = reg.register.bind(reg);
  /** $var: private to a worker process and kept across messages, as in Kamailio. */
  const processVars = new Map<string, PvValue>();
  /** $shv: shared variables (one process here). */
  const sharedVars = new Map<string, PvValue>();
  registerMessagePvs(reg);
  registerContextPvs(reg, opts);
  for (const name of [...NOT_PROVIDED, ...MODULE_PVS_NOT_PROVIDED]) {
    registerPv(name, {
      get: (c, arg) => {
        const spec = arg ? `$${name}(${arg})` : `$${name}`;
        if (reg.firstReport(`not provided ${spec}`)) c.proxy.log(c, 'err', `pseudo-variable ${spec} is not provided in kemi-proxy: it reads as $null`);
        return null;
      },
    });
  }
  // $snd/$sndto/$sndfrom describe the outgoing message in onsend_route: $null elsewhere.
  registerOnSendPvs(reg);
  // Only seen in event_route[core:msg-received] and KSR's internal routes: $null here as there.
  registerPv('rcv', ro(() => null));
  registerPv('ksr', ro(() => null));
  registerPv('fsp', ro((c) => {
    if (!c.forcedSocket) return 0;
    return Number(/:(\d+)$/.exec(c.forcedSocket)?.[1] ?? 0);
  }));
  const ulookup = (c: MsgContext): { ruid?: string | null; ua?: string | null } | undefined =>
    c.moduleData.get('registrar:ruri') as { ruid?: string | null; ua?: string | null } | undefined;
  registerPv('ruid', ro((c) => ulookup(c)?.ruid));
  registerPv('location_ua', ro((c) => ulookup(c)?.ua));
  // $Au / $AU: the accounting user; the auth module answers with authorized credentials first.
  registerPv('Au', ro((c) => {
    const u = uriOf(safe(() => c.msg.from));
    return u ? `${u.user ?? ''}@${u.host}` : undefined;
  }));
  registerPv('AU', ro((c) => {
    const u = uriOf(safe(() => c.msg.from));
    return u ? u.user ?? '' : undefined;
  }));
  // $fs: the forced send socket (`proto:addr:port`), set as set_send_socket does; $null resets.
  registerPv('fs', {
    get: (c) => c.forcedSocket,
    set: (c, _a, v) => {
      if (v === null || v === '') {
        c.forcedSocket = null;
        return;
      }
      const p = parseSocketSpec(String(v));
      const s = p ? findSocket(c.proxy.sockets(), p) : undefined;
      if (!s) throw new Error(`$fs: no socket found to match [${String(v)}]`);
      c.forcedSocket = s.id;
    },
  });
  registerPv('ru', {
    get: (c) => (c.msg.isRequest ? c.msg.ruri : null),
    set: (c, _a, v) => {
      if (v === null) throw new Error('$ru cannot be $null');
      c.msg.ruri = String(v);
    },
  });
  registerPv('ruri', reg.handler('ru')!);
  registerPv('rU', { get: (c) => ruri(c)?.user || null, set: (c, _a, v) => setRuriPart(c, 'user', v) });
  registerPv('ruri.user', reg.handler('rU')!);
  registerPv('rd', { get: (c) => ruri(c)?.host || null, set: (c, _a, v) => setRuriPart(c, 'host', v) });
  registerPv('ruri.domain', reg.handler('rd')!);
  // As pv_get_xuri_attr: the port as a string, 5060 (5061 for TLS) when the URI has none.
  registerPv('rp', {
    get: (c) => {
      const u = ruri(c);
      if (!u) return null;
      if (u.port !== undefined) return String(u.port);
      return u.scheme === 'sips' || u.params.get('transport') === 'tls' ? '5061' : '5060';
    },
    set: (c, _a, v) => setRuriPart(c, 'port', v),
  });
  registerPv('rz', ro((c) => ruri(c)?.scheme));
  registerPv('ou', ro((c) => (c.msg.isRequest ? c.msg.originalRuri : null)));
  registerPv('ouri', reg.handler('ou')!);
  registerPv('oU', ro((c) => (c.msg.isRequest ? safe(() => parseUri(c.msg.originalRuri).user) || undefined : null)));
  // $branch(attr) / $(branch(attr)[i]): the additional branches (pv_get_branchx); q as 0..1000.
  registerPv('branch', {
    get: (c, attr, index) => {
      // As pv_get_branchx: $null without a branch at the index, count included.
      const b = c.branches[index ?? 0];
      if (!b) return null;
      if (attr === 'count') return c.branches.length;
      switch (attr) {
        case 'uri': return b.uri;
        case 'dst_uri': return b.dstUri;
        case 'path': return b.path;
        case 'q': return b.q < 0 ? null : Math.round(b.q * 1000);
        case 'send_socket': return b.socket;
        case 'flags': return b.flags;
        case 'ruid': return b.ruid;
        case 'instance': return b.instance;
        case 'location_ua': return b.location_ua;
        default: throw new Error(`$branch(${attr}): unknown attribute`);
      }
    },
    set: (c, attr, v, index) => {
      const b = c.branches[index ?? 0];
      if (!b) throw new PvSetError(`$branch(${attr}): no branch at index ${index ?? 0}`);
      const s = v === null ? null : String(v);
      switch (attr) {
        case 'uri':
          if (!s) throw new PvSetError('$branch(uri) cannot be empty');
          b.uri = s;
          break;
        case 'dst_uri': b.dstUri = s || null; break;
        case 'path': b.path = s || null; break;
        case 'q': b.q = v === null ? -1 : Number(v) / 1000; break;
        case 'send_socket': b.socket = s || null; break;
        case 'flags': b.flags = Number(v ?? 0) >>> 0; break;
        case 'ruid': b.ruid = s; break;
        case 'instance': b.instance = s; break;
        case 'location_ua': b.location_ua = s; break;
        default: throw new PvSetError(`$branch(${attr}): unknown attribute`);
      }
    },
  });
  registerPv('du', {
    get: (c) => c.dstUri,
    set: (c, _a, v) => {
      c.dstUri = v === null || v === '' ? null : String(v);
      if (c.dstUri) c.markRuriNew();
    },
  });
  registerPv('duri', reg.handler('du')!);
  nameAddrPvs(reg, 'f', (c) => safe(() => c.msg.from));
  nameAddrPvs(reg, 't', (c) => safe(() => c.msg.to));
  registerPv('ci', ro((c) => safe(() => c.msg.callId)));
  // As Kamailio: the CSeq number as written, a string.
  registerPv('cs', ro((c) => safe(() => c.msg.header('cseq')?.trim().split(/\s+/)[0])));
  registerPv('rm', ro((c) => safe(() => c.msg.method)));
  registerPv('rs', ro((c) => (c.msg.isRequest ? null : c.msg.status)));
  registerPv('rr', ro((c) => (c.msg.isRequest ? null : c.msg.reason)));
  registerPv('rv', ro((c) => c.msg.version));
  registerPv('si', ro((c) => c.rcv.srcAddress));
  registerPv('sp', ro((c) => c.rcv.srcPort));
  registerPv('Ri', ro((c) => c.rcv.localAddress));
  registerPv('Rp', ro((c) => c.rcv.localPort));
  registerPv('pr', ro((c) => c.rcv.proto));
  registerPv('proto', ro((c) => c.rcv.proto));
  registerPv('su', ro((c) => `sip:${c.rcv.family === 6 ? `[${c.rcv.srcAddress}]` : c.rcv.srcAddress}:${c.rcv.srcPort}${c.rcv.proto === 'udp' ? '' : `;transport=${c.rcv.proto}`}`));
  registerPv('ua', ro((c) => c.msg.header('user-agent')));
  registerPv('ct', ro((c) => c.msg.header('contact')));
  registerPv('cT', ro((c) => c.msg.contentType));
  registerPv('cl', ro((c) => c.msg.contentLength));
  // As Kamailio: the message as received (msg->buf); $mbu shows the changes made since.
  registerPv('ml', ro((c) => c.msg.buf.length));
  registerPv('mb', ro((c) => c.msg.buf.toString('latin1')));
  registerPv('rb', ro((c) => c.msg.body.toString('latin1')));
  registerPv('mi', ro((c) => c.msgId));
  registerPv('mf', { get: (c) => c.flags, set: (c, _a, v) => void (c.flags = Number(v ?? 0) >>> 0) });
  registerPv('sf', { get: (c) => c.sflags, set: (c, _a, v) => void (c.sflags = Number(v ?? 0) >>> 0) });
  registerPv('bf', { get: (c) => c.bflags[0] ?? 0, set: (c, _a, v) => void (c.bflags[0] = Number(v ?? 0) >>> 0) });
  registerPv('hdr', ro((c, name, index) => {
    const all = c.msg.headers(name);
    if (index === null) return all[0];
    return index < 0 ? all[all.length + index] : all[index];
  }));
  registerPv('hdrc', ro((c, name) => c.msg.headers(name).length));
  const scriptVar = {
    get: (_c: MsgContext, name: string) => processVars.get(name) ?? 0,
    set: (_c: MsgContext, name: string, v: PvValue | null) => {
      if (v === null) processVars.delete(name);
      else processVars.set(name, v);
    },
  };
  registerPv('vz', scriptVar);
  registerPv('var', {
    get: (_c, name) => processVars.get(name) ?? 0,
    set: (_c, name, v) => {
      if (v === null) processVars.delete(name);
      else processVars.set(name, v);
    },
  });
  registerPv('vn', {
    get: (_c, name) => processVars.get(`\u0000n${name}`) ?? null,
    set: (_c, name, v) => {
      if (v === null) processVars.delete(`\u0000n${name}`);
      else processVars.set(`\u0000n${name}`, v);
    },
  });
  registerPv('shv', {
    get: (_c, name) => sharedVars.get(name) ?? 0,
    set: (_c, name, v) => {
      if (v === null) sharedVars.delete(name);
      else sharedVars.set(name, v);
    },
  });
  registerAvpPvs(reg);
  const cred = (part: 'username' | 'realm' | 'domain') =>
    ro((c) => {
      const h = c.msg.header('proxy-authorization') ?? c.msg.header('authorization');
      if (!h) return undefined;
      const field = part === 'domain' ? 'username' : part;
      const m = new RegExp(`${field}\\s*=\\s*"?([^",]*)"?`, 'i').exec(h);
      if (!m) return undefined;
      const v = m[1]!;
      if (part === 'username') return v.includes('@') ? v.slice(0, v.indexOf('@')) : v;
      // As Kamailio's digest parser: the part after '@' of the username, "" without one.
      if (part === 'domain') return v.includes('@') ? v.slice(v.indexOf('@') + 1) : '';
      return v;
    });
  registerPv('au', cred('username'));
  registerPv('ar', cred('realm'));
  registerPv('ad', cred('domain'));
  registerPv('aU', ro((c) => {
    const h = c.msg.header('proxy-authorization') ?? c.msg.header('authorization');
    return h ? /username\s*=\s*"?([^",]*)"?/i.exec(h)?.[1] : undefined;
  }));
}
