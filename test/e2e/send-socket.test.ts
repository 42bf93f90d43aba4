/**
 * set_send_socket and $fs choose the socket a request leaves from: a proxy listening on two
 * addresses relays, statelessly and through tm, from the one the script named (source address
 * and port of the datagram, and the host in our Via), and from the default one otherwise.
 */
import { createSocket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startProxy, writeScript, type ProxyHandle } from './harness.js';
import { request, udpRequest } from './udp-client.js';

interface Received {
  text: string;
  from: string;
}

/** A UDP sink on 127.0.0.1 that answers every request 200 (so tm's transaction ends) and keeps what came. */
async function sink(): Promise<{ port: number; got: Received[]; close(): void }> {
  const s = createSocket('udp4');
  const got: Received[] = [];
  s.on('message', (m, r) => {
    const text = m.toString('latin1');
    got.push({ text, from: `${r.address}:${r.port}` });
    if (!/^SIP\/2\.0/.test(text) && !text.startsWith('ACK')) {
      const head = text.split('\r\n\r\n')[0]!.split('\r\n');
      const keep = head.filter((l) => /^(via|from|to|call-id|cseq):/i.test(l));
      s.send(Buffer.from(['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n'), 'latin1'), r.port, r.address);
    }
  });
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  return { port: (s.address() as { port: number }).port, got, close: () => s.close() };
}

let proxy: ProxyHandle | undefined;
afterAll(async () => {
  await proxy?.stop();
});

describe('the send socket the script chooses', () => {
  it('set_send_socket / $fs pick the outgoing socket among two listen addresses', async () => {
    const out = await sink();
    const second = await freePort();
    const script = writeScript(`
function ksr_request_route()
  local how = KSR.hdr.get("X-Socket") or ""
  if how == "corex" then
    KSR.corex.set_send_socket("udp:127.0.0.2:${second}")
  elseif how == "pv" then
    KSR.pv.sets("$fs", "udp:127.0.0.2:${second}")
  elseif how == "unknown" then
    -- names no listen socket: the choice stays as it was (Kamailio answers 1 and warns)
    KSR.hdr.append_to_reply("X-Rc: " .. KSR.corex.set_send_socket("udp:127.0.0.9:9") .. "\\r\\n")
  end
  KSR.pv.sets("$du", "sip:127.0.0.1:${out.port}")
  if KSR.hdr.get("X-Mode") == "tm" then
    KSR.tm.t_relay()
  else
    KSR.forward()
  end
end
`);
    proxy = await startProxy({ script, protos: ['udp'], extraArgs: ['--listen', `udp:127.0.0.2:${second}`] });
    const cases: [string, string, string][] = [
      ['none', 'sl', `127.0.0.1:${proxy.port}`],
      ['corex', 'sl', `127.0.0.2:${second}`],
      ['pv', 'sl', `127.0.0.2:${second}`],
      ['corex', 'tm', `127.0.0.2:${second}`],
      ['pv', 'tm', `127.0.0.2:${second}`],
      ['none', 'tm', `127.0.0.1:${proxy.port}`],
      ['unknown', 'tm', `127.0.0.1:${proxy.port}`],
    ];
    for (const [how, mode, from] of cases) {
      const before = out.got.length;
      const ex = await udpRequest(proxy.port, request('OPTIONS', 'sip:bob@kemi.test', `X-Socket: ${how}\r\nX-Mode: ${mode}\r\n`), 2000);
      expect(ex.final, `${how}/${mode}`).toBe(200);
      const req = out.got.slice(before).find((r) => r.text.startsWith('OPTIONS'));
      expect(req?.from, `${how}/${mode}: source of the relayed request`).toBe(from);
      expect(req?.text, `${how}/${mode}: our Via`).toMatch(new RegExp(`^Via: SIP/2\\.0/UDP ${from.replace(/\./g, '\\.')};branch=`, 'm'));
    }
    out.close();
  });
});
