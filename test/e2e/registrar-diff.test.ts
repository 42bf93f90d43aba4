/**
 * Registrar next to Kamailio 5.6 (usrloc in memory, db_mode 0): the same sequence of REGISTERs
 * (two contacts with q-values, a contact below min_expires, a query, a removal by expires=0, a
 * wildcard removal, a wildcard with a non-zero Expires, a CSeq going backwards) and lookups. The
 * script saves with flags 0x12 (prepare the reply, do not send it), adds save's return code to the
 * reply and sends it with reg_send_reply(), so the code and the reply (status, Contact list with
 * expires and q) are compared; lookups answer with $ru and the branches. Expires values are
 * rounded to tens (the clock runs between the two proxies' runs).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { freePort, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const SCRIPT = `
function ksr_request_route()
  if KSR.is_REGISTER() then
    local rc = KSR.registrar.save("location", 18)
    KSR.hdr.append_to_reply("X-Save: " .. rc .. "\\r\\n")
    KSR.registrar.reg_send_reply()
    return 1
  end
  local rc = KSR.registrar.lookup("location")
  local b = {}
  for i = 0, 5 do
    local u = KSR.pv.get("$(branch(uri)[" .. i .. "])")
    if u then b[#b + 1] = u .. "/q=" .. tostring(KSR.pv.get("$(branch(q)[" .. i .. "])")) end
  end
  KSR.hdr.append_to_reply("X-Lookup: " .. rc .. " ru=" .. tostring(KSR.pv.get("$ru")) .. " branches=" .. table.concat(b, ",") .. "\\r\\n")
  KSR.sl.sl_send_reply(200, "Looked up")
end
`;

let cseq = 0;
function register(contacts: string[], extra: string[] = [], callId = 'reg-diff-1', seq?: number): string {
  cseq++;
  return [
    'REGISTER sip:kemi.test SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKreg${cseq}x`,
    'Max-Forwards: 70',
    'From: <sip:alice@kemi.test>;tag=r1',
    'To: <sip:alice@kemi.test>',
    `Call-ID: ${callId}`,
    `CSeq: ${seq ?? cseq} REGISTER`,
    ...contacts.map((c) => `Contact: ${c}`),
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function options(): string {
  cseq++;
  return [
    'OPTIONS sip:alice@kemi.test SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKopt${cseq}x`,
    'Max-Forwards: 70',
    'From: <sip:bob@kemi.test>;tag=o1',
    'To: <sip:alice@kemi.test>',
    `Call-ID: opt-${cseq}`,
    `CSeq: 1 OPTIONS`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function run(target: 'kemi' | 'kamailio'): Promise<string[]> {
  cseq = 0;
  const port = await freePort();
  const file = writeScript(SCRIPT);
  const h = await targets.start(target, file, {
    port,
    kemiModules: [...DEFAULT_MODULES, 'usrloc', 'registrar'],
    kamailioModules: 'loadmodule "usrloc.so"\nloadmodule "registrar.so"\nmodparam("usrloc", "db_mode", 0)\nmodparam("usrloc", "preload", "location")',
  });
  const out: string[] = [];
  const send = async (label: string, text: string): Promise<void> => {
    const ex = await udpRequest(port, text);
    const r = ex.replies.find((x) => /^SIP\/2\.0 [2-6]/.test(x));
    if (!r) throw new Error(`${target}: no reply to ${label}\n${h.output().slice(-2000)}`);
    const keep = r.split('\r\n').filter((l) => /^(SIP\/2\.0|Contact|X-Save|X-Lookup|P-Registrar-Error|Min-Expires|Expires):?/i.test(l));
    out.push(`${label}: ${keep.join(' | ').replace(/expires=(\d+)/g, (_m, n: string) => `expires~${Math.round(Number(n) / 10) * 10}`)}`);
  };
  await send('two contacts', register(['<sip:alice@127.0.0.1:5071>;q=0.5', '<sip:alice@127.0.0.1:5072>;q=0.9'], ['Expires: 600']));
  await send('lookup two', options());
  await send('below min_expires', register(['<sip:alice@127.0.0.1:5073>;expires=30']));
  await send('query', register([]));
  await send('remove one', register(['<sip:alice@127.0.0.1:5071>;expires=0']));
  await send('lookup after removal', options());
  await send('star with Expires 30', register(['*'], ['Expires: 30']));
  await send('older CSeq', register(['<sip:alice@127.0.0.1:5074>'], [], 'reg-diff-1', 1));
  await send('star', register(['*'], ['Expires: 0']));
  await send('lookup none', options());
  return out;
}

describe('registrar next to Kamailio 5.6', () => {
  it('the same save codes, replies and lookups for a sequence of REGISTERs', async () => {
    const { kemi, kam } = await targets.onBoth((t) => run(t));
    expect(kemi.join('\n')).toContain('X-Save: 1');
    expect(kemi).toEqual(kam);
  }, 60_000);
});
