/**
 * drachtio-srf apps (the real drachtio-srf from node_modules) behind a running kemi-proxy, with
 * SIPp as the far end: the script hands requests over with KSR.drachtio.send_to_app.
 */
import { connect } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runSipp, startProxy, startSipp, waitFor, writeScript, type ProxyHandle } from './harness.js';
import { connectSrf, newSrf, SDP_ANSWER, type SrfApp } from '../drachtio/srf-app.js';

const SECRET = 'cymru';
const SCRIPT = `
function ksr_request_route()
  if KSR.siputils.has_totag() > 0 then
    -- within a dialog no app owns (proxied calls): relay it
    KSR.tm.t_relay()
    return
  end
  local ru = KSR.pv.gete("$rU")
  if string.sub(ru, 1, 4) == "out-" then
    -- outbound mode: the app listens, we connect to it
    if KSR.drachtio.send_to_addr("127.0.0.1:" .. string.sub(ru, 5)) > 0 then
      return
    end
    KSR.sl.sl_send_reply(503, "App Unreachable")
    return
  end
  local tag = KSR.pv.gete("$hdr(X-App)")
  if KSR.drachtio.send_to_app(tag) > 0 then
    return
  end
  KSR.sl.sl_send_reply(503, "No App")
end
`;

let proxy: ProxyHandle;
let dport: number;
let mport: number;

beforeAll(async () => {
  dport = await freePort();
  mport = await freePort();
  proxy = await startProxy({ script: writeScript(SCRIPT), extraArgs: ['--drachtio', `127.0.0.1:${dport}`, '--drachtio-secret', SECRET, '--metrics', `127.0.0.1:${mport}`] });
});

afterAll(async () => {
  await proxy?.stop();
});

/** Runs `fn` with a connected app, disconnecting it afterwards. */
/** Connects an app and waits until the proxy has its `routes` route messages (they follow authentication). */
async function connectRouted(srf: SrfApp, routes: number): Promise<void> {
  const count = (): number => proxy.output().split(/drachtio: app \d+ routes /).length;
  const before = count();
  await connectSrf(srf, dport, SECRET);
  await waitFor(() => count() >= before + routes, 5000, () => 'routes of the app not seen by the proxy');
}

async function withApp<T>(setup: (srf: SrfApp) => void, fn: (srf: SrfApp) => Promise<T>, routes = 1): Promise<T> {
  const srf = newSrf();
  setup(srf);
  await connectRouted(srf, routes);
  try {
    return await fn(srf);
  } finally {
    // Wait until the proxy has seen it go, so the next test's app is the only one routing.
    const gone = (): number => proxy.output().split(/drachtio: app \d+ \S+ disconnected/).length;
    const before = gone();
    srf.disconnect();
    await waitFor(() => gone() > before, 3000, () => 'app disconnect not seen by the proxy');
  }
}

describe('drachtio apps behind kemi-proxy', () => {
  it('authenticates: host ports and a version srf accepts', async () => {
    const srf = newSrf();
    const info = await connectSrf(srf, dport, SECRET);
    expect(info.hostport).toBe(`udp/127.0.0.1:${proxy.port},tcp/127.0.0.1:${proxy.port}`);
    expect(info.version).toMatch(/^v\d+\.\d+\.\d+/);
    srf.disconnect();
  });

  it('no app routing INVITE: send_to_app returns -1 and the script answers 503', async () => {
    const port = await freePort();
    const r = await runSipp({ scenario: 'drachtio-uac-503.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 1, timeoutS: 10 });
    expect(r.successful, r.output).toBe(1);
  });

  it('srf.invite answering 486', async () => {
    let seen = 0;
    await withApp(
      (srf) => srf.invite((_req, res) => {
        seen++;
        res.send(486);
      }),
      async () => {
        const port = await freePort();
        const r = await runSipp({ scenario: 'drachtio-uac-486.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 3, timeoutS: 15 });
        expect(r.output).toBeDefined();
        expect(r.successful).toBe(3);
        expect(r.failed).toBe(0);
      },
    );
    expect(seen).toBe(3);
  });

  it('createUAS answers with SDP; the caller hangs up (BYE from SIPp)', async () => {
    const destroyed: string[] = [];
    let offer = '';
    await withApp(
      (srf) => srf.invite(async (req, res) => {
        offer = String(req.body);
        const dlg = await srf.createUAS(req, res, { localSdp: SDP_ANSWER });
        dlg.on('destroy', () => destroyed.push(dlg.id as string));
      }),
      async () => {
        const port = await freePort();
        const r = await runSipp({ scenario: 'uac.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 2, timeoutS: 15 });
        expect(r.failed, `${r.output}\n${proxy.output().slice(-4000)}`).toBe(0);
        expect(r.successful).toBe(2);
        await waitFor(() => destroyed.length === 2, 3000, () => `dialogs destroyed: ${destroyed.length}`);
      },
    );
    expect(offer).toContain('m=audio');
    expect(destroyed[0]).toMatch(/;from-tag=/);
  });

  it('createUAS, then the app hangs up (BYE from the app)', async () => {
    const byes: number[] = [];
    await withApp(
      (srf) => srf.invite(async (req, res) => {
        const dlg = await srf.createUAS(req, res, { localSdp: SDP_ANSWER });
        setTimeout(() => {
          dlg.destroy().then(() => byes.push(1), () => byes.push(0));
        }, 200);
      }),
      async () => {
        const port = await freePort();
        const r = await runSipp({ scenario: 'drachtio-uac-bye-in.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 2, timeoutS: 15 });
        expect(r.failed, `${r.output}\n${proxy.output().slice(-4000)}`).toBe(0);
        expect(r.successful).toBe(2);
        await waitFor(() => byes.length === 2, 3000, () => `byes: ${byes.length}`);
      },
    );
    expect(byes).toEqual([1, 1]);
  });

  it('CANCEL while the app rings: 200 to the CANCEL, 487, the app told', async () => {
    let canceled = 0;
    await withApp(
      (srf) => srf.invite((req, res) => {
        req.on('cancel', () => canceled++);
        res.send(180);
      }),
      async () => {
        const port = await freePort();
        const r = await runSipp({ scenario: 'uac-cancel.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 2, timeoutS: 15 });
        expect(r.failed, `${r.output}\n${proxy.output().slice(-4000)}`).toBe(0);
        expect(r.successful).toBe(2);
      },
    );
    expect(canceled).toBe(2);
  });

  it('srf.request sends an OPTIONS out through the proxy and gets its 200', async () => {
    const port = await freePort();
    const uas = startSipp({ scenario: 'drachtio-uas-options.xml', port, calls: 1, timeoutS: 10 });
    await new Promise((r) => setTimeout(r, 300));
    try {
      const status = await withApp(() => undefined, async (srf) => {
        // The callback form attaches the listener while the echo is handled: with the promise form a
        // response read in the same chunk as the echo would be emitted before anyone listens.
        return new Promise<number>((resolve, reject) => {
          srf.request(`sip:ping@127.0.0.1:${port}`, { method: 'OPTIONS', headers: { 'User-Agent': 'drachtio-test' } }, (err: Error | null, req: { on(ev: string, fn: (res: { status: number }) => void): void }) => {
            if (err) reject(err);
            else req.on('response', (res) => resolve(res.status));
          });
        });
      }, 0);
      expect(status).toBe(200);
      const r = await uas.done;
      expect(r.successful, r.output).toBe(1);
    } finally {
      await uas.stop();
    }
  });

  it('an app that disconnects mid-call: the caller gets a BYE', async () => {
    const srf = newSrf();
    let answered = false;
    srf.invite(async (req, res) => {
      await srf.createUAS(req, res, { localSdp: SDP_ANSWER });
      answered = true;
      setTimeout(() => srf.disconnect(), 300);
    });
    await connectRouted(srf, 1);
    const port = await freePort();
    const r = await runSipp({ scenario: 'drachtio-uac-bye-in.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 1, timeoutS: 15 });
    expect(answered).toBe(true);
    expect(r.failed, r.output).toBe(0);
    expect(r.successful).toBe(1);
  });

  it('bad input on the drachtio port closes that connection only; a connected app goes on', async () => {
    let seen = 0;
    await withApp(
      (srf) => srf.invite((_req, res) => {
        seen++;
        res.send(486);
      }),
      async () => {
        const inputs = ['GET / HTTP/1.0\r\n\r\n', '20#x|authenticate|nope|', '3#abc|ping', '#', '40#abc|route|invite'];
        for (const input of inputs) {
          const closed = await new Promise<boolean>((resolve) => {
            const s = connect(dport, '127.0.0.1', () => s.write(input));
            s.on('error', () => undefined);
            s.resume(); // read what we are sent, or 'end' never comes
            s.on('close', () => resolve(true));
            setTimeout(() => {
              s.destroy();
              resolve(false);
            }, 8000);
          });
          expect(closed, `${input}\n${proxy.output()}`).toBe(true);
        }
        await proxy.waitForOutput(/drachtio: wrong secret/);
        await proxy.waitForOutput(/did not authenticate in time/, 8000);
        const port = await freePort();
        const r = await runSipp({ scenario: 'drachtio-uac-486.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 1, timeoutS: 10 });
        expect(r.successful, r.output).toBe(1);
      },
    );
    expect(seen).toBe(1);
  });

  it('createB2BUA to a SIPp UAS behind kemi-proxy; the caller hangs up, the B leg gets the BYE', async () => {
    const uasPort = await freePort();
    const uas = startSipp({ scenario: 'uas.xml', port: uasPort, calls: 2, timeoutS: 15 });
    await new Promise((r) => setTimeout(r, 300));
    const ended: string[] = [];
    const errors: string[] = [];
    try {
      await withApp(
        (srf) => srf.invite(async (req, res) => {
          const { uas: a, uac: b } = await srf.createB2BUA(req, res, `sip:uas@127.0.0.1:${uasPort}`, { localSdpB: req.body });
          a.on('destroy', () => {
            ended.push('a');
            b.destroy().catch((e: unknown) => errors.push(`B destroy: ${String(e)}`));
          });
          b.on('destroy', () => {
            ended.push('b');
            a.destroy();
          });
        }),
        async () => {
          const port = await freePort();
          const r = await runSipp({ scenario: 'uac.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 2, timeoutS: 15 });
          expect(r.failed, `${r.output}\n${proxy.output().slice(-4000)}`).toBe(0);
          expect(r.successful).toBe(2);
          const u = await uas.done;
          expect(u.successful, `${u.output}\n${proxy.output().slice(-3000)}\n${errors.join('\n')}`).toBe(2);
        },
      );
    } finally {
      await uas.stop();
    }
    expect(ended).toEqual(['a', 'a']);
  });

  it('srf.proxyRequest: the app proxies the INVITE to a SIPp UAS, the call goes through', async () => {
    const uasPort = await freePort();
    const uas = startSipp({ scenario: 'uas.xml', port: uasPort, calls: 2, timeoutS: 15 });
    await new Promise((r) => setTimeout(r, 300));
    const results: { finalStatus: number; connected: boolean }[] = [];
    try {
      await withApp(
        (srf) => srf.invite((req) => {
          srf.proxyRequest(req, [`sip:uas@127.0.0.1:${uasPort}`]).then((r: { finalStatus: number; connected: boolean }) => results.push(r), () => results.push({ finalStatus: -1, connected: false }));
        }),
        async () => {
          const port = await freePort();
          const r = await runSipp({ scenario: 'uac.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 2, timeoutS: 15 });
          expect(r.failed, `${r.output}\n${proxy.output().slice(-4000)}`).toBe(0);
          expect(r.successful).toBe(2);
          const u = await uas.done;
          expect(u.successful, u.output).toBe(2);
        },
      );
    } finally {
      await uas.stop();
    }
    expect(results).toHaveLength(2);
    expect(results.every((r) => r.finalStatus === 200 && r.connected)).toBe(true);
  });

  it('cdr:attempt / cdr:start / cdr:stop reach an app that routes them', async () => {
    const cdrs: string[] = [];
    const cdrApp = newSrf();
    cdrApp.on('cdr:attempt', (source: string) => cdrs.push(`attempt:${source}`));
    cdrApp.on('cdr:start', (source: string, _time: string, role: string) => cdrs.push(`start:${source}:${role}`));
    cdrApp.on('cdr:stop', (source: string, _time: string, reason: string) => cdrs.push(`stop:${source}:${reason}`));
    await connectRouted(cdrApp, 3);
    try {
      await withApp(
        (srf) => srf.invite((req, res) => {
          if (String(req.get('Call-ID')).startsWith('1-')) void srf.createUAS(req, res, { localSdp: SDP_ANSWER });
          else res.send(486);
        }),
        async () => {
          await new Promise((r) => setTimeout(r, 100));
          const port = await freePort();
          const r = await runSipp({ scenario: 'uac.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 1, timeoutS: 15 });
          expect(r.successful, r.output).toBe(1);
          await waitFor(() => cdrs.length >= 3, 3000, () => `cdrs: ${cdrs.join(' ')}`);
        },
      );
    } finally {
      cdrApp.disconnect();
    }
    expect(cdrs).toEqual(['attempt:network', 'start:application:uas', 'stop:network:normal-release']);
  });

  it('a script reload (SIGHUP) keeps the apps connected and routing', async () => {
    let seen = 0;
    await withApp(
      (srf) => srf.invite((_req, res) => {
        seen++;
        res.send(486);
      }),
      async () => {
        const before = proxy.output().split('script reloaded ok').length;
        process.kill(proxy.pid, 'SIGHUP');
        await waitFor(() => proxy.output().split('script reloaded ok').length > before, 5000, () => 'no reload');
        const port = await freePort();
        const r = await runSipp({ scenario: 'drachtio-uac-486.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 1, timeoutS: 10 });
        expect(r.successful, r.output).toBe(1);
      },
    );
    expect(seen).toBe(1);
  });

  it('srf.register: the app challenges the REGISTER (digest) and accepts the credentials', async () => {
    // drachtio-mw-digest-auth's checks, done here by hand (that package is not a dependency).
    const md5 = (x: string): string => createHash('md5').update(x).digest('hex');
    const realm = 'kemi.test';
    const nonce = randomBytes(8).toString('hex');
    const outcomes: number[] = [];
    await withApp(
      (srf) => srf.register((req, res) => {
        const auth = String(req.get('Authorization') ?? '');
        if (!auth) {
          res.send(401, { headers: { 'WWW-Authenticate': `Digest realm="${realm}", nonce="${nonce}", algorithm=MD5, qop="auth"` } });
          outcomes.push(401);
          return;
        }
        const p = Object.fromEntries([...auth.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)].map((m) => [m[1]!, m[2] ?? m[3] ?? '']));
        const ha1 = md5(`${p.username}:${realm}:secret`);
        const ha2 = md5(`REGISTER:${p.uri}`);
        const expected = p.qop ? md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`) : md5(`${ha1}:${p.nonce}:${ha2}`);
        const ok = p.response === expected && p.nonce === nonce;
        res.send(ok ? 200 : 403, ok ? { headers: { Contact: req.get('Contact'), Expires: '300' } } : {});
        outcomes.push(ok ? 200 : 403);
      }),
      async () => {
        const port = await freePort();
        const r = await runSipp({ scenario: 'drachtio-uac-register-auth.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 1, timeoutS: 10, extra: ['-au', 'alice', '-ap', 'secret'] });
        expect(r.successful, r.output).toBe(1);
      },
    );
    expect(outcomes).toEqual([401, 200]);
  });

  it('outbound mode: kemi-proxy connects to an app listening (srf.listen) and hands it requests', async () => {
    const appPort = await freePort();
    const srf = newSrf();
    let seen = 0;
    srf.invite((_req, res) => {
      seen++;
      res.send(486);
    });
    const server = (srf as unknown as { listen(o: { port: number; host: string; secret: string }): { close(): void } }).listen({ port: appPort, host: '127.0.0.1', secret: SECRET });
    await new Promise((r) => setTimeout(r, 200));
    try {
      const port = await freePort();
      const r = await runSipp({ scenario: 'drachtio-uac-486.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 3, timeoutS: 10, service: `out-${appPort}` });
      expect(r.successful, r.output).toBe(3);
      expect(seen).toBe(3);
      const closedPort = await freePort();
      const r2 = await runSipp({ scenario: 'drachtio-uac-503.xml', port: await freePort(), remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 1, timeoutS: 10, service: `out-${closedPort}` });
      expect(r2.successful, r2.output).toBe(1);
    } finally {
      srf.disconnect();
      server.close();
    }
  });

  it('createUAC: the app calls a SIPp UAS through the proxy; the far end hangs up', async () => {
    const uasPort = await freePort();
    const uas = startSipp({ scenario: 'drachtio-uas-hangup.xml', port: uasPort, calls: 1, timeoutS: 10 });
    await new Promise((r) => setTimeout(r, 300));
    try {
      const reason = await withApp(() => undefined, async (srf) => {
        const dlg = await srf.createUAC(`sip:bob@127.0.0.1:${uasPort}`, { localSdp: SDP_ANSWER });
        expect(String(dlg.remote.sdp)).toContain('m=audio');
        return new Promise<string>((resolve) => dlg.on('destroy', (_req: unknown, why: string) => resolve(why)));
      }, 0);
      expect(reason).toBe('normal release');
      const u = await uas.done;
      expect(u.successful, u.output).toBe(1);
    } finally {
      await uas.stop();
    }
  });

  it('a re-INVITE within the app\'s dialog reaches its Dialog (hold) and is answered', async () => {
    const events: string[] = [];
    await withApp(
      (srf) => srf.invite(async (req, res) => {
        const dlg = await srf.createUAS(req, res, { localSdp: SDP_ANSWER });
        dlg.on('hold', () => events.push('hold'));
        dlg.on('destroy', () => events.push('destroy'));
      }),
      async () => {
        const port = await freePort();
        const r = await runSipp({ scenario: 'drachtio-uac-reinvite.xml', port, remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`, calls: 1, timeoutS: 10 });
        expect(r.successful, r.output).toBe(1);
        await waitFor(() => events.length === 2, 3000, () => `events: ${events.join(',')}`);
      },
    );
    expect(events).toEqual(['hold', 'destroy']);
  });

  it('publishes its counters in /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${mport}/metrics`)).text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    expect(value('kemi_drachtio_connected_apps')).toBeGreaterThanOrEqual(0);
    expect(value('kemi_drachtio_requests_handed_over_total')).toBeGreaterThan(0);
    expect(value('kemi_drachtio_bad_connections_total')).toBeGreaterThan(0);
    expect(value('kemi_drachtio_app_requests_total')).toBeGreaterThan(0);
  });
});
