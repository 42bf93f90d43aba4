/**
 * The registrar flow shared by the embedded-state and Redis tests: a SIPp client REGISTERs a user
 * with digest auth (401, then 200) for the address of a SIPp UAS; INVITEs to that user go through
 * registrar lookup to the UAS and complete. A wrong password gets a second 401; ul.dump shows the
 * contact; an unregistered user gets 404. Processes started here are stopped by stopAll().
 */
import { expect } from 'vitest';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { rpcCall } from '../../src/ops/ctl.js';
import { freePort, startProxy, startSipp, writeScript, type ProxyHandle, type SippHandle } from './harness.js';

let running: { stop(): Promise<void> }[] = [];
export async function stopAll(): Promise<void> {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
}
const track = <T extends ProxyHandle | SippHandle>(h: T): T => (running.push(h), h);

export const REGISTRAR_SCRIPT = `
function ksr_request_route()
  if KSR.maxfwd.process_maxfwd(10) < 0 then KSR.sl.sl_send_reply(483, "Too Many Hops") return 1 end
  if KSR.is_CANCEL() then
    if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
    return 1
  end
  if not KSR.is_ACK() then
    if KSR.tm.t_check_trans() == 0 then return 1 end
  end
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 or KSR.is_ACK() then KSR.tm.t_relay() end
    return 1
  end
  if KSR.is_OPTIONS() and KSR.pv.is_null("$rU") then
    KSR.sl.sl_send_reply(200, "Keepalive")
    return 1
  end
  if KSR.is_REGISTER() then
    local rc = KSR.auth_db.auth_check(KSR.kx.gete_fhost(), "subscriber", 1)
    if rc < 0 then
      KSR.auth.auth_challenge(KSR.kx.gete_fhost(), 1)
      return 1
    end
    KSR.auth.consume_credentials()
    if KSR.registrar.save("location", 0) < 0 then KSR.sl.sl_reply_error() end
    return 1
  end
  KSR.rr.record_route()
  if KSR.registrar.lookup("location") < 0 then
    KSR.sl.sl_send_reply(404, "Not Found")
    return 1
  end
  KSR.tm.t_relay()
end
`;

export async function registerAndCall(extraArgs: string[] = []): Promise<{ proxy: ProxyHandle; rpc: string }> {
  const rport = await freePort();
  const rpc = `127.0.0.1:${rport}`;
  const proxy = track(await startProxy({
    script: writeScript(REGISTRAR_SCRIPT),
    modules: [...DEFAULT_MODULES, 'registrar', 'auth', 'auth_db'],
    extraArgs: ['--rpc', rpc, ...extraArgs],
  }));
  const add = await rpcCall(rpc, 'subscriber.add', ['bob@kemi.test', 's3cret']);
  expect(add.error).toBeUndefined();

  const uasPort = await freePort();
  track(startSipp({ scenario: 'uas.xml', port: uasPort, timeoutS: 60 }));
  const register = (password: string) => freePort().then((port) => track(startSipp({
    scenario: 'reg-register.xml', port, remote: `127.0.0.1:${proxy.port}`, calls: 1, rate: 1, service: 'bob', timeoutS: 20,
    extra: ['-au', 'bob', '-ap', password, '-set', 'contact', `sip:bob@127.0.0.1:${uasPort};transport=UDP`],
  })).done);

  const wrong = await register('wrong');
  expect(wrong.successful, wrong.output).toBe(0);
  expect(wrong.failed).toBe(1);
  const ok = await register('s3cret');
  expect(ok.failed, ok.output + proxy.output().slice(-2000)).toBe(0);
  expect(ok.successful).toBe(1);

  const dump = await rpcCall(rpc, 'ul.dump', []);
  expect(JSON.stringify(dump.result)).toContain(`sip:bob@127.0.0.1:${uasPort}`);

  const uac = track(startSipp({
    scenario: 'uac.xml', port: await freePort(), remote: `127.0.0.1:${proxy.port}`, calls: 20, rate: 10, limit: 20, service: 'bob', timeoutS: 30,
  }));
  const calls = await uac.done;
  expect(calls.failed, calls.output + proxy.output().slice(-2000)).toBe(0);
  expect(calls.successful).toBe(20);

  // Nobody registered as carol: 404 from the script.
  const lost = track(startSipp({
    scenario: 'uac.xml', port: await freePort(), remote: `127.0.0.1:${proxy.port}`, calls: 1, rate: 1, service: 'carol', timeoutS: 10,
  }));
  const l = await lost.done;
  expect(l.successful).toBe(0);
  expect(l.output).toContain('404');
  return { proxy, rpc };
}

