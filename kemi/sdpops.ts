/**
 * KSR.sdpops (src/modules/sdpops): tests and edits of the SDP body, with Kamailio 5.6.3's KEMI
 * return codes (the KEMI functions are the module's inner functions, not the config wrappers):
 * remove_codecs_* and keep_codecs_* return 0 on success; remove_media and remove_line_by_prefix
 * the number removed; sdp_with_media / sdp_with_active_media 1, 0 (not found) or -1;
 * sdp_with_codecs_by_id 1 (all found), 2 (some), 0 (none); sdp_with_codecs_by_name 1, 2, -1 (none).
 *
 * As in Kamailio, every function reads the SDP as received (edits are lumps applied when the
 * message is sent), and codec lists are handled byte for byte as sdpops does, quirks included:
 * the static name CN maps to "13" followed by NUL bytes, so a name list stops after CN.
 * Edits go through the message's body edits (removed lines take their line ending with them).
 * Left out (fail loudly): nothing of the KEMI list; SDP inside multipart bodies raises an error.
 */
import type { MsgContext } from '../src/context/msg-context.js';
import { int, str } from './args.js';
import { defineModule, type KemiExport } from './types.js';
import { locateLine, parseSdp, streamsOf, type Sdp, type SdpStream } from './sdpops-sdp.js';

// ---- Kamailio's string helpers, byte for byte --------------------------------------------------

interface Span {
  s: string;
  pos: number;
  len: number;
}

/** str_find_token: skip one leading delimiter and leading white space; the token ends at delim, NUL, CR or LF. */
function findToken(text: Span, delim: string): Span {
  if (text.len > 0 && text.s[text.pos] === delim) {
    text.pos++;
    text.len--;
  }
  while (text.len > 0 && ' \t\r\n'.includes(text.s[text.pos]!)) {
    text.pos++;
    text.len--;
  }
  let n = 0;
  while (n < text.len) {
    const c = text.s[text.pos + n]!;
    if (c === delim || c === '\0' || c === '\r' || c === '\n') break;
    n++;
  }
  return { s: text.s, pos: text.pos, len: n };
}

/** Tokens of a list as sdpops walks them (stops at the first empty token). */
function tokens(list: string, delim: string): string[] {
  const out: string[] = [];
  const t: Span = { s: list, pos: 0, len: list.length };
  for (;;) {
    const tok = findToken(t, delim);
    if (tok.len <= 0) break;
    t.len -= tok.pos + tok.len - t.pos;
    t.pos = tok.pos + tok.len;
    out.push(list.slice(tok.pos, tok.pos + tok.len));
  }
  return out;
}

/** sdp_codec_in_str: is `codec` one of the `delim`-separated items of `all`? */
function codecIn(all: string, codec: string, delim: string): boolean {
  if (all.length <= 0 || codec.length <= 0) return false;
  let cmp = true;
  for (let i = 0; i < all.length; i++) {
    if (cmp && codec.length <= all.length - i && all.startsWith(codec, i)) {
      if (i + codec.length === all.length || all[i + codec.length] === delim) return true;
    }
    cmp = all[i] === delim;
  }
  return false;
}

/** sdpops_codecsmap_table: static payload types by name (CN's entry is "13" read with length 5). */
const STATIC_IDS: Readonly<Record<string, string>> = {
  PCMU: '0', GSM: '3', G723: '4', DVI4: '5,6,16,17', LPC: '7', PCMA: '8', G722: '9', L16: '10,11',
  QCELP: '12', CN: '13\0\0\0', MPA: '14', G728: '15', G729: '18',
};

/** sdpops_build_ids_list: the comma list of payload ids for a comma list of codec names; null when empty. */
function idsForNames(sdp: Sdp, names: string): string | null {
  const ids: string[] = [];
  for (const name of tokens(names, ',')) {
    const fixed = STATIC_IDS[name.toUpperCase()];
    if (fixed !== undefined) {
      ids.push(fixed);
      continue;
    }
    const found: string[] = [];
    for (const st of streamsOf(sdp)) {
      for (const [pt, enc] of st.rtpmap) if (enc.toLowerCase() === name.toLowerCase() && found.length < 16) found.push(pt);
    }
    ids.push(...found);
  }
  const list = ids.join(',');
  if (list.length >= 128) return null;
  return list.length > 0 ? list : null;
}

// ---- edits -------------------------------------------------------------------------------------

/** Deletes body[start, end) (received-body offsets) through the message's edits. */
function del(ctx: MsgContext, start: number, end: number): void {
  const base = ctx.msg.headerBlock.length;
  ctx.msg.editRaw(base + start, base + end, '');
}

/** sdp_remove_str_codec_id: the first `codec` of the payload list, with the space before it. */
function removeCodecId(ctx: MsgContext, st: SdpStream, codec: string): void {
  const all = st.payloads;
  let cmp = true;
  for (let i = 0; i < all.length; i++) {
    if (cmp && codec.length <= all.length - i && all.startsWith(codec, i)) {
      if (i + codec.length === all.length || all[i + codec.length] === ' ') {
        del(ctx, st.payloadsAt + i - 1, st.payloadsAt + i + codec.length);
        return;
      }
    }
    cmp = all[i] === ' ';
  }
}

const CODEC_ATTRS = ['a=rtpmap:', 'a=fmtp:', 'a=rtcp-fb:'];

/** sdp_remove_str_codec_id_attrs: the stream's rtpmap / fmtp / rtcp-fb lines of that codec. */
function removeCodecAttrs(ctx: MsgContext, body: string, st: SdpStream, codec: string): void {
  let p = st.rawStart;
  let left = st.rawEnd - st.rawStart;
  while (left > 5) {
    const line = locateLine(body, p);
    const len = line.end - line.start;
    const text = body.slice(line.start, line.end);
    if (len > 5 && (text.charCodeAt(0) | 0x20) === 0x61) {
      for (const a of CODEC_ATTRS) {
        if (len > a.length + codec.length && text.slice(0, a.length).toLowerCase() === a
          && text.startsWith(codec, a.length) && text[a.length + codec.length] === ' ') {
          del(ctx, line.start, line.end);
        }
      }
    }
    p = line.end;
    left -= len;
  }
}

type Parsed = { sdp: Sdp } | number;

/** parse_sdp and Kamailio's handling of its result: the SDP, or the code to return. */
function sdpOf(ctx: MsgContext, noSdp: number): Parsed {
  const r = parseSdp(ctx);
  if ('sdp' in r) return r;
  if (r.code < 0) {
    ctx.proxy.log(ctx, 'err', `sdpops: Unable to parse sdp (${r.reason})`);
    return -1;
  }
  return noSdp;
}

const mediaIs = (st: SdpStream, media: string): boolean => st.media.toLowerCase() === media.toLowerCase();

function removeCodecsById(ctx: MsgContext, codecs: string, media: string, parsed?: Sdp): number {
  const p = parsed ? { sdp: parsed } : sdpOf(ctx, -1);
  if (typeof p === 'number') return p;
  const sdp = p.sdp;
  for (const st of streamsOf(sdp)) {
    if (media && !mediaIs(st, media)) continue;
    for (const c of tokens(codecs, ',')) {
      removeCodecId(ctx, st, c);
      removeCodecAttrs(ctx, sdp.body, st, c);
    }
  }
  return 0;
}

function keepCodecsById(ctx: MsgContext, codecs: string, media: string, parsed?: Sdp): number {
  const p = parsed ? { sdp: parsed } : sdpOf(ctx, -1);
  if (typeof p === 'number') return p;
  const sdp = p.sdp;
  for (const st of streamsOf(sdp)) {
    if (media && !mediaIs(st, media)) continue;
    for (const c of tokens(st.payloads, ' ')) {
      if (codecIn(codecs, c, ',')) continue;
      removeCodecId(ctx, st, c);
      removeCodecAttrs(ctx, sdp.body, st, c);
    }
  }
  return 0;
}

function byName(ctx: MsgContext, names: string, media: string, op: typeof removeCodecsById): number {
  const p = sdpOf(ctx, -1);
  if (typeof p === 'number') return p;
  const ids = idsForNames(p.sdp, names);
  if (ids === null) return -1;
  return op(ctx, ids, media, p.sdp);
}

/** sdp_with_codecs_by_id: 1 every codec found in some stream, 2 some, 0 none. */
function withCodecsById(sdp: Sdp, codecs: string): number {
  let found = 0;
  let missing = 0;
  for (const st of streamsOf(sdp)) {
    for (const c of tokens(codecs, ',')) {
      if (codecIn(st.payloads, c, ' ')) found = 1;
      else missing = 1;
    }
  }
  return found + (found ? missing : 0);
}

/** Starts of the lines in body[from, to) that begin with "<c>=" (find_sdp_line / find_next_sdp_line). */
function linesStarting(body: string, from: number, to: number, c: string): number[] {
  const out: number[] = [];
  let p = from;
  while (p < to) {
    if (body[p] === c && body[p + 1] === '=') out.push(p);
    const nl = body.indexOf('\n', p);
    if (nl < 0) break;
    p = nl + 1;
  }
  return out;
}

/** sdp_remove_line_lump_by_prefix over body[from, to): lines starting with prefix, adjacent ones in one edit. */
function removeLines(ctx: MsgContext, body: string, from: number, to: number, prefix: string): number {
  let found = 0;
  let run: { start: number; end: number } | null = null;
  for (const at of linesStarting(body, from, to, prefix[0]!)) {
    const line = locateLine(body, at);
    if (to < line.start + prefix.length) break;
    if (!body.startsWith(prefix, line.start)) continue;
    if (run && run.end === line.start) run.end = line.end;
    else {
      if (run) del(ctx, run.start, run.end);
      run = { ...line };
    }
    found++;
  }
  if (run) del(ctx, run.start, run.end);
  return found;
}

function removeLineByPrefix(ctx: MsgContext, prefix: string, media: string): number {
  const p = sdpOf(ctx, -1);
  if (typeof p === 'number') return p;
  const { body } = p.sdp;
  if (!prefix) return 0;
  if (!media) return removeLines(ctx, body, 0, body.length, prefix);
  let n = 0;
  for (const st of streamsOf(p.sdp)) if (mediaIs(st, media)) n += removeLines(ctx, body, st.rawStart, st.rawEnd, prefix);
  return n;
}

function removeMedia(ctx: MsgContext, media: string): number {
  const p = sdpOf(ctx, -1);
  if (typeof p === 'number') return p;
  let n = 0;
  for (const streams of p.sdp.sessions) {
    streams.forEach((st, i) => {
      if (!mediaIs(st, media)) return;
      const next = streams[i + 1];
      del(ctx, st.mediaAt - 2, next ? next.mediaAt - 2 : p.sdp.body.length);
      n++;
    });
  }
  return n;
}

/** "$avp(name)" (or "$avp(s:name)") -> name; null for anything else. */
function avpName(spec: string): string | null {
  const m = /^\$avp\((?:s:)?([^)]+)\)$/.exec(spec.trim());
  return m ? m[1]! : null;
}

function addAvp(ctx: MsgContext, name: string, value: string): void {
  const vs = ctx.avps.get(name);
  if (vs) vs.unshift(value);
  else ctx.avps.set(name, [value]);
}

function withAvp(ctx: MsgContext, spec: string, fn: (name: string) => number): number {
  const name = avpName(spec);
  if (name === null) {
    ctx.proxy.log(ctx, 'err', `sdpops: malformed or non AVP ${spec} AVP definition`);
    return -1;
  }
  return fn(name);
}

function sdpContentFlags(ctx: MsgContext, flags: number): number {
  if (flags === 0) return 'sdp' in parseSdp(ctx) ? 1 : -1;
  const body = ctx.msg.receivedBody;
  if (body.length === 0) return -1;
  const ct = (ctx.msg.contentType ?? '').trim().toLowerCase();
  if (!ct) return 1;
  if (ct.startsWith('application/')) return /^application\/sdp\s*(;|$)/.test(ct) ? 1 : -1;
  if (ct.startsWith('multipart/mixed')) return body.toString('latin1').toLowerCase().includes('application/sdp') ? 1 : -1;
  return -1;
}

function sdpPrint(ctx: MsgContext, level: number): number {
  const p = sdpOf(ctx, -1);
  if (typeof p === 'number') return p;
  const lv = level <= -3 ? 'crit' : level === -1 ? 'err' : level === 0 ? 'warn' : level === 1 ? 'notice' : level === 2 ? 'info' : 'dbg';
  for (const [si, streams] of p.sdp.sessions.entries()) {
    for (const [i, st] of streams.entries()) {
      ctx.proxy.log(ctx, lv, `sdpops: session[${si}] stream[${i}]: media=[${st.media}] port=[${st.port}] transport=[${st.transport}] payloads=[${st.payloads}] sendrecv=[${st.sendrecv}] rtpmap=[${st.rtpmap.map(([pt, e]) => `${pt}:${e}`).join(',')}]`);
    }
  }
  return 1;
}

const exports: KemiExport[] = [
  { name: 'remove_codecs_by_name', params: ['str', 'str'], ret: 'int', fn: (ctx, c, m) => byName(ctx, str(c), str(m), removeCodecsById) },
  { name: 'remove_codecs_by_id', params: ['str', 'str'], ret: 'int', fn: (ctx, c, m) => removeCodecsById(ctx, str(c), str(m)) },
  { name: 'keep_codecs_by_name', params: ['str', 'str'], ret: 'int', fn: (ctx, c, m) => byName(ctx, str(c), str(m), keepCodecsById) },
  { name: 'keep_codecs_by_id', params: ['str', 'str'], ret: 'int', fn: (ctx, c, m) => keepCodecsById(ctx, str(c), str(m)) },
  { name: 'remove_line_by_prefix', params: ['str', 'str'], ret: 'int', fn: (ctx, p, m) => removeLineByPrefix(ctx, str(p), str(m)) },
  { name: 'remove_media', params: ['str'], ret: 'int', fn: (ctx, m) => removeMedia(ctx, str(m)) },
  { name: 'sdp_content', params: [], ret: 'int', fn: (ctx) => ('sdp' in parseSdp(ctx) ? 1 : -1) },
  { name: 'sdp_content_flags', params: ['int'], ret: 'int', fn: (ctx, f) => sdpContentFlags(ctx, int(f)) },
  { name: 'sdp_with_ice', params: [], ret: 'int', fn: (ctx) => {
    const b = ctx.msg.receivedBody;
    return b.length > 0 && b.includes('a=candidate') ? 1 : -1;
  } },
  { name: 'sdp_with_media', params: ['str'], ret: 'int', fn: (ctx, m) => {
    const p = sdpOf(ctx, 0);
    if (typeof p === 'number') return p;
    return streamsOf(p.sdp).some((st) => mediaIs(st, str(m))) ? 1 : 0;
  } },
  { name: 'sdp_with_active_media', params: ['str'], ret: 'int', fn: (ctx, m) => {
    const p = sdpOf(ctx, 0);
    if (typeof p === 'number') return p;
    return streamsOf(p.sdp).some((st) => mediaIs(st, str(m)) && Number.parseInt(st.port, 10) !== 0
      && (st.sendrecv === '' || st.sendrecv.toLowerCase() !== 'inactive')) ? 1 : 0;
  } },
  { name: 'sdp_with_codecs_by_id', params: ['str'], ret: 'int', fn: (ctx, c) => {
    const p = sdpOf(ctx, -1);
    if (typeof p === 'number') return p;
    return withCodecsById(p.sdp, str(c));
  } },
  { name: 'sdp_with_codecs_by_name', params: ['str'], ret: 'int', fn: (ctx, c) => {
    const p = sdpOf(ctx, -1);
    if (typeof p === 'number') return p;
    const ids = idsForNames(p.sdp, str(c));
    if (ids === null) return -1;
    const r = withCodecsById(p.sdp, ids);
    return r <= 0 ? r - 1 : r;
  } },
  { name: 'sdp_get', params: ['str'], ret: 'int', fn: (ctx, a) => withAvp(ctx, str(a), (name) => {
    const p = sdpOf(ctx, -2);
    if (typeof p === 'number') return p;
    addAvp(ctx, name, p.sdp.body);
    return 1;
  }) },
  { name: 'sdp_transport', params: ['str'], ret: 'int', fn: (ctx, a) => withAvp(ctx, str(a), (name) => {
    const p = sdpOf(ctx, 1);
    if (typeof p === 'number') return p;
    let transport: string | null = null;
    for (const st of streamsOf(p.sdp)) {
      if (transport === null) transport = st.transport;
      else if (transport.toLowerCase() !== st.transport.toLowerCase()) return -2;
    }
    if (transport !== null) addAvp(ctx, name, transport);
    return 1;
  }) },
  { name: 'sdp_with_transport', params: ['str'], ret: 'int', fn: (ctx, t) => {
    const p = sdpOf(ctx, 0);
    if (typeof p === 'number') return -1;
    return streamsOf(p.sdp).some((st) => st.transport.toLowerCase() === str(t).toLowerCase()) ? 1 : -1;
  } },
  { name: 'sdp_with_transport_like', params: ['str'], ret: 'int', fn: (ctx, t) => {
    const p = sdpOf(ctx, 0);
    if (typeof p === 'number') return -1;
    return streamsOf(p.sdp).some((st) => st.transport.includes(str(t))) ? 1 : -1;
  } },
  { name: 'sdp_get_line_startswith', params: ['str', 'str'], ret: 'int', fn: (ctx, a, s) => {
    const prefix = str(s);
    const spec = str(a);
    if (!prefix || !spec) {
      ctx.proxy.log(ctx, 'err', 'sdpops: Search string is null or empty');
      return -1;
    }
    const p = sdpOf(ctx, -2);
    if (typeof p === 'number') return p;
    return withAvp(ctx, spec, (name) => {
      const { body } = p.sdp;
      for (const at of linesStarting(body, 0, body.length, prefix[0]!)) {
        const line = locateLine(body, at);
        if (body.startsWith(prefix, line.start)) {
          addAvp(ctx, name, body.slice(line.start, line.end).replace(/\r\n$/, ''));
          return 1;
        }
      }
      return -1;
    });
  } },
  { name: 'sdp_print', params: ['int'], ret: 'int', fn: (ctx, l) => sdpPrint(ctx, int(l)) },
];

export default defineModule('sdpops', exports);
