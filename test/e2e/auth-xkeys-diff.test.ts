/**
 * auth_xkeys next to Kamailio 5.6: the same xkey modparams (two keys in one group, one in another),
 * auth_xkeys_add puts the same header on the relayed request, and auth_xkeys_check gives the same
 * codes for a token made with the newest key, an older key of the group, another group, another
 * algorithm and a forged one.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { freePort, tempDir, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { udpSink, useTargets } from './diff-harness.js';

const targets = useTargets();

const KEYS = [
  'id=grp1;name=k1;value=secret-one;expires=3600',
  'id=grp1;name=k2;value=secret-two;expires=7200',
  'id=grp2;name=k3;value=other;expires=60',
];

const script = (sinkPort: number): string => `
local out = {}
local function r(name, v) out[#out + 1] = name .. "=" .. tostring(v) end
local X = KSR.auth_xkeys
function ksr_request_route()
  out = {}
  r("check newest", X.auth_xkeys_check("X-Tok-New", "grp1", "sha256", KSR.kx.get_callid()))
  r("check older", X.auth_xkeys_check("X-Tok-Old", "grp1", "sha256", KSR.kx.get_callid()))
  r("check other group", X.auth_xkeys_check("X-Tok-New", "grp2", "sha256", KSR.kx.get_callid()))
  r("check wrong alg", X.auth_xkeys_check("X-Tok-New", "grp1", "sha512", KSR.kx.get_callid()))
  r("check forged", X.auth_xkeys_check("X-Tok-Bad", "grp1", "sha256", KSR.kx.get_callid()))
  r("check missing", X.auth_xkeys_check("X-None", "grp1", "sha256", KSR.kx.get_callid()))
  r("check unknown id", X.auth_xkeys_check("X-Tok-New", "nope", "sha256", KSR.kx.get_callid()))
  r("add 256", X.auth_xkeys_add("X-Added-256", "grp1", "sha256", KSR.kx.get_callid()))
  r("add 384", X.auth_xkeys_add("X-Added-384", "GRP2", "SHA384", "data"))
  r("add 512", X.auth_xkeys_add("X-Added-512", "grp1", "sha512", ""))
  r("add bad alg", X.auth_xkeys_add("X-Added-md5", "grp1", "md5", "x"))
  r("add unknown id", X.auth_xkeys_add("X-Added-none", "nope", "sha256", "x"))
  for i, line in ipairs(out) do
    KSR.hdr.append(string.format("X-R%03d: %s\\r\\n", i, line))
  end
  KSR.forward_uri("sip:127.0.0.1:${sinkPort}")
end
`;

// Tokens made with the group's keys over the Call-ID (the newest is secret-two).
const CALLID = 'xkeys-1@kemi.test';
const tok = (key: string): string => createHash('sha256').update(`${key}:${CALLID}`).digest('hex');

const REQUEST = [
  'MESSAGE sip:bob@kemi.test SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKxk1',
  'Max-Forwards: 20',
  'From: <sip:alice@kemi.test>;tag=f1',
  'To: <sip:bob@kemi.test>',
  `Call-ID: ${CALLID}`,
  'CSeq: 1 MESSAGE',
  `X-Tok-New: ${tok('secret-two').toUpperCase()}`,
  `X-Tok-Old:  ${tok('secret-one')} `,
  `X-Tok-Bad: ${tok('forged')}`,
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

async function relayed(target: 'kemi' | 'kamailio'): Promise<string> {
  const sink = await udpSink(target);
  const port = await freePort();
  const cfg = join(tempDir('kemi-xk-'), 'config.json');
  writeFileSync(cfg, JSON.stringify({ modparams: { auth_xkeys: { xkey: KEYS.join('\n') } } }));
  const h = await targets.start(target, writeScript(script(sink.port)), {
    port,
    kemiModules: ['pv', 'hdr', 'kx', 'sl', 'auth_xkeys'],
    kemiArgs: ['-c', cfg],
    kamailioModules: ['loadmodule "auth_xkeys.so"', ...KEYS.map((k) => `modparam("auth_xkeys", "xkey", "${k}")`)].join('\n'),
  });
  void udpRequest(port, REQUEST, 500);
  let text: string;
  try {
    text = await sink.first;
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${h.output().slice(-3000)}`);
  } finally {
    sink.close();
  }
  return text
    .replace(new RegExp(`\\b${port}\\b`, 'g'), 'PROXY')
    .replace(new RegExp(`\\b${sink.port}\\b`, 'g'), 'SINK')
    .replace(/branch=z9hG4bK[^;\r\n]*/, 'branch=z9hG4bK*')
    .replace(/;rport=\d+/, '');
}

describe('auth_xkeys next to Kamailio 5.6', () => {
  it('the same check codes and added headers', async () => {
    const { kemi, kam } = await targets.onBoth((t) => relayed(t));
    expect(kemi).toContain('X-R001: check newest=1');
    expect(kemi.split('\r\n')).toEqual(kam.split('\r\n'));
  }, 60_000);
});
