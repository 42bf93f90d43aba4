/**
 * KSR.rtpengine end to end against the real daemon (Debian's rtpengine-daemon in userspace
 * mode): SIPp UAC -> kemi-proxy running routes/rtpengine.lua (rtpengine_manage) -> SIPp UAS.
 * The SDP each side receives carries the daemon's address and ports, RTP sent by the test to those
 * ports reaches the other side's own port, and the BYE deletes the session in the daemon.
 */
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, REPO, startProxy, startSipp, tempDir, waitFor } from './harness.js';
import { startRtpengine } from './rtpengine-daemon.js';
import { closeMediaSockets, contentLengthOk, mediaCall, mediaSocket, MEDIA_MAX, MEDIA_MIN, received, sdpOf } from './rtpengine-call.js';

let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
  closeMediaSockets();
});
function track<T extends { stop(): Promise<void> }>(h: T): T {
  running.push(h);
  return h;
}

async function runCall(rtpengineSock: (ngPort: number) => string, extraParams: Record<string, number> = {}): Promise<void> {
  const ngPort = await freePort();
  const rtpe = track(await startRtpengine(ngPort, MEDIA_MIN, MEDIA_MAX));
  const dir = tempDir('kemi-rtpe-');
  const cfg = join(dir, 'rtpengine.json');
  writeFileSync(cfg, JSON.stringify({
    modules: ['pv', 'kx', 'sl', 'tm', 'tmx', 'rr', 'maxfwd', 'siputils', 'textops', 'xlog', 'rtpengine'],
    modparams: { rtpengine: { rtpengine_sock: rtpengineSock(ngPort), ...extraParams } },
  }));
  const proxy = track(await startProxy({ script: join(REPO, 'routes/rtpengine.lua'), extraArgs: ['-c', cfg] }));
  const diag = (): string => `\n--- proxy ---\n${proxy.output().slice(-3000)}\n--- rtpengine ---\n${rtpe.output().slice(-2000)}`;

  // The offer reached the UAS, the answer the UAC.
  const { uac, uas, a, b, invite, ok200, toA, toB, callId } = await mediaCall(proxy.port, track, diag);
  // The daemon's address and ports, not the endpoints'.
  for (const s of [toB, toA]) {
    expect(s.ip).toBe('127.0.0.1');
    expect(s.port).toBeGreaterThanOrEqual(MEDIA_MIN);
    expect(s.port).toBeLessThanOrEqual(MEDIA_MAX);
  }
  expect(toB.port).not.toBe(a.port);
  expect(toA.port).not.toBe(b.port);
  expect(toB.port).not.toBe(toA.port);
  // The flags took effect: the origin line is the daemon's too (replace-origin).
  expect(toB.text).toMatch(/^o=alice \d+ \d+ IN IP4 127\.0\.0\.1\r?$/m);
  expect(toA.text).toMatch(/^o=bob \d+ \d+ IN IP4 127\.0\.0\.1\r?$/m);
  expect(toB.text).toMatch(/a=rtpmap:0 PCMU\/8000/);
  expect(contentLengthOk(invite), invite).toBe(true);
  expect(contentLengthOk(ok200), ok200).toBe(true);

  // RTP went both ways through the daemon.
  await waitFor(() => a.got.length > 0 && b.got.length > 0, 2000, () => `RTP did not flow: a got ${a.got.length}, b got ${b.got.length}${diag()}`);
  expect(b.got[0]!.data.toString('latin1')).toContain('from-a-');
  expect(a.got[0]!.data.toString('latin1')).toContain('from-b-');
  // Each side hears the other from the port its own SDP named for the other side.
  expect(b.got[0]!.port).toBe(toB.port);
  expect(a.got[0]!.port).toBe(toA.port);

  // The daemon counts the call's packets while it lasts.
  const q = await rtpe.ng({ command: 'query', 'call-id': callId });
  expect(q.get('result'), JSON.stringify([...q])).toBe('ok');

  const res = await uac.done;
  expect(res.successful, res.output + diag()).toBe(1);
  await uas.done;
  // $rtpstat read in the BYE's route: the daemon's totals for the call, as Kamailio formats them.
  await proxy.waitForOutput(/media: RTP: \d+ bytes, \d+ packets, \d+ errors; RTCP: \d+ bytes, \d+ packets, \d+ errors/, 3000);
  const stat = /media: RTP: (\d+) bytes, (\d+) packets/.exec(proxy.output())!;
  expect(Number(stat[2])).toBeGreaterThanOrEqual(2);
  // BYE went through rtpengine_manage: the session is gone.
  const after = await rtpe.ng({ command: 'query', 'call-id': callId });
  expect(after.get('result')).toBe('error');
  expect(String(after.get('error-reason'))).toMatch(/Unknown call-id/i);
}

/** A free port p for SIPp's -mp, with p+2 free as well (SIPp binds both: audio and video). */
async function freeMediaPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const p = await freePort();
    const ok = await new Promise<boolean>((res) => {
      const s = createSocket('udp4');
      s.once('error', () => res(false));
      s.bind(p + 2, '127.0.0.1', () => s.close(() => res(true)));
    });
    if (ok) return p;
  }
  throw new Error('no free media port pair');
}

/** kemi-proxy on routes/rtpengine.lua with a fresh daemon; returns both. */
async function proxyWithDaemon(): Promise<{ rtpe: Awaited<ReturnType<typeof startRtpengine>>; proxy: Awaited<ReturnType<typeof startProxy>> }> {
  const ngPort = await freePort();
  const rtpe = track(await startRtpengine(ngPort, MEDIA_MIN, MEDIA_MAX));
  const cfg = join(tempDir('kemi-rtpe-'), 'rtpengine.json');
  writeFileSync(cfg, JSON.stringify({
    modules: ['pv', 'kx', 'sl', 'tm', 'tmx', 'rr', 'maxfwd', 'siputils', 'textops', 'xlog', 'rtpengine'],
    modparams: { rtpengine: { rtpengine_sock: `udp:127.0.0.1:${ngPort}` } },
  }));
  const proxy = track(await startProxy({ script: join(REPO, 'routes/rtpengine.lua'), extraArgs: ['-c', cfg] }));
  return { rtpe, proxy };
}

describe('KSR.rtpengine with the real rtpengine daemon', () => {
  it('RTP played by SIPp (sip-tester\'s g711a.pcap) reaches the callee through the daemon', async () => {
    const { rtpe, proxy } = await proxyWithDaemon();
    const diag = (): string => `\n--- proxy ---\n${proxy.output().slice(-3000)}\n--- rtpengine ---\n${rtpe.output().slice(-2000)}`;
    const b = await mediaSocket('127.0.0.3');
    const dir = tempDir('kemi-rtpe-');
    writeFileSync(join(dir, 'b.csv'), `SEQUENTIAL\n${b.port};${b.ip};\n`);
    const uasPort = await freePort();
    const uas = track(startSipp({ scenario: 'rtpe-uas.xml', port: uasPort, calls: 1, timeoutS: 30, traceMsg: true, extra: ['-inf', join(dir, 'b.csv')] }));
    await new Promise((r) => setTimeout(r, 200));
    const mediaPort = await freeMediaPort();
    const uac = track(startSipp({
      scenario: 'rtpe-uac-pcap.xml', port: await freePort(), remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${proxy.port}`,
      calls: 1, timeoutS: 30, service: 'bob', traceMsg: true, extra: ['-mp', String(mediaPort)],
    }));
    const res = await uac.done;
    expect(res.successful, res.output + diag()).toBe(1);
    await uas.done;
    const toB = sdpOf(received(uas, /^INVITE /)[0]!)!;
    expect(toB.port).not.toBe(mediaPort);
    expect(toB.port).toBeGreaterThanOrEqual(MEDIA_MIN);
    // The capture is a few seconds of 20 ms PCMA packets; SIPp plays it during the 3 s pause.
    expect(b.got.length, `callee got ${b.got.length} packets${diag()}`).toBeGreaterThan(20);
    for (const p of b.got) {
      expect(p.port).toBe(toB.port);
      expect(p.data[0]! >> 6).toBe(2);
      expect(p.data[1]! & 0x7f).toBe(8);
    }
  }, 60_000);

  it('offer/answer rewrite the SDP both ways, RTP flows through the daemon, BYE deletes', async () => {
    await runCall((ng) => `udp:127.0.0.1:${ng}`);
  }, 60_000);

  it('carries 200 calls (50 per second, at most 20 at once) with 0 failed and every session deleted', async () => {
    const { rtpe, proxy } = await proxyWithDaemon();
    const uasPort = await freePort();
    const uas = track(startSipp({ scenario: 'uas.xml', port: uasPort, timeoutS: 60 }));
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const uac = track(startSipp({
      scenario: 'uac.xml', port: await freePort(), remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${proxy.port}`,
      calls: 200, rate: 50, limit: 20, timeoutS: 60, service: 'bob',
    }));
    const res = await uac.done;
    const secs = (Date.now() - started) / 1000;
    expect(res.failed, res.output.slice(-2000) + proxy.output().slice(-2000)).toBe(0);
    expect(res.successful).toBe(200);
    // No session left behind in the daemon.
    const list = await rtpe.ng({ command: 'list' });
    expect(list.get('calls'), JSON.stringify([...list])).toEqual([]);
    expect(proxy.output()).not.toMatch(/ERR: rtpengine/);
    console.log(`rtpengine: 200 calls through the daemon in ${secs.toFixed(1)} s`);
    await uas.stop();
  }, 90_000);

  it('with a dead instance in the set, calls go to the live one', async () => {
    const dead = await freePort();
    await runCall((ng) => `udp:127.0.0.1:${dead}=5 udp:127.0.0.1:${ng}=1`, { rtpengine_tout_ms: 200, rtpengine_retr: 2 });
  }, 60_000);
});
