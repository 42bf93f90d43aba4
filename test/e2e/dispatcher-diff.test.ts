/**
 * Dispatcher, kemi-proxy next to Kamailio 5.6 on the same script and the same dispatcher.list:
 * for the hashing algorithms (0 Call-ID, 1 From URI, 2 To URI, 3 R-URI, 7 hash_pvar), round-robin
 * (4), first (8) and parallel (12: the other destinations as branches), with failover on (flags 2), each request is answered with what ds_select_dst chose,
 * how many destinations $xavp(_dsctx_=>cnt) counts, and the order ds_next_dst walks. Both must
 * choose the same destination for the same request: ds_get_hash, the priority order of the set,
 * skipping a disabled destination, and the failover list are Kamailio's.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { freePort, REPO, tempDir, writeScript } from './harness.js';
import { startKamailioCfg } from './kamailio.js';
import { udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const SCRIPT = `
function ksr_request_route()
  local alg = tonumber(KSR.pv.gete("$hdr(X-Alg)")) or 0
  if KSR.dispatcher.ds_select_dst(1, alg) < 0 then
    KSR.sl.sl_send_reply(503, "No destination")
    return 1
  end
  local walk = KSR.pv.get("$du")
  while KSR.dispatcher.ds_next_dst() > 0 do
    walk = walk .. "," .. KSR.pv.get("$du")
  end
  local br = {}
  for i = 0, 9 do
    local d = KSR.pv.get("$(branch(dst_uri)[" .. i .. "])")
    if d then br[#br + 1] = d end
  end
  KSR.hdr.append_to_reply("X-Ds: " .. walk .. ";cnt=" .. tostring(KSR.pv.get("$xavp(_dsctx_=>cnt)")) .. ";branches=" .. table.concat(br, "|") .. "\\r\\n")
  KSR.sl.sl_send_reply(200, "Selected")
end
`;

/** Set 1: equal and higher priorities, one destination disabled (flags 1: inactive). */
const LIST = [
  '1 sip:127.0.0.1:5071 0 0',
  '1 sip:127.0.0.1:5072 0 0',
  '1 sip:127.0.0.1:5073 0 5',
  '1 sip:127.0.0.1:5074 1 0',
  '1 sip:127.0.0.1:5075;transport=udp 0 0',
  '1 sip:10.0.0.6:5060 0 1',
].join('\n') + '\n';

function kamailioCfg(dir: string, port: number, script: string, list: string): string {
  return readFileSync(join(REPO, 'bench/kamailio/kamailio.cfg.tpl'), 'utf8')
    .replaceAll('@PORT@', String(port))
    .replaceAll('@SCRIPT@', script)
    // One child: round-robin then walks the set in one order.
    .replaceAll('@CHILDREN@', '1')
    .replaceAll('@RUNDIR@', dir)
    .replace('loadmodule "app_lua.so"', `loadmodule "dispatcher.so"\nloadmodule "app_lua.so"\nmodparam("dispatcher", "list_file", "${list}")\nmodparam("dispatcher", "flags", 2)\nmodparam("dispatcher", "hash_pvar", "$fU@$ci")`);
}

function request(i: number, alg: number): string {
  return [
    `OPTIONS sip:r${i}@kemi.test SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:$LPORT;branch=z9hG4bKds${alg}x${i}`,
    'Max-Forwards: 70',
    `From: <sip:caller${i}@kemi.test>;tag=f${i}`,
    `To: <sip:callee${(i * 7) % 13}@example.org>`,
    `Call-ID: ds-${i * 31}-${alg}@kemi.test`,
    `CSeq: ${i + 1} OPTIONS`,
    `X-Alg: ${alg}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function selections(target: 'kemi' | 'kamailio'): Promise<string[]> {
  const dir = tempDir('kemi-dsdiff-');
  const list = join(dir, 'dispatcher.list');
  writeFileSync(list, LIST);
  const script = writeScript(SCRIPT);
  const port = await freePort();
  if (target === 'kemi') {
    const cfg = join(dir, 'kemi.json');
    writeFileSync(cfg, JSON.stringify({ modparams: { dispatcher: { list_file: list, flags: 2, hash_pvar: '$fU@$ci' } } }));
    await targets.start(target, script, { port, kemiModules: [...DEFAULT_MODULES, 'dispatcher'], kemiArgs: ['-c', cfg] });
  } else {
    targets.track(await startKamailioCfg((d) => kamailioCfg(d, port, script, list), port));
  }
  const out: string[] = [];
  for (const alg of [0, 1, 2, 3, 4, 7, 8, 12]) {
    for (let i = 0; i < 12; i++) {
      const ex = await udpRequest(port, request(i, alg));
      const reply = ex.replies.find((r) => r.startsWith('SIP/2.0 200')) ?? ex.replies[0] ?? '(no reply)';
      out.push(`alg ${alg} req ${i}: ${/^X-Ds: (.*)$/m.exec(reply)?.[1]?.trim() ?? reply.split('\r\n')[0]}`);
    }
  }
  return out;
}

describe('dispatcher next to Kamailio 5.6', () => {
  it('selects the same destinations and walks the same failover order for algorithms 0 1 2 3 4 7 8 12', async () => {
    const { kemi, kam } = await targets.onBoth((t) => selections(t));
    // The hash algorithms spread the requests over more than one destination.
    expect(new Set(kemi.filter((l) => l.startsWith('alg 0 ')).map((l) => l.split(': ')[1]!.split(',')[0])).size).toBeGreaterThan(1);
    expect(kemi).toEqual(kam);
  }, 90_000);
});
