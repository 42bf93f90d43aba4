/**
 * A client written by others registers through kemi-proxy over WebSocket: SIP.js (npm `sip.js`,
 * with the `ws` library as its WebSocket in Node) REGISTERs over WS and over WSS (certificates
 * made by openssl at test time), gets 200 with its contact, and unregisters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import WebSocketImpl from 'ws';
import { Registerer, RegistererState, UserAgent } from 'sip.js';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { freePort, startProxy, writeScript, type ProxyHandle } from './harness.js';
import { makeCerts, type TestCerts } from '../transport/tls-certs.js';

const SCRIPT = `
function ksr_request_route()
  if KSR.is_REGISTER() then
    if KSR.registrar.save("location", 0) < 0 then KSR.sl.sl_reply_error() end
    return 1
  end
  KSR.sl.sl_send_reply(404, "Not here")
end
`;

let certs: TestCerts;
let proxy: ProxyHandle;
const ports = { ws: 0, wss: 0 };

beforeAll(async () => {
  certs = makeCerts();
  ports.ws = await freePort();
  ports.wss = await freePort();
  proxy = await startProxy({
    script: writeScript(SCRIPT),
    protos: ['udp'],
    modules: [...DEFAULT_MODULES, 'usrloc', 'registrar'],
    extraArgs: ['--listen', `ws:127.0.0.1:${ports.ws}`, '--listen', `wss:127.0.0.1:${ports.wss}`, '--tls-cert', certs.server.cert, '--tls-key', certs.server.key],
  });
  // SIP.js opens `new WebSocket(url, "sip")`: Node 20 has no global one; ws trusting our test CA stands in.
  const ca = readFileSync(certs.ca);
  (globalThis as { WebSocket?: unknown }).WebSocket = class extends WebSocketImpl {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca });
    }
  };
});
afterAll(async () => {
  delete (globalThis as { WebSocket?: unknown }).WebSocket;
  await proxy?.stop();
});

async function registerOnce(server: string, user: string): Promise<{ states: string[]; contact: string }> {
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:${user}@kemi.test`)!,
    transportOptions: { server, connectionTimeout: 5 },
    logBuiltinEnabled: false,
    contactName: user,
  });
  const states: string[] = [];
  let contact = '';
  try {
    await ua.start();
    const reg = new Registerer(ua, { expires: 300 });
    reg.stateChange.addListener((s) => states.push(s));
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`not registered over ${server}: ${states.join(',')}\n${proxy.output()}`)), 5000);
      reg.stateChange.addListener((s) => {
        if (s === RegistererState.Registered) {
          clearTimeout(t);
          res();
        }
      });
      void reg.register({
        requestDelegate: { onAccept: (r) => (contact = r.message.getHeader('Contact') ?? '') },
      });
    });
    await reg.unregister();
    await new Promise<void>((res) => {
      const t = setTimeout(res, 3000);
      reg.stateChange.addListener((s) => {
        if (s === RegistererState.Unregistered) {
          clearTimeout(t);
          res();
        }
      });
    });
  } finally {
    await ua.stop();
  }
  return { states, contact };
}

describe('SIP.js registers through kemi-proxy', () => {
  it('over WS', async () => {
    const r = await registerOnce(`ws://127.0.0.1:${ports.ws}`, 'alice');
    expect(r.states).toContain(RegistererState.Registered);
    expect(r.states).toContain(RegistererState.Unregistered);
    expect(r.contact).toMatch(/<sip:alice@[^>]*\.invalid;transport=ws>/);
  });

  it('over WSS', async () => {
    const r = await registerOnce(`wss://127.0.0.1:${ports.wss}`, 'bob');
    expect(r.states).toContain(RegistererState.Registered);
    expect(r.contact).toMatch(/<sip:bob@[^>]*\.invalid;transport=ws>/);
  });
});
