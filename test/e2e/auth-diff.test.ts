/**
 * Digest authentication next to Kamailio 5.6: the same script answers each REGISTER with what
 * has_credentials / pv_auth_check return, and challenges with auth_challenge (qop=auth) when the
 * check fails. The test computes the digest responses itself (RFC 2617 MD5 with qop=auth) from
 * each proxy's own nonce: no credentials, a wrong password, the right one, the right one for
 * another user (identity check), and a nonce that is not the proxy's. The return codes and the
 * challenge header (nonce masked) must be the same. With the defaults (replay protection off on
 * both, as Kamailio ships) a nonce answered again with the same nonce count is accepted again (as a
 * phone's unREGISTER reusing its nonce is); with modparam auth nonce_count=1 or one_time_nonce=1 on
 * both it is refused, with the same codes.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { freePort, tempDir, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const SCRIPT = `
function ksr_request_route()
  local has = KSR.auth.has_credentials("kemi.test")
  local rc = KSR.auth.pv_auth_check("kemi.test", "s3cret", 0, 1)
  KSR.hdr.append_to_reply("X-Result: has=" .. has .. " check=" .. rc .. "\\r\\n")
  if rc < 0 then
    KSR.auth.auth_challenge("kemi.test", 1)
    return 1
  end
  KSR.auth.consume_credentials()
  KSR.sl.sl_send_reply(200, "OK")
end
`;

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

function register(user: string, auth: string, cseq: number): string {
  return [
    'REGISTER sip:kemi.test SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKauth${cseq}`,
    'Max-Forwards: 70',
    `From: <sip:${user}@kemi.test>;tag=f${cseq}`,
    `To: <sip:${user}@kemi.test>`,
    'Call-ID: auth-diff-1@kemi.test',
    `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:${user}@127.0.0.1:5999>`,
    ...(auth ? [`Authorization: ${auth}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function authorization(user: string, password: string, nonce: string, nc = '00000001'): string {
  const uri = 'sip:kemi.test';
  const cnonce = 'c0ffee';
  const ha1 = md5(`${user}:kemi.test:${password}`);
  const ha2 = md5(`REGISTER:${uri}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${user}", realm="kemi.test", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, cnonce="${cnonce}", qop=auth, nc=${nc}`;
}

/** `auth`: modparams for the auth module on both targets (none: each one's defaults). */
async function run(target: 'kemi' | 'kamailio', auth: Record<string, number> = {}): Promise<string[]> {
  const port = await freePort();
  const file = writeScript(SCRIPT);
  if (target === 'kemi') {
    const args: string[] = [];
    if (Object.keys(auth).length) {
      const cfg = join(tempDir('kemi-authdiff-'), 'kemi.json');
      writeFileSync(cfg, JSON.stringify({ modparams: { auth } }));
      args.push('-c', cfg);
    }
    await targets.start(target, file, { port, kemiModules: [...DEFAULT_MODULES, 'auth'], kemiArgs: args });
  } else {
    const params = Object.entries(auth).map(([k, v]) => `modparam("auth", "${k}", ${v})`).join('\n');
    await targets.start(target, file, { port, kamailioModules: `loadmodule "auth.so"\n${params}` });
  }
  const out: string[] = [];
  let cseq = 1;
  const send = async (label: string, user: string, auth: string): Promise<string> => {
    const ex = await udpRequest(port, register(user, auth, cseq++));
    const r = ex.replies.find((x) => /^SIP\/2\.0 [2-6]/.test(x)) ?? '';
    const challenge = /^WWW-Authenticate: (.*)$/m.exec(r)?.[1] ?? '';
    out.push(`${label}: ${r.split('\r\n')[0]} | ${/^X-Result: (.*)$/m.exec(r)?.[1] ?? '-'} | ${challenge.replace(/nonce="[^"]*"/, 'nonce="N"')}`);
    return /nonce="([^"]*)"/.exec(challenge)?.[1] ?? '';
  };
  const nonce = await send('no credentials', 'alice', '');
  if (!nonce) throw new Error(`${target}: no nonce in the challenge: ${out.join('\n')}`);
  await send('wrong password', 'alice', authorization('alice', 'wrong', nonce));
  await send('right password', 'alice', authorization('alice', 's3cret', nonce));
  await send('the same nonce and nonce count again', 'alice', authorization('alice', 's3cret', nonce));
  await send('the same nonce, next nonce count', 'alice', authorization('alice', 's3cret', nonce, '00000002'));
  await send('credentials of another user', 'alice', authorization('bob', 's3cret', nonce).replace('username="bob"', 'username="bob"'));
  await send('foreign nonce', 'alice', authorization('alice', 's3cret', 'bm90LW91ci1ub25jZQ'));
  await send('other realm', 'alice', authorization('alice', 's3cret', nonce).replace('realm="kemi.test"', 'realm="other.test"'));
  return out;
}

describe('digest authentication next to Kamailio 5.6', () => {
  it('the same codes and challenges for missing, wrong, right and foreign credentials', async () => {
    const { kemi, kam } = await targets.onBoth((t) => run(t));
    expect(kemi.join('\n')).toContain('check=1');
    expect(kemi).toEqual(kam);
    expect(kemi.find((l) => l.startsWith('the same nonce and nonce count again'))).toContain('check=1');
  }, 60_000);

  for (const params of [{ nonce_count: 1 }, { one_time_nonce: 1 }] as Record<string, number>[]) {
    it(`with ${JSON.stringify(params)} on both, the same codes: a nonce answered again is refused`, async () => {
      const { kemi, kam } = await targets.onBoth((t) => run(t, params));
      expect(kemi).toEqual(kam);
      expect(kemi.find((l) => l.startsWith('the same nonce and nonce count again'))).not.toContain('check=1');
    }, 60_000);
  }
});
