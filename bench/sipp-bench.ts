/**
 * SIPp against kemi-proxy, and against Kamailio 5.6 running the same script when it is installed.
 * For each offered rate: SIPp uac -> proxy -> SIPp uas for a fixed number of calls; prints calls/s
 * achieved, failed calls, and the proxy's CPU seconds per 1000 calls (utime+stime from /proc, the
 * whole process tree). The headline figure is the highest rate with 0 failed calls.
 *
 *   npm run build && node dist/bench/sipp-bench.js [--script routes/route.lua] [--rates 500,1000,2000]
 *        [--seconds 10] [--transport u1|t1] [--target kemi,kamailio] [--workers N] [--children N]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, REPO, startProxy, startSipp, stopChild, tempDir, waitFor, type ProxyHandle } from '../test/e2e/harness.js';
import { treeCpuSeconds } from './proc-cpu.js';

interface Row { target: string; offered: number; calls: number; ok: number; failed: number; cps: number; cpuPer1000: number }

const { values } = parseArgs({
  options: {
    script: { type: 'string', default: 'routes/route.lua' },
    rates: { type: 'string', default: '500,1000,1500,2000' },
    seconds: { type: 'string', default: '10' },
    transport: { type: 'string', default: 'u1' },
    target: { type: 'string', default: 'kemi,kamailio' },
    workers: { type: 'string', default: '1' },
    children: { type: 'string', default: '2' },
    uac: { type: 'string', default: 'uac.xml' },
    uas: { type: 'string', default: 'uas.xml' },
  },
});

const script = resolve(REPO, values.script!);
const rates = values.rates!.split(',').map(Number);
const seconds = Number(values.seconds);
const transport = values.transport as 'u1' | 't1';

interface Target { name: string; pid: number; port: number; stop(): Promise<void> }

async function startKemi(): Promise<Target> {
  const h: ProxyHandle = await startProxy({ script, extraArgs: ['--log-level', 'warn', '--workers', values.workers!] });
  return { name: `kemi-proxy(workers=${values.workers})`, pid: h.pid, port: h.port, stop: () => h.stop() };
}

async function startKamailio(): Promise<Target | null> {
  if (spawnSync('sh', ['-c', 'command -v kamailio && test -f /usr/lib/x86_64-linux-gnu/kamailio/modules/app_lua.so']).status !== 0) {
    console.log('kamailio or kamailio-lua-modules not installed: skipping the Kamailio side');
    return null;
  }
  const dir = tempDir('kemi-kam-');
  const port = await freePort();
  const cfg = readFileSync(join(REPO, 'bench/kamailio/kamailio.cfg.tpl'), 'utf8')
    .replaceAll('@PORT@', String(port)).replaceAll('@SCRIPT@', script)
    .replaceAll('@CHILDREN@', values.children!).replaceAll('@RUNDIR@', dir);
  writeFileSync(join(dir, 'kamailio.cfg'), cfg);
  // 256 MB of shared memory ran out at 2000 calls/s (tm answered 500); 1 GB does not limit it.
  const child: ChildProcess = spawn('kamailio', ['-f', join(dir, 'kamailio.cfg'), '-DD', '-E', '-m', '1024', '-M', '32'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  await waitFor(() => /Aliases|listening on/.test(out) || child.exitCode !== null, 10_000, () => `kamailio did not start:\n${out}`);
  await new Promise((r) => setTimeout(r, 1000));
  return { name: `kamailio(children=${values.children})`, pid: child.pid!, port, stop: () => stopChild(child) };
}

/** Why SIPp aborted calls, grouped: run-specific values (Call-IDs, numbers) masked. */
function printFailureReasons(side: string, errLog: string): void {
  if (!existsSync(errLog)) return;
  const reasons = new Map<string, number>();
  // One entry per timestamp ("2026-11-30\t13:15:27.619989\t..."); SIPp does not end them all with a newline.
  for (const entry of readFileSync(errLog, 'utf8').split(/(?=\d{4}-\d\d-\d\d\t\d\d:)/)) {
    const m = /(Aborting call[^\n]*|Call-Id [^\n]* not found[^\n]*|[^\n]*unexpected[^\n]*)/i.exec(entry);
    if (!m) continue;
    const key = m[1]!.replace(/'[^']*@[^']*'|Call-Id '[^']*'/g, "'…'").replace(/\d+/g, 'N').slice(0, 140);
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 4)) console.log(`    ${side} x${n}: ${reason}`);
}

async function runRate(t: Target, rate: number): Promise<Row> {
  const uasPort = await freePort();
  const uas = startSipp({ scenario: values.uas!, port: uasPort, transport, timeoutS: seconds + 60 });
  await new Promise((r) => setTimeout(r, 300));
  const calls = Math.round(rate * seconds);
  const cpu0 = treeCpuSeconds(t.pid);
  const t0 = Date.now();
  const uac = startSipp({
    scenario: values.uac!, port: await freePort(), transport, remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${t.port}`,
    calls, rate, limit: Math.max(200, rate * 2), timeoutS: seconds * 3 + 30, service: 'bob',
  });
  const res = await uac.done;
  const elapsed = (Date.now() - t0) / 1000;
  const cpu = treeCpuSeconds(t.pid) - cpu0;
  await uas.stop();
  for (const [side, h] of [['uac', uac], ['uas', uas]] as const) printFailureReasons(side, join(h.dir, 'err.log'));
  return { target: t.name, offered: rate, calls, ok: res.successful, failed: res.failed + (calls - res.successful - res.failed), cps: res.successful / elapsed, cpuPer1000: (cpu / Math.max(1, res.successful)) * 1000 };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const name of values.target!.split(',')) {
    const t = name === 'kamailio' ? await startKamailio() : await startKemi();
    if (!t) continue;
    try {
      for (const rate of rates) {
        const row = await runRate(t, rate);
        rows.push(row);
        console.log(`${row.target.padEnd(26)} offered ${String(rate).padStart(5)}/s  calls ${row.calls}  ok ${row.ok}  failed ${row.failed}  ${row.cps.toFixed(0)} calls/s  ${row.cpuPer1000.toFixed(3)} CPU s/1000 calls`);
      }
    } finally {
      await t.stop();
    }
  }
  console.log('\nbest rate at 0 failed calls:');
  for (const target of new Set(rows.map((r) => r.target))) {
    const clean = rows.filter((r) => r.target === target && r.failed === 0);
    const best = clean.sort((a, b) => b.cps - a.cps)[0];
    console.log(best ? `  ${target}: ${best.cps.toFixed(0)} calls/s, ${best.cpuPer1000.toFixed(3)} CPU s per 1000 calls (${transport}, script ${values.script})` : `  ${target}: no rate without failures`);
  }
}

void main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
