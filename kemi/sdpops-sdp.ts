/**
 * The SDP model sdpops works on, as Kamailio's parse_sdp (src/core/parser/sdp/sdp.c) builds it from
 * the received body: sessions from `v=` lines, each needing `o=`, an `m=` and a `c=` (at session
 * level or in every stream); streams from `m=` to the next `m=`, with their media, port, transport,
 * payload list, direction attribute and rtpmap encodings. Offsets are into the received body.
 */
import type { MsgContext } from '../src/context/msg-context.js';

export interface SdpStream {
  media: string;
  /** Offset of the media token (just after "m="). */
  mediaAt: number;
  port: string;
  transport: string;
  /** The payload list of the m= line and its offset. */
  payloads: string;
  payloadsAt: number;
  /** a=sendrecv / sendonly / recvonly / inactive of the stream, '' when absent. */
  sendrecv: string;
  /** Encodings from a=rtpmap, in m= payload order: [payload, encoding name]. */
  rtpmap: Array<[string, string]>;
  /** The stream's text: from its m= line to the next m= (or the end of the session). */
  rawStart: number;
  rawEnd: number;
}

export interface Sdp {
  body: string;
  sessions: SdpStream[][];
}

/** `{ sdp }`, or Kamailio's parse_sdp codes: 1 no body, -1 error (no/other Content-Type, bad SDP). */
export type SdpParse = { sdp: Sdp } | { code: 1 | -1; reason: string };

/** The start of the next line beginning with `c=` at or after `from` (a line start) and before `limit`. */
function findLine(body: string, from: number, limit: number, c: string): number {
  let p = from;
  while (p < limit) {
    if (body[p] === c && body[p + 1] === '=') return p;
    const nl = body.indexOf('\n', p);
    if (nl < 0 || nl + 1 >= limit) return -1;
    p = nl + 1;
  }
  return -1;
}

function lineEnd(body: string, p: number, limit: number): number {
  const nl = body.indexOf('\n', p);
  const e = nl < 0 || nl > limit ? limit : nl;
  return body[e - 1] === '\r' ? e - 1 : e;
}

export function parseSdp(ctx: MsgContext): SdpParse {
  const msg = ctx.msg;
  const raw = msg.receivedBody;
  if (raw.length === 0) return { code: 1, reason: 'body is empty' };
  const ct = (msg.contentType ?? '').trim().toLowerCase();
  if (!ct) return { code: -1, reason: 'no Content-Type' };
  if (ct.startsWith('multipart/mixed')) throw new Error('sdpops: SDP inside a multipart body is not supported by kemi-proxy');
  if (!/^application\/sdp\s*(;|$)/.test(ct)) return { code: -1, reason: `not SDP (${ct})` };
  const body = raw.toString('latin1');
  const sessions: SdpStream[][] = [];
  let v = findLine(body, 0, body.length, 'v');
  if (v < 0) return { code: -1, reason: 'no v= in the SDP' };
  while (v >= 0) {
    const nextV = findLine(body, body.indexOf('\n', v) + 1 || body.length, body.length, 'v');
    const limit = nextV < 0 ? body.length : nextV;
    const o = findLine(body, v, limit, 'o');
    if (o < 0) return { code: -1, reason: 'no o= in session' };
    const m1 = findLine(body, o, limit, 'm');
    if (m1 < 0) return { code: -1, reason: 'no m= in session' };
    const sessionC = findLine(body, o, m1, 'c') >= 0;
    const streams: SdpStream[] = [];
    let m = m1;
    while (m >= 0 && m < limit) {
      const nl = body.indexOf('\n', m);
      const next = nl < 0 ? -1 : findLine(body, nl + 1, limit, 'm');
      const end = next < 0 ? limit : next;
      if (!sessionC && findLine(body, m, end, 'c') < 0) return { code: -1, reason: "can't find media IP in the message" };
      const le = lineEnd(body, m, end);
      const line = body.slice(m + 2, le);
      const mm = /^(\S+)[ \t]+(\S+)[ \t]+(\S+)[ \t]*(.*)$/.exec(line);
      if (!mm) return { code: -1, reason: "can't extract media attr from the message" };
      const payloads = mm[4]!.replace(/[ \t]+$/, '');
      const stream: SdpStream = {
        media: mm[1]!,
        mediaAt: m + 2,
        port: mm[2]!,
        transport: mm[3]!,
        payloads,
        payloadsAt: le - mm[4]!.length,
        sendrecv: '',
        rtpmap: [],
        rawStart: m,
        rawEnd: end,
      };
      const rtpmap = new Map<string, string>();
      for (let a = findLine(body, m, end, 'a'); a >= 0; a = findLine(body, (body.indexOf('\n', a) + 1) || end, end, 'a')) {
        const text = body.slice(a, lineEnd(body, a, end));
        const dir = /^a=(sendrecv|sendonly|recvonly|inactive)\b/i.exec(text);
        if (dir && payloads && !stream.sendrecv) stream.sendrecv = dir[1]!;
        const rm = /^a=rtpmap:[ \t]*(\S+)[ \t]+([^/ \t]+)/i.exec(text);
        if (rm && payloads && !rtpmap.has(rm[1]!)) rtpmap.set(rm[1]!, rm[2]!);
        if (a + 1 >= end) break;
      }
      for (const pt of payloads.split(/[ \t]+/)) {
        const enc = rtpmap.get(pt);
        if (enc !== undefined) stream.rtpmap.push([pt, enc]);
      }
      streams.push(stream);
      m = next;
    }
    sessions.push(streams);
    v = nextV;
  }
  return { sdp: { body, sessions } };
}

/** Every stream of every session, in order. */
export function streamsOf(sdp: Sdp): SdpStream[] {
  return sdp.sessions.flat();
}

/** sdp_locate_line: the whole line around `pos` (its newline included). */
export function locateLine(body: string, pos: number): { start: number; end: number } {
  const start = body.lastIndexOf('\n', pos - 1) + 1;
  const nl = body.indexOf('\n', pos);
  return { start, end: nl < 0 ? body.length : nl + 1 };
}
