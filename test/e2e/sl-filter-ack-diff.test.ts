/**
 * sl_filter_ACK next to Kamailio 5.6: the ACK for a negative reply the proxy sent statelessly
 * (a 407 challenge) is absorbed before the script runs, so a script that relays every ACK does
 * not send it back to itself or anywhere else. An ACK with another To-tag still reaches the
 * script. What reaches the next hop must be the same on both.
 */
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { freePort, writeScript } from './harness.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const script = (nextHop: number): string => `
function ksr_request_route()
  if KSR.is_ACK() then
    KSR.forward_uri("sip:127.0.0.1:${nextHop}")
    return
  end
  KSR.sl.sl_send_reply(407, "Proxy Authentication Required")
end
`;

function msg(method: string, cseq: string, toTag: string, branch: string, lport: number): string {
  return [
    `${method} sip:bob@kemi.test SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=${branch}`,
    'Max-Forwards: 70',
    'From: <sip:alice@kemi.test>;tag=a1',
    `To: <sip:bob@kemi.test>${toTag ? `;tag=${toTag}` : ''}`,
    `Call-ID: sl-filter-ack-${branch}@kemi.test`,
    `CSeq: ${cseq}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function run(target: 'kemi' | 'kamailio'): Promise<string[]> {
  const hop = createSocket('udp4');
  const atHop: string[] = [];
  hop.on('message', (m) => atHop.push(m.toString('latin1').split('\r\n')[0]!));
  await new Promise<void>((r) => hop.bind(0, '127.0.0.1', () => r()));
  const ua = createSocket('udp4');
  const replies: string[] = [];
  ua.on('message', (m) => replies.push(m.toString('latin1')));
  await new Promise<void>((r) => ua.bind(0, '127.0.0.1', () => r()));
  const lport = (ua.address() as { port: number }).port;
  const port = await freePort();
  try {
    await targets.start(target, writeScript(script((hop.address() as { port: number }).port)), { port });
    ua.send(msg('INVITE', '1 INVITE', '', 'z9hG4bKfa1', lport), port, '127.0.0.1');
    const t0 = Date.now();
    while (replies.length === 0 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 20));
    const tag = /^To: .*;tag=([^;\r\n]+)/m.exec(replies[0] ?? '')?.[1] ?? '';
    expect(replies[0]?.split('\r\n')[0]).toBe('SIP/2.0 407 Proxy Authentication Required');
    // The ACK for our 407 (same branch, our To-tag), then an ACK with a foreign To-tag.
    ua.send(msg('ACK', '1 ACK', tag, 'z9hG4bKfa1', lport), port, '127.0.0.1');
    ua.send(msg('ACK', '2 ACK', 'elsewhere', 'z9hG4bKfa2', lport), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 500));
    return atHop;
  } finally {
    hop.close();
    ua.close();
  }
}

describe('sl_filter_ACK next to Kamailio 5.6', () => {
  it('absorbs the ACK for a stateless 407 before the script; other ACKs reach it', async () => {
    const { kemi, kam } = await targets.onBoth((t) => run(t));
    expect(kemi).toEqual(['ACK sip:bob@kemi.test SIP/2.0']);
    expect(kemi).toEqual(kam);
  }, 60_000);
});
