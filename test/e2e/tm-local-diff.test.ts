/**
 * The CANCEL and the hop-by-hop ACK that tm builds, next to Kamailio 5.6: both are made from the
 * branch's INVITE as sent, keeping its header order (an INVITE with an unusual order and compact
 * names here), so the UAS must receive the same bytes from both (ports and branches masked).
 */
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { freePort, writeScript } from './harness.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const script = (uas: number): string => `
function ksr_request_route()
  if KSR.is_CANCEL() then
    if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
    return
  end
  if KSR.is_ACK() then
    if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
    return
  end
  KSR.rr.record_route()
  KSR.pv.sets("$du", "sip:127.0.0.1:${uas}")
  KSR.tm.t_relay()
end
`;

/** Call-ID first, Max-Forwards before From, compact To and Content-Length, a Route to us. */
function invite(lport: number, proxy: number, callId: string): string {
  return [
    'INVITE sip:bob@kemi.test SIP/2.0',
    `i: ${callId}`,
    `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bK${callId}`,
    'Max-Forwards: 60',
    'From: "Alice" <sip:alice@kemi.test>;tag=a1',
    't: <sip:bob@kemi.test>',
    `Route: <sip:127.0.0.1:${proxy};lr>`,
    'CSeq: 10 INVITE',
    'Require: 100rel',
    'Contact: <sip:alice@127.0.0.1>',
    'X-Extra: not copied',
    'l: 0',
    '',
    '',
  ].join('\r\n');
}

function cancel(lport: number, callId: string): string {
  return [
    'CANCEL sip:bob@kemi.test SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bK${callId}`,
    'Max-Forwards: 60',
    'From: "Alice" <sip:alice@kemi.test>;tag=a1',
    't: <sip:bob@kemi.test>',
    `Call-ID: ${callId}`,
    'CSeq: 10 CANCEL',
    'Reason: SIP;cause=480;text="gone"',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function run(target: 'kemi' | 'kamailio'): Promise<string[]> {
  const uas = createSocket('udp4');
  const got: string[] = [];
  uas.on('message', (m, r) => {
    const t = m.toString('latin1');
    if (t.startsWith('SIP/2.0')) return;
    got.push(t);
    const keep = t.split('\r\n').filter((h) => /^(Via|From|t|To|i|Call-ID|CSeq):/i.test(h));
    const reply = (status: string): void => {
      const lines = keep.map((h) => (/^(t|To):/i.test(h) && !/tag=/.test(h) ? `${h};tag=u1` : h));
      uas.send(`SIP/2.0 ${status}\r\n${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`, r.port, r.address);
    };
    if (t.startsWith('INVITE') && t.includes('busy-')) reply('486 Busy Here');
    else if (t.startsWith('INVITE')) reply('180 Ringing');
    else if (t.startsWith('CANCEL')) {
      reply('200 OK');
      const inv = got.find((x) => x.startsWith('INVITE') && x.includes('ring-'));
      if (inv) {
        const k = inv.split('\r\n').filter((h) => /^(Via|From|t|To|i|Call-ID):/i.test(h)).map((h) => (/^(t|To):/i.test(h) ? `${h};tag=u1` : h));
        uas.send(`SIP/2.0 487 Request Terminated\r\n${k.join('\r\n')}\r\nCSeq: 10 INVITE\r\nContent-Length: 0\r\n\r\n`, r.port, r.address);
      }
    }
  });
  await new Promise<void>((r) => uas.bind(0, '127.0.0.1', () => r()));
  const ua = createSocket('udp4');
  await new Promise<void>((r) => ua.bind(0, '127.0.0.1', () => r()));
  ua.on('message', () => undefined);
  const lport = (ua.address() as { port: number }).port;
  const uasPort = (uas.address() as { port: number }).port;
  const port = await freePort();
  try {
    await targets.start(target, writeScript(script(uasPort)), { port });
    ua.send(invite(lport, port, 'busy-1'), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 400));
    ua.send(invite(lport, port, 'ring-1'), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 400));
    ua.send(cancel(lport, 'ring-1'), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 600));
    const mask = (s: string): string => s
      .replace(new RegExp(`\\b${port}\\b`, 'g'), 'PROXY').replace(new RegExp(`\\b${lport}\\b`, 'g'), 'UA')
      .replace(/branch=z9hG4bK[^;\r\n]*/g, 'branch=BRANCH').replace(/ftag=[^;>\r\n]*/g, 'ftag=F');
    return got.filter((t) => t.startsWith('ACK') || t.startsWith('CANCEL')).map(mask);
  } finally {
    uas.close();
    ua.close();
  }
}

describe('CANCEL and hop-by-hop ACK built by tm, next to Kamailio 5.6', () => {
  it('keep the INVITE\'s header order and names', async () => {
    const { kemi, kam } = await targets.onBoth((t) => run(t));
    expect(kemi.map((t) => t.split(' ')[0])).toEqual(['ACK', 'CANCEL', 'ACK']);
    expect(kemi).toEqual(kam);
  }, 60_000);
});
