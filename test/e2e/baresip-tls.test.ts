/**
 * baresip (Debian package, a SIP client written by others) over TLS through kemi-proxy (issue
 * 12): headless (`-f DIR -e CMD -t SECONDS`, an account with an outbound proxy over TLS, our
 * test CA, audio from a silent WAV file), it registers over TLS, calls a SIPp UAS on UDP behind
 * the proxy (established, then its BYE when the file ends), and is called by a SIPp UAC through
 * lookup("location") on its TLS connection (auto answer; SIPp's BYE).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { freePort, luaCallTarget, startProxy, startSipp, stopChild, tempDir, writeScript, type ProxyHandle } from './harness.js';
import { makeCerts } from '../transport/tls-certs.js';

const BARESIP = '/usr/bin/baresip';
const haveBaresip = spawnSync('test', ['-x', BARESIP]).status === 0;

function script(uasPort: number): string {
  return `
function ksr_reply_route()
  if KSR.pv.get("$pr") ~= "udp" then KSR.nathelper.set_contact_alias() end
end
function ksr_request_route()
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then
      KSR.nathelper.handle_ruri_alias()
      KSR.tm.t_relay()
      return 1
    end
    if KSR.is_ACK() then
      if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
      return 1
    end
    KSR.sl.sl_send_reply(404, "Not here")
    return 1
  end
  if KSR.is_REGISTER() then
    KSR.nathelper.fix_nated_register()
    if KSR.registrar.save("location", 0) < 0 then KSR.sl.sl_reply_error() end
    return 1
  end
  if KSR.pv.get("$pr") ~= "udp" then KSR.nathelper.set_contact_alias() end
  ${luaCallTarget(uasPort)}
  KSR.tm.t_relay()
end
`;
}

let proxy: ProxyHandle;
let tlsPort = 0;
let uasPort = 0;
let cfgDir = '';

/** A baresip config dir: TLS account through the proxy, no audio devices. */
function baresipConfig(dir: string, ca: string, cert: string, key: string, sipPort: number, proxyTlsPort: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cert.pem'), readFileSync(cert, 'latin1') + readFileSync(key, 'latin1'));
  // 5 s of silence at 8 kHz: the aufile source ends the call it sends on (baresip hangs up).
  const samples = 8000 * 5;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(8000, 24);
  wav.writeUInt32LE(16000, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36);
  wav.writeUInt32LE(samples * 2, 40);
  writeFileSync(join(dir, 'in.wav'), wav);
  writeFileSync(join(dir, 'config'), [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${sipPort}`,
    `sip_cafile ${ca}`,
    `sip_certificate ${join(dir, 'cert.pem')}`,
    'net_interface 127.0.0.1',
    'net_af ipv4',
    `audio_player aufile,${join(dir, 'out.wav')}`,
    `audio_source aufile,${join(dir, 'in.wav')}`,
    `audio_alert aufile,${join(dir, 'alert.wav')}`,
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module aufile.so',
    'module_app account.so',
    'module_app menu.so',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'accounts'), `<sip:alice@kemi.test;transport=tls>;outbound="sip:127.0.0.1:${proxyTlsPort};transport=tls";regint=60;answermode=auto;audio_codecs=PCMU\n`);
}

function runBaresip(seconds: number, commands: string[], dir = cfgDir): { done: Promise<string>; stop(): Promise<void> } {
  const args = ['-f', dir, '-t', String(seconds), ...commands.flatMap((c) => ['-e', c])];
  const child = spawn(BARESIP, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<string>((res) => child.once('exit', () => res(out)));
  return { done, stop: () => stopChild(child) };
}

const running: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  if (!haveBaresip) return;
  const certs = makeCerts();
  tlsPort = await freePort();
  uasPort = await freePort();
  const cfg = join(tempDir(), 'kemi.json');
  writeFileSync(cfg, JSON.stringify({ modparams: { nathelper: { received_avp: '$avp(RECEIVED)' }, registrar: { received_avp: '$avp(RECEIVED)' } } }));
  proxy = await startProxy({
    script: writeScript(script(uasPort)),
    protos: ['udp'],
    modules: [...DEFAULT_MODULES, 'usrloc', 'registrar', 'nathelper'],
    extraArgs: ['--config', cfg, '--listen', `tls:127.0.0.1:${tlsPort}`, '--tls-cert', certs.server.cert, '--tls-key', certs.server.key],
  });
  cfgDir = join(tempDir('kemi-baresip-'), 'cfg');
  baresipConfig(cfgDir, certs.ca, certs.client.cert, certs.client.key, await freePort(), tlsPort);
});
afterAll(async () => {
  for (const r of running) await r.stop();
  await proxy?.stop();
});

describe.skipIf(!haveBaresip)('baresip over TLS through kemi-proxy', () => {
  it('registers over TLS and calls a SIPp UAS on UDP; the call is established and ended by baresip', async () => {
    const uas = startSipp({ scenario: 'uas.xml', port: uasPort, calls: 1, timeoutS: 20 });
    running.push(uas);
    const b = runBaresip(9, ['/dial sip:sipp@kemi.test']);
    running.push(b);
    const out = await b.done;
    expect(out, out).toMatch(/alice@kemi\.test: \{0\/TLS\/v4\} 200 OK \(kemi-proxy\)/);
    expect(out).toMatch(/Call established: sip:sipp@kemi\.test/);
    const r = await uas.done;
    expect(r.successful, `${r.output}\n${proxy.output()}`).toBe(1);
    expect(r.failed).toBe(0);
  }, 40_000);

  it('is called by a SIPp UAC through lookup on its TLS connection and answers', async () => {
    const b = runBaresip(8, []);
    running.push(b);
    // Registered before SIPp calls (baresip's REGISTER over TLS takes well under this).
    await new Promise((r) => setTimeout(r, 2500));
    const uacPort = await freePort();
    const r = await startSipp({ scenario: 'uac.xml', port: uacPort, remote: `127.0.0.1:${proxy.port}`, service: 'alice', calls: 1, timeoutS: 15 }).done;
    expect(r.successful, `${r.output}\n${proxy.output()}`).toBe(1);
    expect(r.failed).toBe(0);
    const bout = await b.done;
    expect(bout).toMatch(/Call established: sip:alice@kemi\.test/);
  }, 40_000);

  it('with --workers 2: is called several times by a SIPp UAC whichever worker owns the Call-ID', async () => {
    // Another proxy, with two workers: some calls are relayed by the worker not holding baresip's TLS connection.
    const certs = makeCerts();
    const port = await freePort();
    const cfg = join(tempDir(), 'kemi.json');
    writeFileSync(cfg, JSON.stringify({ modparams: { nathelper: { received_avp: '$avp(RECEIVED)' }, registrar: { received_avp: '$avp(RECEIVED)' } } }));
    const p2 = await startProxy({
      script: writeScript(script(uasPort)),
      protos: ['udp'],
      modules: [...DEFAULT_MODULES, 'usrloc', 'registrar', 'nathelper'],
      extraArgs: ['--config', cfg, '--workers', '2', '--listen', `tls:127.0.0.1:${port}`, '--tls-cert', certs.server.cert, '--tls-key', certs.server.key],
    });
    running.push(p2);
    const dir = join(tempDir('kemi-baresip-'), 'cfg');
    baresipConfig(dir, certs.ca, certs.client.cert, certs.client.key, await freePort(), port);
    const b = runBaresip(14, [], dir);
    running.push(b);
    await new Promise((r) => setTimeout(r, 2500));
    const calls = 4;
    const r = await startSipp({ scenario: 'uac.xml', port: await freePort(), remote: `127.0.0.1:${p2.port}`, service: 'alice', calls, rate: 1, timeoutS: 20 }).done;
    expect(r.successful, `${r.output}\n${p2.output()}`).toBe(calls);
    expect(r.failed).toBe(0);
    const bout = await b.done;
    expect(bout.match(/Call established: sip:alice@kemi\.test/g)?.length, bout).toBe(calls);
  }, 60_000);
});
