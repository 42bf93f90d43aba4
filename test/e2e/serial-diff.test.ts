/**
 * Serial forking by q-value next to Kamailio 5.6: t_load_contacts / t_next_contacts over an
 * R-URI without q and three branches (q 0.5, 0.5 and 1.0) whose UASs all answer 486. The request
 * route loads the contacts and relays the first class; the failure route relays the next class
 * until none is left and then answers with the steps it took. The steps (R-URI and branches of
 * each) and the INVITEs each UAS received must be the same on both.
 */
import { describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const script = (ports: number[]): string => `
local function step()
  local s = tostring(KSR.pv.get("$ru"))
  for i = 0, 5 do
    local u = KSR.pv.get("$(branch(uri)[" .. i .. "])")
    if u then s = s .. "+" .. u end
  end
  KSR.pv.sets("$avp(steps)", s)
end

function ksr_request_route()
  if KSR.is_ACK() then
    KSR.tm.t_check_trans()
    return 1
  end
  if KSR.tm.t_check_trans() == 0 then return 1 end
  KSR.pv.sets("$ru", "sip:a@127.0.0.1:${ports[0]}")
  KSR.corex.append_branch_uri_q("sip:b@127.0.0.1:${ports[1]}", "0.5")
  KSR.corex.append_branch_uri_q("sip:c@127.0.0.1:${ports[2]}", "0.5")
  KSR.corex.append_branch_uri_q("sip:d@127.0.0.1:${ports[3]}", "1.0")
  local load = KSR.tm.t_load_contacts()
  local nxt = KSR.tm.t_next_contacts()
  KSR.pv.sets("$avp(steps)", "load=" .. load .. " next=" .. nxt)
  step()
  KSR.tm.t_on_failure("ksr_next")
  KSR.tm.t_relay()
end

function ksr_next()
  if KSR.tm.t_is_canceled() > 0 then return 1 end
  local nxt = KSR.tm.t_next_contacts()
  if nxt < 0 then
    local all = KSR.pv.get("$(avp(steps)[*])")
    local i = 0
    for part in string.gmatch(all, "[^,]+") do
      i = i + 1
      KSR.hdr.append_to_reply(string.format("X-Step%02d: %s\\r\\n", i, (part:gsub("^%s+", ""))))
    end
    KSR.hdr.append_to_reply("X-Last: " .. nxt .. "\\r\\n")
    KSR.tm.t_reply(486, "All Busy")
    return 1
  end
  step()
  KSR.tm.t_on_failure("ksr_next")
  KSR.tm.t_relay()
end
`;

/** UASs that answer every INVITE with 486 and log which of them got one, in order. */
async function busyUases(n: number, log: string[]): Promise<{ socks: Socket[]; ports: number[] }> {
  const socks: Socket[] = [];
  const ports: number[] = [];
  for (let k = 0; k < n; k++) {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const name = 'abcd'[k]!;
    sock.on('message', (m, from) => {
      const t = m.toString('latin1');
      if (!t.startsWith('INVITE ')) return;
      log.push(name);
      const keep = t.split('\r\n').filter((h) => /^(Via|From|To|Call-ID|CSeq):/i.test(h));
      const reply = `SIP/2.0 486 Busy Here\r\n${keep.map((h) => (/^To:/i.test(h) ? `${h};tag=uas${name}` : h)).join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
      sock.send(reply, from.port, from.address);
    });
    socks.push(sock);
    ports.push((sock.address() as { port: number }).port);
  }
  return { socks, ports };
}

const INVITE = [
  'INVITE sip:alice@kemi.test SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKserial1',
  'Max-Forwards: 70',
  'From: <sip:bob@kemi.test>;tag=s1',
  'To: <sip:alice@kemi.test>',
  'Call-ID: serial-diff-1@kemi.test',
  'CSeq: 1 INVITE',
  'Contact: <sip:bob@127.0.0.1:5999>',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

async function run(target: 'kemi' | 'kamailio'): Promise<{ steps: string[]; uas: string }> {
  const log: string[] = [];
  const { socks, ports } = await busyUases(4, log);
  const port = await freePort();
  const file = writeScript(script(ports));
  try {
    if (target === 'kemi') {
      const cfg = join(tempDir('kemi-serial-'), 'kemi.json');
      writeFileSync(cfg, JSON.stringify({ modparams: { tm: { contacts_avp: 'tm_contacts', contact_flows_avp: 'tm_contact_flows' } } }));
      await targets.start(target, file, { port, kemiArgs: ['-c', cfg] });
    } else {
      await targets.start(target, file, {
        port,
        kamailioModules: 'modparam("tm", "contacts_avp", "tm_contacts")\nmodparam("tm", "contact_flows_avp", "tm_contact_flows")',
      });
    }
    const ex = await udpRequest(port, INVITE, 5000);
    const final = ex.replies.find((r) => /^SIP\/2\.0 [3-6]/.test(r)) ?? '';
    const mask = (s: string): string => ports.reduce((acc, p, k) => acc.replaceAll(String(p), `P${k + 1}`), s);
    return {
      steps: [final.split('\r\n')[0] ?? '', ...final.split('\r\n').filter((l) => /^X-(Step|Last)/.test(l)).map(mask)],
      // Within one step the branches go out in parallel: their order is not compared.
      uas: log.join(''),
    };
  } finally {
    for (const s of socks) s.close();
  }
}

describe('serial forking next to Kamailio 5.6', () => {
  it('t_load_contacts / t_next_contacts walk the q classes in the same order', async () => {
    const { kemi, kam } = await targets.onBoth((t) => run(t));
    expect(kemi.steps[0]).toBe('SIP/2.0 486 All Busy');
    expect(kemi.steps).toEqual(kam.steps);
    expect(kemi.uas.length).toBe(4);
    expect(kemi.uas[0]).toBe(kam.uas[0]);
    expect([...kemi.uas].sort().join('')).toBe([...kam.uas].sort().join(''));
  }, 60_000);
});
