/**
 * Loose routing next to Kamailio 5.6: requests with different Route sets (our own entry with lr,
 * two of ours (r2=on), a next hop after ours, a strict-routing previous hop that put us in the
 * R-URI, a preloaded Route that is not us, none at all, route parameters and ftag) go through
 * loose_route, check_route_param and is_direction; the script answers with the code, $ru, $du
 * and the Route headers left after msg_apply_changes. Both proxies must answer the same.
 */
import { describe, expect, it } from 'vitest';
import { freePort, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const SCRIPT = `
function ksr_request_route()
  local rc = KSR.rr.loose_route()
  local out = "rc=" .. rc .. " ru=" .. tostring(KSR.pv.get("$ru")) .. " du=" .. tostring(KSR.pv.get("$du"))
    .. " nat=" .. KSR.rr.check_route_param("nat=yes") .. " down=" .. KSR.rr.is_direction("downstream")
    .. " up=" .. KSR.rr.is_direction("upstream")
  KSR.textopsx.msg_apply_changes()
  out = out .. " routes=" .. tostring(KSR.pv.get("$hdrc(Route)")) .. " first=" .. tostring(KSR.pv.get("$(hdr(Route)[0])"))
    .. " last=" .. tostring(KSR.pv.get("$(hdr(Route)[-1])"))
  KSR.hdr.append_to_reply("X-RR: " .. out .. "\\r\\n")
  KSR.sl.sl_send_reply(200, "Routed")
end
`;

function request(ruri: string, routes: string[], fromTag = 'ft1', extra: string[] = []): string {
  return [
    `BYE ${ruri} SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKrr' + Math.random().toString(36).slice(2),
    'Max-Forwards: 70',
    `From: <sip:alice@kemi.test>;tag=${fromTag}`,
    'To: <sip:bob@kemi.test>;tag=tt1',
    'Call-ID: rr-diff-1@kemi.test',
    'CSeq: 2 BYE',
    ...routes.map((r) => `Route: ${r}`),
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function run(target: 'kemi' | 'kamailio'): Promise<string[]> {
  const port = await freePort();
  const me = `127.0.0.1:${port}`;
  const cases: [string, string][] = [
    ['ours then next hop', request('sip:bob@10.0.0.7:5060', [`<sip:${me};lr;ftag=ft1>`, '<sip:10.0.0.9;lr>'])],
    ['ours then strict next hop', request('sip:bob@10.0.0.7:5060', [`<sip:${me};lr;ftag=ft1>`, '<sip:10.0.0.9>', '<sip:10.0.0.10;lr>'])],
    ['ours only', request('sip:bob@10.0.0.7:5060', [`<sip:${me};lr;ftag=ft1>`])],
    ['two of ours (r2)', request('sip:bob@10.0.0.7:5060', [`<sip:${me};r2=on;lr;ftag=ft1>`, `<sip:${me};transport=tcp;r2=on;lr;ftag=ft1>`, '<sip:10.0.0.9;lr>'])],
    ['route params, upstream', request('sip:alice@10.0.0.5:5060', [`<sip:${me};lr;ftag=tt1;nat=yes>`], 'tt1')],
    ['route params, downstream', request('sip:bob@10.0.0.7:5060', [`<sip:${me};lr;ftag=ft1;nat=yes>`])],
    ['strict previous hop', request(`sip:${me};lr`, ['<sip:10.0.0.9;lr>', '<sip:bob@10.0.0.7:5060>'])],
    ['strict previous hop, last is target', request(`sip:${me}`, ['<sip:bob@10.0.0.7:5060>'])],
    ['strict previous hop, strict next hop', request(`sip:${me}`, ['<sip:10.0.0.9>', '<sip:10.0.0.10;lr>', '<sip:bob@10.0.0.7:5060>'])],
    ['strict previous hop with r2', request(`sip:${me};r2=on;lr;ftag=ft1`, [`<sip:${me};transport=tcp;r2=on;lr;ftag=ft1>`, '<sip:10.0.0.9;lr>', '<sip:bob@10.0.0.7:5060>'])],
    ['preloaded, not us', request('sip:bob@10.0.0.7:5060', ['<sip:10.0.0.9;lr>'])],
    ['no Route', request('sip:bob@10.0.0.7:5060', [])],
    ['ours without lr', request('sip:bob@10.0.0.7:5060', [`<sip:${me}>`, '<sip:10.0.0.9;lr>'])],
  ];
  const file = writeScript(SCRIPT);
  const h = await targets.start(target, file, { port });
  const out: string[] = [];
  for (const [label, text] of cases) {
    const ex = await udpRequest(port, text, 1500);
    const r = ex.replies.find((x) => x.startsWith('SIP/2.0 200'));
    out.push(`${label}: ${r ? /^X-RR: (.*)$/m.exec(r)?.[1] ?? '?' : ex.replies.map((x) => x.split('\r\n')[0]).join(' | ') || '(no reply)'}`.replace(new RegExp(`\\b${port}\\b`, 'g'), 'PORT'));
  }
  return out;
}

describe('loose routing next to Kamailio 5.6', () => {
  it('loose_route, check_route_param and is_direction give the same results for thirteen Route sets', async () => {
    const { kemi, kam } = await targets.onBoth((t) => run(t));
    expect(kemi.join('\n')).toContain('rc=1');
    expect(kemi).toEqual(kam);
  }, 60_000);
});
