/**
 * Registrar and digest auth end to end on the embedded state, with real SIPp and a real kemi-proxy
 * configured from a JSON config file (modules and modparams): a SIPp client REGISTERs bob with digest
 * auth (401, then 200) for the address of a SIPp UAS; INVITEs from a SIPp UAC to bob go through
 * registrar lookup to that UAS and complete; a wrong password gets a second 401; ul.* RPC show and
 * remove the binding; after `Contact: *` with Expires: 0 bob is unknown (404).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { rpcCall } from '../../src/ops/ctl.js';
import { freePort, startProxy, startSipp, tempDir, writeScript, type ProxyHandle, type SippHandle } from './harness.js';

let running: { stop(): Promise<void> }[] = [];
const track = <T extends ProxyHandle | SippHandle>(h: T): T => (running.push(h), h);
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});

/** Kamailio's basic example, reduced: REGISTER -> auth_check/auth_challenge then save; others -> lookup then t_relay. */
const SCRIPT = `
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
  if KSR.is_REGISTER() then
    local rc = KSR.auth_db.auth_check(KSR.kx.gete_fhost(), "subscriber", 1)
    if rc < 0 then
      KSR.info("auth_check " .. rc .. " for " .. KSR.kx.gete_fuser() .. "\\n")
      KSR.auth.auth_challenge(KSR.kx.gete_fhost(), 1)
      return 1
    end
    KSR.auth.consume_credentials()
    if KSR.registrar.save("location", 0) < 0 then KSR.sl.sl_reply_error() end
    return 1
  end
  KSR.rr.record_route()
  local rc = KSR.registrar.lookup("location")
  if rc < 0 then
    KSR.sl.sl_send_reply(404, "Not Found")
    return 1
  end
  KSR.tm.t_relay()
end
`;

describe('registrar + auth + auth_db end to end (embedded state, config file)', () => {
  it('REGISTER with digest (401 then 200), calls to the registered user complete, unregister makes it 404', async () => {
    const dir = tempDir('kemi-reg-');
    const rpc = `127.0.0.1:${await freePort()}`;
    const config = join(dir, 'kemi.json');
    writeFileSync(config, JSON.stringify({
      modparams: {
        registrar: { default_expires: 600, min_expires: 30, max_expires: 3600, max_contacts: 4 },
        usrloc: { use_domain: 0 },
        auth: { nonce_expire: 30, algorithm: 'MD5' },
        auth_db: { calculate_ha1: 1 },
      },
    }));
    const proxy = track(await startProxy({
      script: writeScript(SCRIPT, dir),
      modules: [...DEFAULT_MODULES, 'usrloc', 'registrar', 'auth', 'auth_db'],
      extraArgs: ['-c', config, '--rpc', rpc],
    }));
    const add = await rpcCall(rpc, 'subscriber.add', ['bob@kemi.test', 's3cret']);
    expect(add.error).toBeUndefined();

    const uasPort = await freePort();
    track(startSipp({ scenario: 'uas.xml', port: uasPort, timeoutS: 60 }));
    const contact = `sip:bob@127.0.0.1:${uasPort};transport=UDP`;
    const reg = async (scenario: string, password: string) => track(startSipp({
      scenario, port: await freePort(), remote: `127.0.0.1:${proxy.port}`, calls: 1, rate: 1, service: 'bob', timeoutS: 20,
      extra: ['-au', 'bob', '-ap', password, ...(scenario === 'reg-register.xml' ? ['-set', 'contact', contact] : [])],
    })).done;

    const wrong = await reg('reg-register.xml', 'wrong');
    expect(wrong.successful, wrong.output).toBe(0);
    expect(wrong.failed).toBe(1);
    expect(proxy.output()).toMatch(/auth_check -2 for bob/);
    const ok = await reg('reg-register.xml', 's3cret');
    expect(ok.failed, ok.output + proxy.output().slice(-2000)).toBe(0);
    expect(ok.successful).toBe(1);

    const dump = await rpcCall(rpc, 'ul.dump', []);
    expect(JSON.stringify(dump.result)).toContain(contact);
    const look = (await rpcCall(rpc, 'ul.lookup', ['location', 'bob'])).result as { AoR: string; Contacts: { Contact: { Address: string; Expires: number; 'User-Agent': string } }[] };
    expect(look.AoR).toBe('bob');
    expect(look.Contacts[0]!.Contact).toMatchObject({ Address: contact, 'User-Agent': 'sipp-reg' });
    expect(look.Contacts[0]!.Contact.Expires).toBeGreaterThan(590);

    const calls = await track(startSipp({
      scenario: 'uac.xml', port: await freePort(), remote: `127.0.0.1:${proxy.port}`, calls: 10, rate: 10, limit: 10, service: 'bob', timeoutS: 30,
    })).done;
    expect(calls.failed, calls.output + proxy.output().slice(-2000)).toBe(0);
    expect(calls.successful).toBe(10);

    // Contact: * with Expires: 0 removes the binding; calls to bob now get 404 from the script.
    const unreg = await reg('reg-unregister.xml', 's3cret');
    expect(unreg.failed, unreg.output + proxy.output().slice(-2000)).toBe(0);
    expect(unreg.successful, unreg.output).toBe(1);
    expect((await rpcCall(rpc, 'ul.lookup', ['location', 'bob'])).error).toBeDefined();
    const lost = await track(startSipp({
      scenario: 'uac.xml', port: await freePort(), remote: `127.0.0.1:${proxy.port}`, calls: 1, rate: 1, service: 'bob', timeoutS: 10,
    })).done;
    expect(lost.successful).toBe(0);
    expect(lost.output).toContain('404');

    // Register again, then ul.rm drops it too.
    expect((await reg('reg-register.xml', 's3cret')).successful).toBe(1);
    expect((await rpcCall(rpc, 'ul.rm', ['location', 'bob'])).error).toBeUndefined();
    expect((await rpcCall(rpc, 'ul.lookup', ['location', 'bob'])).error).toBeDefined();
  }, 120_000);
});
