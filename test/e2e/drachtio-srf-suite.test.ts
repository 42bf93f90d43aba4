/**
 * Regression tests for what drachtio-srf's own test suite (test/uas.js, uac.js, b2b.js, run
 * against kemi-proxy in place of drachtio-server) showed missing: the BYE after an ACK timeout,
 * reliable provisional responses (100rel / PRACK) both ways. The real drachtio-srf, SIPp as the
 * far end. The proxy runs with tm retr_timer1 20 ms, so 64*T1 (the ACK and PRACK wait) is 1.28 s.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runSipp, startProxy, startSipp, tempDir, waitFor, writeScript, type ProxyHandle } from './harness.js';
import { connectSrf, newSrf, SDP_ANSWER, type SrfApp } from '../drachtio/srf-app.js';

const SECRET = 'cymru';

/**
 * drachtio-mw-digest-auth (the digest middleware drachtio apps use for srf.register), when
 * installed as a devDependency; its test is skipped, saying so, when it is not.
 */
type Middleware = (req: unknown, res: unknown, next: () => void) => void;
type DigestAuth = (opts: { realm: string; passwordLookup: (user: string, realm: string, cb: (err: Error | null, pw: string | null) => void) => void }) => Middleware;
function loadDigestAuth(): DigestAuth | null {
  try {
    return createRequire(import.meta.url)('drachtio-mw-digest-auth') as DigestAuth;
  } catch {
    return null;
  }
}
const digestAuth = loadDigestAuth();
const SCRIPT = `
function ksr_request_route()
  if KSR.siputils.has_totag() > 0 then
    KSR.tm.t_relay()
    return
  end
  if KSR.drachtio.send_to_app("") > 0 then return end
  KSR.sl.sl_send_reply(503, "No App")
end
`;

let proxy: ProxyHandle;
let dport: number;

beforeAll(async () => {
  dport = await freePort();
  const cfg = join(tempDir('kemi-drsuite-'), 'config.json');
  writeFileSync(cfg, JSON.stringify({ modparams: { tm: { retr_timer1: 20 } } }));
  proxy = await startProxy({ script: writeScript(SCRIPT), extraArgs: ['-c', cfg, '--drachtio', `127.0.0.1:${dport}`, '--drachtio-secret', SECRET] });
});

afterAll(async () => {
  await proxy?.stop();
});

/** Runs `fn` with a connected app that routes its methods, disconnecting it afterwards. */
async function withApp<T>(setup: (srf: SrfApp) => void, fn: (srf: SrfApp) => Promise<T>, routes: number): Promise<T> {
  const count = (re: RegExp): number => proxy.output().split(re).length;
  const before = count(/drachtio: app \d+ routes /);
  const srf = newSrf();
  setup(srf);
  await connectSrf(srf, dport, SECRET);
  await waitFor(() => count(/drachtio: app \d+ routes /) >= before + routes, 5000, () => 'routes of the app not seen by the proxy');
  try {
    return await fn(srf);
  } finally {
    const gone = count(/drachtio: app \d+ \S+ disconnected/);
    srf.disconnect();
    await waitFor(() => count(/drachtio: app \d+ \S+ disconnected/) > gone, 3000, () => 'app disconnect not seen by the proxy');
  }
}

describe('drachtio-srf suite findings', () => {
  it('no ACK for the 2xx: BYE with Reason "ACK timeout" to the caller, the app\'s dialog destroyed with that reason', async () => {
    const reasons: string[] = [];
    await withApp(
      (srf) => srf.invite(async (req, res) => {
        const dlg = await srf.createUAS(req, res, { localSdp: SDP_ANSWER });
        dlg.on('destroy', (_msg: unknown, reason: string) => reasons.push(reason));
      }),
      async () => {
        const port = await freePort();
        const r = await runSipp({ scenario: 'drachtio-uac-ack-timeout.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 1, timeoutS: 20 });
        expect(r.failed, `${r.output}\n${proxy.output().slice(-3000)}`).toBe(0);
        expect(r.successful).toBe(1);
        await waitFor(() => reasons.length === 1, 3000, () => 'app dialog not destroyed');
      },
      1,
    );
    expect(reasons).toEqual(['ACK timeout']);
    expect(proxy.output()).toMatch(/no ACK for 2xx of dialog .*: BYE/);
  });

  it('createUAC to a UAS ringing reliably (100rel): the app\'s PRACK goes in the early dialog, the call completes', async () => {
    const uasPort = await freePort();
    const uas = startSipp({ scenario: 'drachtio-uas-prack.xml', port: uasPort, calls: 1, timeoutS: 20 });
    try {
      await withApp(
        () => undefined,
        async (srf) => {
          const provisional: number[] = [];
          const dlg = await srf.createUAC(`sip:svc@127.0.0.1:${uasPort}`, { localSdp: SDP_ANSWER }, {
            cbProvisional: (res: { status: number }) => provisional.push(res.status),
          });
          expect(provisional).toContain(180);
          await dlg.destroy();
        },
        0,
      );
      const r = await uas.done;
      expect(r.failed, `${r.output}\n${proxy.output().slice(-3000)}`).toBe(0);
      expect(r.successful).toBe(1);
    } finally {
      await uas.stop();
    }
  });

  it('an app answering 183 with Require: 100rel: sent reliably with an RSeq, the caller\'s PRACK reaches the app', async () => {
    const pracks: string[] = [];
    await withApp(
      (srf) => {
        let answer: (() => void) | null = null;
        srf.invite((req, res) => {
          res.send(183, { headers: { Require: '100rel' }, body: SDP_ANSWER });
          answer = () => void srf.createUAS(req, res, { localSdp: SDP_ANSWER });
        });
        // The PRACK is answered first, then the INVITE (the caller expects them in that order).
        srf.prack((req, res) => {
          pracks.push(String(req.get('RAck')));
          res.send(200, () => answer?.());
        });
      },
      async () => {
        const port = await freePort();
        const r = await runSipp({ scenario: 'drachtio-uac-prack.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 1, timeoutS: 20 });
        expect(r.failed, `${r.output}\n${proxy.output().slice(-3000)}`).toBe(0);
        expect(r.successful).toBe(1);
      },
      2,
    );
    expect(pracks).toHaveLength(1);
    expect(pracks[0]).toMatch(/^\d+ 1 INVITE$/);
  });

  it('an app\'s sip:x@localhost in From and Contact names the proxy, the Contact bracketed (the far end re-INVITEs there)', async () => {
    const uasPort = await freePort();
    const uas = startSipp({ scenario: 'drachtio-uas-contact-check.xml', port: uasPort, calls: 1, timeoutS: 20 });
    try {
      await withApp(
        () => undefined,
        async (srf) => {
          const dlg = await srf.createUAC(`sip:svc@127.0.0.1:${uasPort}`, {
            localSdp: SDP_ANSWER, headers: { From: 'sip:app@localhost', Contact: 'sip:app@localhost' },
          });
          await dlg.destroy();
        },
        0,
      );
      const r = await uas.done;
      expect(r.failed, `${r.output}\n${proxy.output().slice(-3000)}`).toBe(0);
      expect(r.successful).toBe(1);
    } finally {
      await uas.stop();
    }
  });

  it.skipIf(!digestAuth)('a registrar app with drachtio-mw-digest-auth: 401, then 200 for the right password, 403 for a wrong one', async () => {
    const authorized: string[] = [];
    await withApp(
      (srf) => {
        srf.use('register', digestAuth!({ realm: 'kemi.test', passwordLookup: (user, _realm, cb) => cb(null, user === 'alice' ? 'secret' : null) }));
        srf.register((req, res) => {
          authorized.push(String(req.authorization?.username));
          res.send(200, { headers: { Contact: req.get('Contact'), Expires: '300' } });
        });
      },
      async () => {
        const run = async (password: string) => runSipp({
          scenario: 'drachtio-uac-register-auth.xml', port: await freePort(), remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`,
          calls: 1, timeoutS: 10, extra: ['-au', 'alice', '-ap', password],
        });
        const good = await run('secret');
        expect(good.successful, good.output).toBe(1);
        const bad = await run('wrong');
        expect(bad.failed).toBe(1);
        expect(bad.output).toContain('403 Forbidden');
      },
      1,
    );
    expect(authorized).toEqual(['alice']);
  });

  /**
   * One call of a SIPp session-timer scenario to an app that answers it as UAS: SIPp's result must
   * be 1 successful call; the reasons the app's dialog was destroyed with (once).
   */
  async function sessionTimerCall(scenario: string): Promise<string[]> {
    const reasons: string[] = [];
    await withApp(
      (srf) => srf.invite(async (req, res) => {
        const dlg = await srf.createUAS(req, res, { localSdp: SDP_ANSWER });
        dlg.on('destroy', (_msg: unknown, reason: string) => reasons.push(reason));
      }),
      async () => {
        const r = await runSipp({ scenario, port: await freePort(), remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 1, timeoutS: 20 });
        expect(r.failed, `${r.output}\n${proxy.output().slice(-3000)}`).toBe(0);
        expect(r.successful).toBe(1);
        await waitFor(() => reasons.length === 1, 3000, () => 'app dialog not destroyed');
      },
      1,
    );
    return reasons;
  }

  it('session timer (RFC 4028): the caller asks refresher=uac and never refreshes: 2xx with Session-Expires and Require: timer, then BYE "Session timer expired", the app told', async () => {
    expect(await sessionTimerCall('drachtio-uac-session-expire.xml')).toEqual(['Session timer expired']);
  });

  it('session timer (RFC 4028): the caller asks refresher=uas: the proxy refreshes with an UPDATE halfway through', async () => {
    // Destroyed once, by the caller's BYE after the refreshed session.
    expect(await sessionTimerCall('drachtio-uac-session-refresh.xml')).toHaveLength(1);
  });

  it('session timer (RFC 4028): our refreshing UPDATE answered 481 ends the session with a BYE, the app told', async () => {
    expect(await sessionTimerCall('drachtio-uac-session-refresh-481.xml')).toEqual(['Session refresh failed']);
  });

  it('a reliable 1xx to a caller that does not support 100rel is refused to the app (not sent); the app can still answer', async () => {
    const errors: string[] = [];
    await withApp(
      (srf) => srf.invite((_req, res) => {
        res.send(183, { headers: { Require: '100rel' } }, (err: Error | null) => {
          errors.push(err ? String(err) : 'sent');
          res.send(486);
        });
      }),
      async () => {
        const r = await runSipp({ scenario: 'drachtio-uac-486.xml', port: await freePort(), remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 1, timeoutS: 10 });
        expect(r.failed, `${r.output}\n${proxy.output().slice(-3000)}`).toBe(0);
        expect(r.successful).toBe(1);
      },
      1,
    );
    expect(errors).toEqual(['Remote endpoint does not support 100rel']);
  });
});
