/**
 * One call with media through rtpengine, for the rtpengine e2e and differential tests: SIPp UAS
 * and UAC (test/e2e/scenarios/rtpe-*.xml) whose SDPs name media sockets the test owns on
 * 127.0.0.2 (caller) and 127.0.0.3 (callee), a proxy in between, RTP sent both ways to the
 * ports of the SDPs each side received.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startSipp, tempDir, waitFor, type SippHandle } from './harness.js';
import { receivedMessages } from './sipp-trace.js';

/** Media ports of the daemon in these tests (unused by the other e2e files). */
// Below Linux's ephemeral range (32768-60999), so no port picked by bind(0) in a test can fall in it.
export const MEDIA_MIN = 30000;
export const MEDIA_MAX = 30199;

/** An endpoint's media socket on its own loopback address (127.0.0.2, 127.0.0.3: not the daemon's). */
export async function mediaSocket(ip: string): Promise<{ sock: Socket; ip: string; port: number; got: { data: Buffer; port: number }[] }> {
  const sock = createSocket('udp4');
  openSockets.push(sock);
  const got: { data: Buffer; port: number }[] = [];
  sock.on('message', (data, rinfo) => got.push({ data, port: rinfo.port }));
  await new Promise<void>((r) => sock.bind(0, ip, () => r()));
  return { sock, ip, port: sock.address().port, got };
}

/** A PCMU RTP packet (RFC 3550 header, payload type 0). */
export function rtp(seq: number, ssrc: number, marker: string): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = 0;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(seq * 160, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, Buffer.from(marker.padEnd(160, '.'), 'latin1')]);
}

export interface Sdp {
  ip: string;
  port: number;
  text: string;
}

export function sdpOf(msg: string): Sdp | null {
  const parts = msg.split(/\r?\n\r?\n/);
  if (parts.length < 2) return null;
  const body = parts.slice(1).join('\n\n');
  const c = /^c=IN IP4 (\S+)/m.exec(body);
  const m = /^m=audio (\d+) /m.exec(body);
  if (!c || !m) return null;
  return { ip: c[1]!, port: Number(m[1]), text: body };
}

export function contentLengthOk(msg: string): boolean {
  const [head, ...rest] = msg.split(/\r?\n\r?\n/);
  const cl = /^(?:Content-Length|l)\s*:\s*(\d+)/im.exec(head!);
  // SIPp's trace shows the body with the message's line ends; the length counts CRLF lines.
  const body = rest.join('\r\n\r\n');
  return !!cl && Number(cl[1]) === Buffer.byteLength(body.replace(/\r?\n/g, '\r\n')) + (body.endsWith('\n') ? 0 : 2);
}

export function traceText(h: SippHandle): string {
  const f = join(h.dir, 'msg.log');
  return existsSync(f) ? readFileSync(f, 'latin1') : '';
}

/** Received messages whose first line matches `re`. */
export function received(h: SippHandle, re: RegExp): string[] {
  return receivedMessages(traceText(h)).filter((m) => re.test(m.split(/\r?\n/)[0]!));
}

/** Media sockets opened by mediaSocket(), closed by closeMediaSockets(). */
const openSockets: Socket[] = [];
export function closeMediaSockets(): void {
  for (const s of openSockets.splice(0)) s.close();
}

export type MediaSock = Awaited<ReturnType<typeof mediaSocket>>;

export interface MediaCall {
  uac: SippHandle;
  uas: SippHandle;
  a: MediaSock;
  b: MediaSock;
  /** The INVITE the UAS got, the 200 (with SDP) the UAC got. */
  invite: string;
  ok200: string;
  toA: Sdp;
  toB: Sdp;
  callId: string;
}

/**
 * Starts the UAS and the UAC through the proxy on `proxyPort`, waits for the 200 with SDP at the
 * UAC, then sends RTP both ways (to the ports of the SDPs received) until each side heard the
 * other or 2 s passed. The UAC sends its BYE 3 s after the ACK; wait for `uac.done`.
 */
export async function mediaCall(proxyPort: number, track: <H extends { stop(): Promise<void> }>(h: H) => H, diag: () => string): Promise<MediaCall> {
  const a = await mediaSocket('127.0.0.2');
  const b = await mediaSocket('127.0.0.3');
  const dir = tempDir('kemi-rtpe-');
  writeFileSync(join(dir, 'a.csv'), `SEQUENTIAL\n${a.port};${a.ip};\n`);
  writeFileSync(join(dir, 'b.csv'), `SEQUENTIAL\n${b.port};${b.ip};\n`);
  const uasPort = await freePort();
  const uas = track(startSipp({ scenario: 'rtpe-uas.xml', port: uasPort, calls: 1, timeoutS: 30, traceMsg: true, extra: ['-inf', join(dir, 'b.csv')] }));
  await new Promise((r) => setTimeout(r, 200));
  const uac = track(startSipp({
    scenario: 'rtpe-uac.xml', port: await freePort(), remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${proxyPort}`,
    calls: 1, timeoutS: 30, service: 'bob', traceMsg: true, extra: ['-inf', join(dir, 'a.csv')],
  }));
  await waitFor(() => received(uac, /^SIP\/2\.0 200/).some((m) => /m=audio/.test(m)), 10_000, () => `UAC got no 200 with SDP${diag()}`);
  const invite = received(uas, /^INVITE /)[0]!;
  const ok200 = received(uac, /^SIP\/2\.0 200/).find((m) => /m=audio/.test(m))!;
  const toB = sdpOf(invite);
  const toA = sdpOf(ok200);
  if (!toA || !toB) throw new Error(`no SDP:\n${invite}\n${ok200}`);
  for (let i = 0; i < 5 && (a.got.length === 0 || b.got.length === 0); i++) {
    a.sock.send(rtp(100 + i, 0x1111, `from-a-${i}`), toA.port, '127.0.0.1');
    b.sock.send(rtp(200 + i, 0x2222, `from-b-${i}`), toB.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
  }
  const callId = /^Call-ID:\s*(\S+)/im.exec(invite)![1]!;
  return { uac, uas, a, b, invite, ok200, toA, toB, callId };
}
