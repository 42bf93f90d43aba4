/**
 * nathelper's fix_nated_sdp / fix_nated_sdp_ip (Kamailio nathelper.c ki_fix_nated_sdp_ip): SDP
 * edits for a UA behind NAT without a media relay. Part of KSR.nathelper.
 *
 * level bits: 0x01 `a=direction:active` at the end of every media section; 0x02 the address of
 * every `c=` line becomes the source address (or the given one); 0x04 the `nortpproxy_str` line
 * (modparam, empty by default: then nothing); 0x08 the same for `o=` lines. With 0x02 or 0x08,
 * `a=rtcp` lines that carry an address are rewritten too (RFC 3605). A null address (0.0.0.0, ::)
 * or one already equal is left alone; with modparam sdp_oldmediaip (1, the default) each rewrite
 * adds `a=oldmediaip:<old>` (`a=oldmediaip6:` for IPv6) at the end of the body.
 * Returns 1 when an address was rewritten, 2 when none was, -1 without a body.
 */
import type { MsgContext } from '../src/context/msg-context.js';

export interface SdpFixSettings {
  oldMediaIp: boolean;
  nortpproxy: string;
}

/** One address found in an SDP line: its family and offsets in the body text. */
interface Found {
  start: number;
  end: number;
  ip: string;
  pf: 4 | 6;
}

/**
 * nh_extract_mediaip over every line that starts with `prefix`: the address after "IP4 "/"IP6 ".
 * null (an error) when a line has none and `canOmit` is false.
 */
function findAddresses(body: string, prefix: string, canOmit: boolean): Found[] | null {
  const out: Found[] = [];
  let pos = 0;
  while (pos <= body.length) {
    const at = pos === 0 && body.startsWith(prefix) ? 0 : body.indexOf(`\n${prefix}`, pos);
    if (at < 0) break;
    const lineStart = at === 0 && body.startsWith(prefix) && pos === 0 ? 0 : at + 1;
    let lineEnd = body.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = body.length;
    const line = body.slice(lineStart, lineEnd).replace(/\r$/, '');
    const m = /\bIP([46])[ \t]+([^ \t\r\n/]+)/.exec(line);
    if (!m) {
      if (!canOmit) return null;
    } else {
      const start = lineStart + m.index + m[0].length - m[2]!.length;
      out.push({ start, end: start + m[2]!.length, ip: m[2]!, pf: m[1] === '6' ? 6 : 4 });
    }
    pos = lineEnd;
    if (lineEnd >= body.length) break;
  }
  return out;
}

const isNull = (ip: string, pf: 4 | 6): boolean => (pf === 4 ? ip === '0.0.0.0' : /^(::|0*:0*:0*:0*:0*:0*:0*:0*)$/.test(ip));

export function fixNatedSdp(ctx: MsgContext, level: number, ipArg: string | null, cfg: SdpFixSettings): number {
  const msg = ctx.msg;
  const bodyBuf = msg.receivedBody;
  if (bodyBuf.length === 0) {
    ctx.proxy.log(ctx, 'err', 'nathelper: cannot extract body from msg!');
    return -1;
  }
  const ct = (msg.contentType ?? '').toLowerCase();
  if (ct.startsWith('multipart/')) throw new Error('KSR.nathelper.fix_nated_sdp: SDP inside a multipart body is not supported by kemi-proxy');
  if (!ct.startsWith('application/sdp')) {
    ctx.proxy.log(ctx, 'err', 'nathelper: cannot extract body from msg! (not application/sdp)');
    return -1;
  }
  // extract_body: the body without its trailing CR/LF, so text added "at the end" goes before them.
  const body = bodyBuf.toString('latin1').replace(/[\r\n]+$/, '');
  if (!body) return -1;
  const base = msg.headerBlock.length;
  const edits: { at: number; end: number; text: string }[] = [];
  const tail: string[] = [];
  if (level & 0x01) {
    // Before every "\r\nm=" after the first media line, and at the end of the body.
    let m = body.indexOf('\r\nm=');
    while (m >= 0) {
      const next = body.indexOf('\r\nm=', m + 4);
      const at = next >= 0 ? next : body.length;
      edits.push({ at, end: at, text: '\r\na=direction:active' });
      m = next;
    }
  }
  if (level & 0x04 && cfg.nortpproxy) edits.push({ at: body.length, end: body.length, text: `\r\n${cfg.nortpproxy}` });
  let count = 0;
  if (level & (0x02 | 0x08)) {
    const newIp = ipArg || ctx.rcv.srcAddress;
    const newPf: 4 | 6 = newIp.includes(':') ? 6 : 4;
    const lines: [string, boolean][] = [['a=rtcp', true]];
    if (level & 0x02) lines.push(['c=', false]);
    if (level & 0x08) lines.push(['o=', false]);
    for (const [prefix, canOmit] of lines) {
      const found = findAddresses(body, prefix, canOmit);
      if (found === null) {
        ctx.proxy.log(ctx, 'err', `nathelper: no 'IP[4|6]' in '${prefix}' field`);
        return -1;
      }
      for (const f of found) {
        if ((f.pf === newPf && isNull(f.ip, f.pf)) || f.ip === newIp) continue;
        if (cfg.oldMediaIp) tail.push(`\r\n${f.pf === 6 ? 'a=oldmediaip6:' : 'a=oldmediaip:'}${f.ip}`);
        if (f.pf === newPf) edits.push({ at: f.start, end: f.end, text: newIp });
        else {
          // The family changes too: "IP4 a.b.c.d" becomes "IP6 x::y" (and back).
          edits.push({ at: f.start - 2, end: f.end, text: `${newPf} ${newIp}` });
        }
        count++;
      }
    }
  }
  for (const t of tail) edits.push({ at: body.length, end: body.length, text: t });
  // Applied from the end so that offsets stay valid; at the same offset, in the order added.
  edits.sort((a, b) => b.at - a.at);
  let i = 0;
  while (i < edits.length) {
    let j = i;
    while (j + 1 < edits.length && edits[j + 1]!.at === edits[i]!.at && edits[j + 1]!.end === edits[i]!.end) j++;
    const group = edits.slice(i, j + 1);
    const e = group[0]!;
    msg.editRaw(base + e.at, base + e.end, group.map((g) => g.text).join(''));
    i = j + 1;
  }
  return count > 0 ? 1 : 2;
}
