/**
 * drachtio-srf apps behind kemi-proxy: SIPp uac -> kemi-proxy -> an srf app (in this process,
 * the real drachtio-srf) for a fixed number of calls per offered rate. Two apps:
 *   486: srf.invite((req, res) => res.send(486))
 *   uas: srf.createUAS answering with SDP, the caller's BYE ends it
 * Prints calls/s achieved, failed calls and the proxy's CPU seconds per 1000 calls.
 *
 *   npm run build && node dist/bench/drachtio-bench.js [--rates 200,400,800] [--seconds 10] [--apps 486,uas]
 */
import { parseArgs } from 'node:util';
import { freePort, startProxy, startSipp, writeScript, type ProxyHandle } from '../test/e2e/harness.js';
import { connectSrf, newSrf, SDP_ANSWER, type SrfApp } from '../test/drachtio/srf-app.js';
import { treeCpuSeconds } from './proc-cpu.js';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '200,400,800,1200' },
    seconds: { type: 'string', default: '10' },
    apps: { type: 'string', default: '486,uas' },
  },
});

const SECRET = 'bench';
const SCRIPT = 'function ksr_request_route()\n  if KSR.drachtio.send_to_app("") > 0 then return end\n  KSR.sl.sl_send_reply(503, "No App")\nend\n';

async function run(proxy: ProxyHandle, scenario: string, rate: number, seconds: number): Promise<{ calls: number; ok: number; failed: number; cps: number; cpu: number }> {
  const calls = rate * seconds;
  const cpu0 = treeCpuSeconds(proxy.pid);
  const t0 = Date.now();
  const uac = startSipp({
    scenario, port: await freePort(), remote: `127.0.0.1:${proxy.port}`, rsa: `127.0.0.1:${proxy.port}`,
    calls, rate, limit: Math.max(100, rate * 2), timeoutS: seconds + 60,
  });
  const res = await uac.done;
  const elapsed = (Date.now() - t0) / 1000;
  const cpu = treeCpuSeconds(proxy.pid) - cpu0;
  return { calls, ok: res.successful, failed: calls - res.successful, cps: res.successful / elapsed, cpu: (cpu / Math.max(1, res.successful)) * 1000 };
}

async function main(): Promise<void> {
  const dport = await freePort();
  const proxy = await startProxy({ script: writeScript(SCRIPT), extraArgs: ['--log-level', 'warn', '--drachtio', `127.0.0.1:${dport}`, '--drachtio-secret', SECRET] });
  const summary: string[] = [];
  try {
    for (const app of values.apps!.split(',')) {
      const srf: SrfApp = newSrf();
      if (app === '486') srf.invite((_req, res) => res.send(486));
      else srf.invite((req, res) => void srf.createUAS(req, res, { localSdp: SDP_ANSWER }).catch(() => undefined));
      await connectSrf(srf, dport, SECRET);
      await new Promise((r) => setTimeout(r, 200));
      const scenario = app === '486' ? 'drachtio-uac-486.xml' : 'uac.xml';
      let best = 0;
      for (const rate of values.rates!.split(',').map(Number)) {
        const r = await run(proxy, scenario, rate, Number(values.seconds));
        console.log(`${app.padEnd(4)} offered ${String(rate).padStart(5)}/s  calls ${r.calls}  ok ${r.ok}  failed ${r.failed}  ${r.cps.toFixed(0)} calls/s  ${r.cpu.toFixed(3)} CPU s/1000 calls`);
        if (r.failed === 0) best = Math.max(best, r.cps);
      }
      summary.push(`${app}: ${best.toFixed(0)} calls/s with no failed call`);
      srf.disconnect();
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    await proxy.stop();
  }
  console.log(summary.join('\n'));
}

void main();
