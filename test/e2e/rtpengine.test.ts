/**
 * KSR.rtpengine end to end against the real daemon (Debian's rtpengine-daemon in userspace
 * mode): SIPp UAC -> kemi-proxy running routes/rtpengine.lua (rtpengine_manage) -> SIPp UAS.
 * The SDP each side receives carries the daemon's address and ports, RTP sent by the test to those
 * ports reaches the other side's own port, and the BYE deletes the session in the daemon.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, REPO, startProxy, startSipp, tempDir, waitFor, type ProxyHandle, type SippHandle } from './harness.js';
import { startRtpengine, type RtpengineHandle } from './rtpengine-daemon.js';
import { receivedMessages } from './sipp-trace.js';

let running: { stop(): Promise<void> }[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
  for (const s of sockets.splice(0)) s.close();
});
function track<T extends ProxyHandle | SippHandle | RtpengineHandle>(h: T): T {
  running.push(h);
  return h;
}

/** Media ports of the daemon in these tests (unused by the other e2e files). */
const MEDIA_MIN = 47000;
const MEDIA_MAX = 47199;

/** An endpoint's media socket on its own loopback address (127.0.0.2, 127.0.0.3: not the daemon's). */
async function mediaSocket(ip: string): Promise<{ sock: Socket; ip: string; port: number; got: { data: Buffer; port: number }[] }> {
  const sock = createSocket('udp4');
  sockets.push(sock);
  const got: { data: Buffer; port: number }[] = [];
  sock.on('message', (data, rinfo) => got.push({ data, port: rinfo.port }));
  await new Promise<void>((r) => sock.bind(0, ip, () => r()));
  return { sock, ip, port: sock.address().port, got };
}

/** A PCMU RTP packet (RFC 3550 header, payload type 0). */
function rtp(seq: number, ssrc: number, marker: string): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = 0;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(seq * 160, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, Buffer.from(marker.padEnd(160, '.'), 'latin1')]);
}

interface Sdp {
  ip: string;
  port: number;
  text: string;
}

function sdpOf(msg: string): Sdp | null {
  const parts = msg.split(/\r?\n\r?\n/);
  if (parts.length < 2) return null;
  const body = parts.slice(1).join('\n\n');
  const c = /^c=IN IP4 (\S+)/m.exec(body);
  const m = /^m=audio (\d+) /m.exec(body);
  if (!c || !m) return null;
  return { ip: c[1]!, port: Number(m[1]), text: body };
}

function contentLengthOk(msg: string): boolean {
  const [head, ...rest] = msg.split(/\r?\n\r?\n/);
  const cl = /^(?:Content-Length|l)\s*:\s*(\d+)/im.exec(head!);
  // SIPp's trace shows the body with the message's line ends; the length counts CRLF lines.
  const body = rest.join('\r\n\r\n');
  return !!cl && Number(cl[1]) === Buffer.byteLength(body.replace(/\r?\n/g, '\r\n')) + (body.endsWith('\n') ? 0 : 2);
}

function traceText(h: SippHandle): string {
  const f = join(h.dir, 'msg.log');
  return existsSync(f) ? readFileSync(f, 'latin1') : '';
}

/** Received messages whose first line matches `re`. */
function received(h: SippHandle, re: RegExp): string[] {
  return receivedMessages(traceText(h)).filter((m) => re.test(m.split(/\r?\n/)[0]!));
}

async function runCall(rtpengineSock: (ngPort: number) => string, extraParams: Record<string, number> = {}): Promise<void> {
  const ngPort = await freePort();
  const rtpe = track(await startRtpengine(ngPort, MEDIA_MIN, MEDIA_MAX));
  const a = await mediaSocket('127.0.0.2');
  const b = await mediaSocket('127.0.0.3');
  const dir = tempDir('kemi-rtpe-');
  const cfg = join(dir, 'rtpengine.json');
  writeFileSync(cfg, JSON.stringify({
    modules: ['pv', 'kx', 'sl', 'tm', 'tmx', 'rr', 'maxfwd', 'siputils', 'textops', 'xlog', 'rtpengine'],
    modparams: { rtpengine: { rtpengine_sock: rtpengineSock(ngPort), ...extraParams } },
  }));
  const proxy = track(await startProxy({ script: join(REPO, 'routes/rtpengine.lua'), extraArgs: ['-c', cfg] }));
  writeFileSync(join(dir, 'a.csv'), `SEQUENTIAL\n${a.port};${a.ip};\n`);
  writeFileSync(join(dir, 'b.csv'), `SEQUENTIAL\n${b.port};${b.ip};\n`);
  const uasPort = await freePort();
  const uas = track(startSipp({ scenario: 'rtpe-uas.xml', port: uasPort, calls: 1, timeoutS: 30, traceMsg: true, extra: ['-inf', join(dir, 'b.csv')] }));
  await new Promise((r) => setTimeout(r, 200));
  const uac = track(startSipp({
    scenario: 'rtpe-uac.xml', port: await freePort(), remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${proxy.port}`,
    calls: 1, timeoutS: 30, service: 'bob', traceMsg: true, extra: ['-inf', join(dir, 'a.csv')],
  }));
  const diag = (): string => `\n--- proxy ---\n${proxy.output().slice(-3000)}\n--- rtpengine ---\n${rtpe.output().slice(-2000)}`;

  // The offer reached the UAS, the answer the UAC.
  await waitFor(() => received(uac, /^SIP\/2\.0 200/).some((m) => /m=audio/.test(m)), 10_000, () => `UAC got no 200 with SDP${diag()}`);
  const invite = received(uas, /^INVITE /)[0]!;
  const ok200 = received(uac, /^SIP\/2\.0 200/).find((m) => /m=audio/.test(m))!;
  const toB = sdpOf(invite);
  const toA = sdpOf(ok200);
  expect(toB, invite).not.toBeNull();
  expect(toA, ok200).not.toBeNull();
  // The daemon's address and ports, not the endpoints'.
  for (const s of [toB!, toA!]) {
    expect(s.ip).toBe('127.0.0.1');
    expect(s.port).toBeGreaterThanOrEqual(MEDIA_MIN);
    expect(s.port).toBeLessThanOrEqual(MEDIA_MAX);
  }
  expect(toB!.port).not.toBe(a.port);
  expect(toA!.port).not.toBe(b.port);
  expect(toB!.port).not.toBe(toA!.port);
  // The flags took effect: the origin line is the daemon's too (replace-origin), ICE removed.
  expect(toB!.text).toMatch(/^o=alice \d+ \d+ IN IP4 127\.0\.0\.1\r?$/m);
  expect(toA!.text).toMatch(/^o=bob \d+ \d+ IN IP4 127\.0\.0\.1\r?$/m);
  expect(toB!.text).toMatch(/a=rtpmap:0 PCMU\/8000/);
  expect(contentLengthOk(invite), invite).toBe(true);
  expect(contentLengthOk(ok200), ok200).toBe(true);
  const callId = /^Call-ID:\s*(\S+)/im.exec(invite)![1]!;

  // RTP both ways through the daemon (a few packets: the relay learns each side on the first).
  for (let i = 0; i < 5 && (a.got.length === 0 || b.got.length === 0); i++) {
    a.sock.send(rtp(100 + i, 0x1111, `from-a-${i}`), toA!.port, '127.0.0.1');
    b.sock.send(rtp(200 + i, 0x2222, `from-b-${i}`), toB!.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
  }
  await waitFor(() => a.got.length > 0 && b.got.length > 0, 2000, () => `RTP did not flow: a got ${a.got.length}, b got ${b.got.length}${diag()}`);
  expect(b.got[0]!.data.toString('latin1')).toContain('from-a-');
  expect(a.got[0]!.data.toString('latin1')).toContain('from-b-');
  // Each side hears the other from the port its own SDP named for the other side.
  expect(b.got[0]!.port).toBe(toB!.port);
  expect(a.got[0]!.port).toBe(toA!.port);

  // The daemon counts the call's packets while it lasts.
  const q = await rtpe.ng({ command: 'query', 'call-id': callId });
  expect(q.get('result'), JSON.stringify([...q])).toBe('ok');

  const res = await uac.done;
  expect(res.successful, res.output + diag()).toBe(1);
  await uas.done;
  // BYE went through rtpengine_manage: the session is gone.
  await waitFor(() => /Final packet stats|Deleting full call|Call deleted/i.test(rtpe.output()), 3000, () => `no deletion logged${diag()}`).catch(() => undefined);
  // $rtpstat read in the BYE's route: the daemon's totals for the call, as Kamailio formats them.
  await proxy.waitForOutput(/media: RTP: \d+ bytes, \d+ packets, \d+ errors; RTCP: \d+ bytes, \d+ packets, \d+ errors/, 3000);
  const stat = /media: RTP: (\d+) bytes, (\d+) packets/.exec(proxy.output())!;
  expect(Number(stat[2])).toBeGreaterThanOrEqual(2);
  const after = await rtpe.ng({ command: 'query', 'call-id': callId });
  expect(after.get('result')).toBe('error');
  expect(String(after.get('error-reason'))).toMatch(/Unknown call-id/i);
}

describe('KSR.rtpengine with the real rtpengine daemon', () => {
  it('offer/answer rewrite the SDP both ways, RTP flows through the daemon, BYE deletes', async () => {
    await runCall((ng) => `udp:127.0.0.1:${ng}`);
  }, 60_000);

  it('with a dead instance in the set, calls go to the live one', async () => {
    const dead = await freePort();
    await runCall((ng) => `udp:127.0.0.1:${dead}=5 udp:127.0.0.1:${ng}=1`, { rtpengine_tout_ms: 200, rtpengine_retr: 2 });
  }, 60_000);
});
