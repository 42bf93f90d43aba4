/**
 * ksr_onsend_route next to Kamailio 5.6: $snd / $sndto / $sndfrom (destination, sending socket,
 * protocol, the bytes about to go out) for a request forwarded statelessly and one relayed by tm,
 * and $null outside the onsend route. The onsend route keeps what it saw in $shv; an OPTIONS
 * answered afterwards carries it in a header.
 */
import { describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { freePort, writeScript } from './harness.js';
import { request, udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const script = (sink: number): string => `
local function v(pv) return tostring(KSR.pv.get(pv)) end

function ksr_onsend_route()
  local buf = KSR.pv.get("$snd(buf)") or ""
  KSR.pv.sets("$shv(snd)", "ip=" .. v("$snd(ip)") .. " port=" .. v("$snd(port)") .. " af=" .. v("$snd(af)")
    .. " proto=" .. v("$snd(proto)") .. " sproto=" .. v("$snd(sproto)") .. " to=" .. v("$sndto(ip)") .. ":" .. v("$sndto(port)")
    .. " from=" .. v("$sndfrom(ip)") .. ":" .. v("$sndfrom(port)") .. "/" .. v("$sndfrom(sproto)") .. "/" .. v("$sndfrom(proto)")
    .. " lenok=" .. tostring(KSR.pv.get("$snd(len)") == #buf) .. " first=" .. (buf:match("^[^\\r\\n]*") or ""))
end

function ksr_request_route()
  if KSR.is_OPTIONS() then
    KSR.hdr.append_to_reply("X-Outside: " .. v("$snd(ip)") .. " " .. v("$sndfrom(port)") .. " " .. v("$snd(buf)") .. "\\r\\n")
    KSR.hdr.append_to_reply("X-Snd: " .. v("$shv(snd)") .. "\\r\\n")
    KSR.sl.sl_send_reply(200, "OK")
    return
  end
  if KSR.is_MESSAGE() then
    KSR.forward_uri("sip:127.0.0.1:${sink}")
    return
  end
  KSR.setdsturi("sip:127.0.0.1:${sink}")
  KSR.tm.t_relay()
end
`;

async function run(target: 'kemi' | 'kamailio'): Promise<string[]> {
  const sink = createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  const got: string[] = [];
  sink.on('message', (m) => got.push(m.toString('latin1').split('\r\n')[0]!));
  const sinkPort = (sink.address() as { port: number }).port;
  const port = await freePort();
  try {
    const h = await targets.start(target, writeScript(script(sinkPort)), { port });
    const out: string[] = [];
    const mask = (s: string): string => s.replaceAll(String(sinkPort), 'SINK').replaceAll(String(port), 'PROXY');
    const snd = async (): Promise<void> => {
      const ex = await udpRequest(port, request('OPTIONS', 'sip:service@kemi.test'), 3000);
      const r = ex.replies.find((x) => x.startsWith('SIP/2.0 200'));
      if (!r) throw new Error(`${target}: no 200 to OPTIONS\n${h.output().slice(-2000)}`);
      out.push(...r.split('\r\n').filter((l) => l.startsWith('X-')).map(mask));
    };
    await snd();
    void udpRequest(port, request('MESSAGE', 'sip:bob@kemi.test'), 300);
    await new Promise((r) => setTimeout(r, 400));
    await snd();
    void udpRequest(port, request('INVITE', 'sip:carol@kemi.test'), 300);
    await new Promise((r) => setTimeout(r, 400));
    await snd();
    out.push(...[...new Set(got)].map(mask));
    return out;
  } finally {
    sink.close();
  }
}

describe('onsend route next to Kamailio 5.6', () => {
  it('$snd, $sndto and $sndfrom describe what is about to be sent', async () => {
    const { kemi, kam } = await targets.onBoth((t) => run(t));
    expect(kemi.join('\n')).toContain('X-Snd: ip=127.0.0.1 port=SINK');
    expect(kemi).toEqual(kam);
  }, 60_000);
});
