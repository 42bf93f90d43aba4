/**
 * Writing $fu/$fU/$fd/$fn and $tu/$tU/$td/$tn (Kamailio's pv_set_xto_attr): the part is replaced
 * in the From/To header on the wire, everything else of the header kept byte for byte. As
 * Kamailio's lumps, the change shows in the message sent, not to later reads in the same route.
 */
import type { MsgContext, PvValue } from '../context/msg-context.js';
import { PvSetError } from './registry.js';

export type XtoPart = 'uri' | 'user' | 'domain' | 'display';

/** Offsets (in the message buffer) of the parts of a name-addr header value. */
interface XtoSpan {
  uri: [number, number];
  user: [number, number] | null;
  host: [number, number];
  display: [number, number] | null;
  /** Where the `<` is (null for a bare URI). */
  lt: number | null;
}

function span(raw: string, base: number): XtoSpan | null {
  const lt = raw.indexOf('<');
  let us: number;
  let ue: number;
  if (lt >= 0) {
    us = lt + 1;
    ue = raw.indexOf('>', us);
    if (ue < 0) return null;
  } else {
    us = 0;
    const semi = raw.indexOf(';');
    ue = semi < 0 ? raw.length : semi;
    while (ue > us && /\s/.test(raw[ue - 1]!)) ue--;
  }
  const uri = raw.slice(us, ue);
  const colon = uri.indexOf(':');
  if (colon < 0) return null;
  const at = uri.indexOf('@', colon);
  const hs = at >= 0 ? at + 1 : colon + 1;
  let he = hs;
  if (uri[he] === '[') he = uri.indexOf(']', he) + 1;
  while (he < uri.length && !/[:;?>]/.test(uri[he]!)) he++;
  let display: [number, number] | null = null;
  if (lt > 0) {
    let de = lt;
    while (de > 0 && /\s/.test(raw[de - 1]!)) de--;
    if (de > 0) display = [base, base + de];
  }
  return {
    uri: [base + us, base + ue],
    user: at >= 0 ? [base + us + colon + 1, base + us + at] : null,
    host: [base + us + hs, base + us + he],
    display,
    lt: lt >= 0 ? base + lt : null,
  };
}

export function setXtoPart(ctx: MsgContext, header: 'from' | 'to', part: XtoPart, v: PvValue | null): void {
  const field = ctx.msg.headerField(header);
  if (!field) throw new PvSetError(`$${header === 'from' ? 'f' : 't'}*: no ${header} header`);
  const raw = ctx.msg.buf.toString('latin1', field.valueStart, field.valueEnd);
  const s = span(raw, field.valueStart);
  if (!s) throw new PvSetError(`cannot parse the ${header} header`);
  const text = v === null ? null : String(v);
  const edit = (r: [number, number], t: string): void => ctx.msg.editHeaders(r[0], r[1], t);
  switch (part) {
    case 'uri':
      // As Kamailio: the URI cannot be deleted (a warning, nothing done).
      if (text === null) return;
      edit(s.uri, text);
      return;
    case 'user':
      if (text === null) {
        if (s.user) edit([s.user[0], s.user[1] + 1], '');
        return;
      }
      if (s.user) edit(s.user, text);
      else edit([s.host[0], s.host[0]], `${text}@`);
      return;
    case 'domain':
      if (text === null) return;
      edit(s.host, text);
      return;
    case 'display':
      if (text === null) {
        if (s.display && s.lt !== null) edit([s.display[0], s.lt], '');
        return;
      }
      if (s.display) edit(s.display, text);
      else if (s.lt !== null) edit([s.lt, s.lt], `${text} `);
      // A bare URI gets angle brackets too. Kept difference: Kamailio writes the display name in
      // front of the bare URI (`"N" sip:u@h;tag=x`), a header that no longer parses
      // (test/e2e/pv-diff.test.ts shows both).
      else {
        edit([s.uri[0], s.uri[0]], `${text} <`);
        edit([s.uri[1], s.uri[1]], '>');
      }
      return;
  }
}
