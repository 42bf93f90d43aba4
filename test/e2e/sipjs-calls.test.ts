/**
 * Calls between clients written by others through kemi-proxy (issue 12): SIP.js over WS and WSS
 * registers, calls a SIPp UAS behind the proxy on UDP (INVITE/200/ACK, then BYE from SIP.js) and
 * is called back by a SIPp UAC (INVITE through lookup("location") to its WebSocket, ACK and BYE
 * along the route set). The script is the usual NAT handling of Kamailio's default config for
 * WebSocket clients: fix_nated_register with received_avp for REGISTER, set_contact_alias on
 * requests and replies from WebSocket, handle_ruri_alias in dialog, double Record-Route when
 * the transport changes (transport=ws on the WebSocket side, as Kamailio writes for WS and WSS).
 * SIP.js runs in Node without WebRTC: a small SessionDescriptionHandler hands it a fixed SDP.
 * The same again with `--workers 2`: SIPp's calls to SIP.js have Call-IDs owned by either worker,
 * so the INVITE, ACK and BYE of some of them are relayed by the worker that does not hold SIP.js's
 * connection and handed to the one that does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocketImpl from 'ws';
import { Invitation, Inviter, Registerer, RegistererState, SessionState, UserAgent, type Session, type SessionDescriptionHandler } from 'sip.js';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { freePort, luaCallTarget, startProxy, startSipp, tempDir, waitFor, writeScript, type ProxyHandle } from './harness.js';
import { makeCerts, type TestCerts } from '../transport/tls-certs.js';

function script(uasPort: number): string {
  return `
function ksr_reply_route()
  if KSR.is_WSX() then KSR.nathelper.set_contact_alias() end
end

function ksr_request_route()
  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then
      if KSR.is_WSX() and KSR.is_INVITE() then KSR.nathelper.set_contact_alias() end
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
    if KSR.is_WSX() then KSR.nathelper.fix_nated_register() end
    if KSR.registrar.save("location", 0) < 0 then KSR.sl.sl_reply_error() end
    return 1
  end
  if KSR.is_CANCEL() then
    if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
    return 1
  end
  if KSR.is_WSX() then KSR.nathelper.set_contact_alias() end
  ${luaCallTarget(uasPort)}
  KSR.tm.t_relay()
end
`;
}

const SDP = 'v=0\r\no=sipjs 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

/** SIP.js's media hook without WebRTC: offers and answers a fixed audio SDP. */
class FixedSdp implements SessionDescriptionHandler {
  private remote = '';
  close(): void {}
  getDescription(): Promise<{ body: string; contentType: string }> {
    return Promise.resolve({ body: SDP, contentType: 'application/sdp' });
  }
  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }
  rollbackDescription(): Promise<void> {
    return Promise.resolve();
  }
  sendDtmf(): boolean {
    return false;
  }
  setDescription(sdp: string): Promise<void> {
    this.remote = sdp;
    return Promise.resolve();
  }
  get remoteSdp(): string {
    return this.remote;
  }
}

/** The whole scenario against one kemi-proxy: one process, or `--workers 2`. */
function suite(workers: 1 | 2): void {
  describe(workers === 1 ? 'one process' : `--workers ${workers}`, () => suiteBody(workers));
}

function suiteBody(workers: 1 | 2): void {
  let certs: TestCerts;
  let proxy: ProxyHandle;
  let sippUasPort = 0;
  const ports = { ws: 0, wss: 0 };
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    certs = makeCerts();
    ports.ws = await freePort();
    ports.wss = await freePort();
    sippUasPort = await freePort();
    const cfg = join(tempDir(), 'kemi.json');
    writeFileSync(cfg, JSON.stringify({ modparams: { nathelper: { received_avp: '$avp(RECEIVED)' }, registrar: { received_avp: '$avp(RECEIVED)' } } }));
    proxy = await startProxy({
      script: writeScript(script(sippUasPort)),
      protos: ['udp'],
      modules: [...DEFAULT_MODULES, 'usrloc', 'registrar', 'nathelper'],
      extraArgs: ['--config', cfg, '--listen', `ws:127.0.0.1:${ports.ws}`, '--listen', `wss:127.0.0.1:${ports.wss}`, '--tls-cert', certs.server.cert, '--tls-key', certs.server.key,
        ...(workers > 1 ? ['--workers', String(workers)] : [])],
    });
    const ca = readFileSync(certs.ca);
    (globalThis as { WebSocket?: unknown }).WebSocket = class extends WebSocketImpl {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { ca });
      }
    };
  });
  afterAll(async () => {
    for (const s of stops.splice(0)) await s();
    delete (globalThis as { WebSocket?: unknown }).WebSocket;
    await proxy?.stop();
  });

  async function registeredUa(server: string, user: string, onInvite?: (i: Invitation) => void): Promise<{ ua: UserAgent; reg: Registerer }> {
    const ua = new UserAgent({
      uri: UserAgent.makeURI(`sip:${user}@kemi.test`)!,
      transportOptions: { server, connectionTimeout: 5 },
      logBuiltinEnabled: false,
      contactName: user,
      sessionDescriptionHandlerFactory: () => new FixedSdp(),
      delegate: onInvite ? { onInvite } : undefined,
    });
    await ua.start();
    stops.push(() => ua.stop());
    const reg = new Registerer(ua, { expires: 300 });
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`${user} not registered over ${server}\n${proxy.output()}`)), 5000);
      reg.stateChange.addListener((s) => {
        if (s === RegistererState.Registered) {
          clearTimeout(t);
          res();
        }
      });
      void reg.register();
    });
    return { ua, reg };
  }

  function reached(s: Session, state: SessionState, ms: number, what: string): Promise<void> {
    if (s.state === state) return Promise.resolve();
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`${what}: still ${s.state}\n${proxy.output()}`)), ms);
      s.stateChange.addListener((st) => {
        if (st === state) {
          clearTimeout(t);
          res();
        }
      });
    });
  }

  describe('SIP.js over WebSocket calls a SIPp UAS on UDP and is called by SIPp', () => {
    for (const proto of ['ws', 'wss'] as const) {
      it(`over ${proto.toUpperCase()}: SIP.js calls SIPp and hangs up`, async () => {
        const uas = startSipp({ scenario: 'uas.xml', port: sippUasPort, calls: 1, timeoutS: 15, traceMsg: true });
        stops.push(() => uas.stop());
        const { ua } = await registeredUa(`${proto}://127.0.0.1:${ports[proto]}`, `caller${proto}`);
        const inviter = new Inviter(ua, UserAgent.makeURI('sip:sipp@kemi.test')!);
        await inviter.invite();
        await reached(inviter, SessionState.Established, 5000, 'call to SIPp');
        await new Promise((r) => setTimeout(r, 50));
        await inviter.bye();
        await reached(inviter, SessionState.Terminated, 5000, 'BYE to SIPp');
        const r = await uas.done;
        expect(r.successful, r.output).toBe(1);
        expect(r.failed).toBe(0);
        // SIPp saw the proxy's double Record-Route: UDP side first, then the WebSocket side as transport=ws.
        const trace = readFileSync(r.msgFile!, 'latin1');
        const invite = trace.slice(trace.indexOf('INVITE sip:'));
        expect(invite).toMatch(new RegExp(`Record-Route: <sip:127\\.0\\.0\\.1:${proxy.port};r2=on;lr;ftag=[^>]+>\\r?\\nRecord-Route: <sip:127\\.0\\.0\\.1:${ports[proto]};transport=ws;r2=on;lr;ftag=[^>]+>`));
      }, 30_000);

      it(`over ${proto.toUpperCase()}: SIPp calls the registered SIP.js user, which answers; SIPp hangs up`, async () => {
        // With workers, several calls: their Call-IDs are owned by either worker.
        const calls = workers > 1 ? 6 : 1;
        const got: { invites: Invitation[]; ended: number } = { invites: [], ended: 0 };
        await registeredUa(`${proto}://127.0.0.1:${ports[proto]}`, `callee${proto}`, (inv) => {
          got.invites.push(inv);
          inv.stateChange.addListener((st) => {
            if (st === SessionState.Terminated) got.ended++;
          });
          void inv.accept();
        });
        const uacPort = await freePort();
        const r = await startSipp({ scenario: 'uac.xml', port: uacPort, remote: `127.0.0.1:${proxy.port}`, service: `callee${proto}`, calls, rate: 5, timeoutS: 20 }).done;
        expect(r.successful, `${r.output}\n${proxy.output()}`).toBe(calls);
        expect(r.failed).toBe(0);
        await waitFor(() => got.ended === calls, 5000, () => `SIP.js saw ${got.ended} of ${calls} BYEs`);
        // The INVITE reached SIP.js with both of the proxy's entries: the WebSocket side on top.
        const rr = got.invites[0]!.request.getHeaders('record-route');
        expect(rr[0]).toMatch(new RegExp(`^<sip:127\\.0\\.0\\.1:${ports[proto]};transport=ws;r2=on;lr;ftag=`));
        expect(rr[1]).toMatch(new RegExp(`^<sip:127\\.0\\.0\\.1:${proxy.port};r2=on;lr;ftag=`));
      }, 30_000);
    }
  });
}

suite(1);
suite(2);
