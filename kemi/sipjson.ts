/**
 * KSR.sipjson (src/modules/sipjson): sj_serialize(mode, pv) stores in `pv` the JSON document
 * Kamailio 5.6.3 builds for the message: keys in its order (mt, rm, pr, si, sp, Ri, Rp, ru, rU, rd,
 * rp, rs, rr, fU, fd, ua, ci, then per mode character: B body "rb", c CSeq number "cs", t "tU"/"td";
 * 0 adds nothing), printed unformatted as its srjson (cJSON) does: only `"`, `\` and control
 * characters escaped, other bytes as they are, integers as integers. "rp" is the port written in
 * the R-URI, 0 when none (Kamailio's port_no). 1 on success, -1 when the PV cannot be set.
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { setPv } from '../src/pv/registry.js';
import { parseUri, type SipUri } from '../src/sip/uri.js';
import { str } from './args.js';
import { defineModule, type KemiExport } from './types.js';

const ESC: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** cJSON's print_string_ptr. */
function jstr(s: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${s.replace(/["\\\x00-\x1f]/g, (c) => ESC[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

function uriOf(text: string | undefined): SipUri | null {
  if (!text) return null;
  try {
    return parseUri(text);
  } catch {
    return null;
  }
}

function safe<T>(f: () => T, d: T): T {
  try {
    return f();
  } catch {
    return d;
  }
}

/** The document for `mode` as ordered [key, value] pairs. */
export function sjFields(ctx: MsgContext, mode: string): Array<[string, string | number]> {
  const m = ctx.msg;
  const r = ctx.rcv;
  const out: Array<[string, string | number]> = [];
  const reply = !m.isRequest;
  out.push(['mt', reply ? 1 : 2]);
  out.push(['rm', reply ? safe(() => m.cseq.method, '') : m.method]);
  out.push(['pr', r.proto]);
  out.push(['si', r.srcAddress.replace(/^\[|\]$/g, '')]);
  out.push(['sp', r.srcPort]);
  out.push(['Ri', r.localAddress.replace(/^\[|\]$/g, '')]);
  out.push(['Rp', r.localPort]);
  if (reply) {
    out.push(['ru', ''], ['rU', ''], ['rd', ''], ['rp', 0], ['rs', m.status], ['rr', m.reason]);
  } else {
    const ru = m.ruri;
    const u = uriOf(ru);
    out.push(['ru', u ? ru : '']);
    out.push(['rU', u?.user ?? ''], ['rd', u?.host ?? ''], ['rp', u?.port ?? 0], ['rs', 0], ['rr', '']);
  }
  const f = uriOf(safe(() => m.from.uri, ''));
  out.push(['fU', f?.user ?? ''], ['fd', f?.host ?? '']);
  out.push(['ua', m.header('user-agent') ?? '']);
  out.push(['ci', safe(() => m.callId, '')]);
  for (const c of mode) {
    if (c === 'B') out.push(['rb', m.receivedBody.toString('latin1')]);
    else if (c === 'c') out.push(['cs', safe(() => String(m.cseq.seq), '')]);
    else if (c === 't') {
      const t = uriOf(safe(() => m.to.uri, ''));
      out.push(['tU', t?.user ?? ''], ['td', t?.host ?? '']);
    }
  }
  return out;
}

export function sjSerialize(ctx: MsgContext, mode: string): string {
  return `{${sjFields(ctx, mode).map(([k, v]) => `${jstr(k)}:${typeof v === 'number' ? String(Math.trunc(v)) : jstr(v)}`).join(',')}}`;
}

const exports: KemiExport[] = [
  { name: 'sj_serialize', params: ['str', 'str'], ret: 'int', fn: (ctx, mode, pv) => {
    const json = sjSerialize(ctx, str(mode));
    try {
      setPv(ctx, str(pv), json);
    } catch (e) {
      ctx.proxy.log(ctx, 'err', `sipjson: cannot set ${str(pv)}: ${e instanceof Error ? e.message : String(e)}`);
      return -1;
    }
    return 1;
  } },
];

export default defineModule('sipjson', exports);
