/**
 * KSR.kx defines next to Kamailio 5.6: the same names defined on both (`-D NAME=value` for
 * kemi-proxy, `#!define NAME value` in Kamailio's config), and one script that answers with
 * what get_def, get_defn, ifdef and ifndef return for each, and for a name defined nowhere.
 */
import { describe, expect, it } from 'vitest';
import { freePort, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const DEFINES: [string, string][] = [
  ['NUM', '42'], ['NEG', '-7'], ['PLUS', '+5'], ['MIXED', '12abc'], ['NEGMIXED', '-12abc'], ['TEXT', 'hello'],
  ['EMPTY', ''], ['SPACE', '3 4'], ['BIG', '99999999999'], ['HEX', '0x10'],
];

const SCRIPT = `
function ksr_request_route()
  for _, d in ipairs({${[...DEFINES.map(([k]) => k), 'UNKNOWN_X'].map((k) => `"${k}"`).join(', ')}}) do
    local v = KSR.kx.get_def(d)
    KSR.hdr.append_to_reply("X-Def: " .. d .. " def=[" .. tostring(v) .. "]/" .. type(v) .. " defn=" .. tostring(KSR.kx.get_defn(d))
      .. " ifdef=" .. tostring(KSR.kx.ifdef(d)) .. " ifndef=" .. tostring(KSR.kx.ifndef(d)) .. "\\r\\n")
  end
  KSR.sl.sl_send_reply(200, "OK")
end
`;

const OPTIONS = [
  'OPTIONS sip:kemi.test SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKkxdef', 'Max-Forwards: 70',
  'From: <sip:a@kemi.test>;tag=kx1', 'To: <sip:kemi.test>', 'Call-ID: kx-defines@kemi.test', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', '',
].join('\r\n');

async function run(target: 'kemi' | 'kamailio'): Promise<string[]> {
  const port = await freePort();
  const file = writeScript(SCRIPT);
  if (target === 'kemi') {
    await targets.start(target, file, { port, kemiArgs: DEFINES.flatMap(([k, v]) => ['--define', v ? `${k}=${v}` : k]) });
  } else {
    await targets.start(target, file, { port, kamailioModules: DEFINES.map(([k, v]) => `#!define ${k} ${v}`.trimEnd()).join('\n') });
  }
  const ex = await udpRequest(port, OPTIONS);
  const r = ex.replies.find((x) => x.startsWith('SIP/2.0 200')) ?? '';
  return r.split('\r\n').filter((l) => l.startsWith('X-Def: '));
}

describe('kx defines next to Kamailio 5.6', () => {
  it('get_def, get_defn, ifdef and ifndef answer the same', async () => {
    const { kemi, kam } = await targets.onBoth((t) => run(t));
    expect(kam).toHaveLength(DEFINES.length + 1);
    expect(kemi).toEqual(kam);
  }, 60_000);
});
