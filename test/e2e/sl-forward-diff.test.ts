/**
 * sl_forward_reply next to Kamailio 5.6: a stateless script forwards an INVITE to a UAS that
 * answers 486; the reply route relays it with sl_forward_reply("480", "Gone Fishing") and drops
 * the original. The caller must receive the same reply from both (ports masked).
 */
import { describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { freePort, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const script = (uasPort: number): string => `
function ksr_request_route()
  KSR.forward_uri("sip:127.0.0.1:${uasPort}")
end

function ksr_reply_route()
  if tostring(KSR.pv.get("$rs")) == "486" then
    KSR.sl.sl_forward_reply("480", "Gone Fishing")
    KSR.x.drop()
  end
end
`;

const INVITE = [
  'INVITE sip:bob@kemi.test SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKslfwd1',
  'Max-Forwards: 70',
  'From: <sip:alice@kemi.test>;tag=a1',
  'To: <sip:bob@kemi.test>',
  'Call-ID: sl-forward-1@kemi.test',
  'CSeq: 1 INVITE',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

async function run(target: 'kemi' | 'kamailio'): Promise<string[]> {
  const uas = createSocket('udp4');
  await new Promise<void>((r) => uas.bind(0, '127.0.0.1', () => r()));
  const uasPort = (uas.address() as { port: number }).port;
  uas.on('message', (m, from) => {
    const t = m.toString('latin1');
    if (!t.startsWith('INVITE ')) return;
    const keep = t.split('\r\n').filter((h) => /^(Via|From|To|Call-ID|CSeq):/i.test(h));
    uas.send(`SIP/2.0 486 Busy Here\r\n${keep.map((h) => (/^To:/i.test(h) ? `${h};tag=u1` : h)).join('\r\n')}\r\nX-Uas: yes\r\nContent-Length: 0\r\n\r\n`, from.port, from.address);
  });
  const port = await freePort();
  const file = writeScript(script(uasPort));
  try {
    await targets.start(target, file, { port });
    const ex = await udpRequest(port, INVITE, 2000);
    const client = /^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:(\d+)/m.exec(ex.replies[0] ?? '')?.[1] ?? 'none';
    return ex.replies.map((r) => r.replace(new RegExp(`\\b${client}\\b`, 'g'), 'CLIENT').replace(new RegExp(`\\b${port}\\b`, 'g'), 'PROXY'));
  } finally {
    uas.close();
  }
}

describe('sl_forward_reply next to Kamailio 5.6', () => {
  it('relays the changed reply the same way', async () => {
    const { kemi, kam } = await targets.onBoth((t) => run(t));
    expect(kemi[0]?.split('\r\n')[0]).toBe('SIP/2.0 480 Gone Fishing');
    expect(kemi).toEqual(kam);
  }, 60_000);
});
