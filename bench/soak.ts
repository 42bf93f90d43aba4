/**
 * Soak (issue 17): SIPp uac -> kemi-proxy -> SIPp uas at a steady call rate for a duration, with
 * the proxy's /metrics (prom-client collectDefaultMetrics, prefix kemi_) scraped every interval.
 * Per interval it prints RSS (from /proc), V8 heap used and total, external memory (the Lua VMs'
 * WebAssembly memory is there), GC pauses (count and total by kind, from
 * kemi_nodejs_gc_duration_seconds), event-loop lag (p50, p99, max of the interval: prom-client
 * resets its monitorEventLoopDelay histogram at each scrape), transactions in memory and CPU
 * seconds; at the end SIPp's totals and the RSS peak. --heap-snapshots writes a V8 heap snapshot
 * of the proxy after the first interval and at the end (node --heapsnapshot-signal), to compare
 * in Chrome DevTools.
 *
 *   npm run build && node dist/bench/soak.js [--duration 600] [--rate 300] [--interval 60]
 *        [--script routes/route.lua] [--workers 1] [--transport u1|t1] [--heap-snapshots]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, REPO, startSipp, tempDir, waitFor } from '../test/e2e/harness.js';
import { treeCpuSeconds } from './proc-cpu.js';
import { metric, mib, rssMiB, scrape, type Scrape } from './soak-metrics.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '600' },
    rate: { type: 'string', default: '300' },
    interval: { type: 'string', default: '60' },
    script: { type: 'string', default: 'routes/route.lua' },
    workers: { type: 'string', default: '1' },
    transport: { type: 'string', default: 'u1' },
    'heap-snapshots': { type: 'boolean', default: false },
  },
});
const DURATION = Number(values.duration);
const RATE = Number(values.rate);
const INTERVAL = Number(values.interval);

interface Proxy { child: ChildProcess; port: number; metrics: string; dir: string; log: string }

async function startProxy(): Promise<Proxy> {
  const port = await freePort();
  const mport = await freePort();
  const dir = tempDir('kemi-soak-');
  const log = join(dir, 'proxy.log');
  const fd = openSync(log, 'w');
  const node = values['heap-snapshots'] ? ['--heapsnapshot-signal=SIGUSR2'] : [];
  const args = [...node, join(REPO, 'dist/src/cli.js'), '--script', resolve(REPO, values.script!), '--no-watch', '--rpc', 'off',
    '--metrics', `127.0.0.1:${mport}`, '--listen', `udp:127.0.0.1:${port}`, '--listen', `tcp:127.0.0.1:${port}`, '--alias', 'kemi.test',
    '--log-level', 'warn', '--workers', values.workers!];
  const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  await waitFor(() => /kemi-proxy ready/.test(readFileSync(log, 'utf8')) || child.exitCode !== null, 15_000, () => `proxy did not start:\n${readFileSync(log, 'utf8')}`);
  return { child, port, metrics: `127.0.0.1:${mport}`, dir, log };
}

async function snapshot(p: Proxy, label: string): Promise<void> {
  const before = new Set(readdirSync(p.dir));
  p.child.kill('SIGUSR2');
  // Writing a snapshot of a few hundred MB takes seconds; wait for the file to appear and settle.
  let file = '';
  await waitFor(() => {
    file = readdirSync(p.dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f)) ?? '';
    return file !== '';
  }, 120_000, () => 'no heap snapshot written');
  // The file appears empty and grows while V8 writes it: done when it stops growing.
  let size = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 2000));
    const now = statSync(join(p.dir, file)).size;
    if (now > 0 && now === size) break;
    size = now;
  }
  console.log(`heap snapshot (${label}): ${join(p.dir, file)} (${mib(size)} MiB)`);
}

const gcKinds = (s: Scrape): Map<string, { sum: number; count: number }> => {
  const out = new Map<string, { sum: number; count: number }>();
  for (const [k, v] of s) {
    const m = /^kemi_nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\}$/.exec(k);
    if (!m) continue;
    const e = out.get(m[2]!) ?? { sum: 0, count: 0 };
    e[m[1] as 'sum' | 'count'] = v;
    out.set(m[2]!, e);
  }
  return out;
};

async function main(): Promise<void> {
  const proxy = await startProxy();
  const pid = proxy.child.pid!;
  const transport = values.transport as 'u1' | 't1';
  const uasPort = await freePort();
  const uas = startSipp({ scenario: 'uas.xml', port: uasPort, transport, timeoutS: DURATION + 120 });
  await new Promise((r) => setTimeout(r, 500));
  let prev = await scrape(proxy.metrics);
  let prevCpu = treeCpuSeconds(pid);
  const idleRss = rssMiB(pid);
  console.log(`soak: ${RATE} calls/s for ${DURATION} s through ${values.script} (${transport}, workers ${values.workers}); proxy pid ${pid}, log ${proxy.log}`);
  console.log(`idle: RSS ${idleRss.toFixed(1)} MiB, heap used ${mib(metric(prev, 'kemi_nodejs_heap_size_used_bytes'))} MiB, external ${mib(metric(prev, 'kemi_nodejs_external_memory_bytes'))} MiB`);
  const calls = RATE * DURATION;
  const uac = startSipp({
    scenario: 'uac.xml', port: await freePort(), transport, remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${proxy.port}`,
    calls, rate: RATE, limit: Math.max(200, RATE * 4), timeoutS: DURATION + 90, service: 'bob',
  });
  let uacDone = false;
  void uac.done.then(() => (uacDone = true));
  console.log('min   RSS MiB  heap used/total MiB  external MiB  GC: count, pause ms (minor/major/incremental/weakcb)  lag p50/p99/max ms  tm active  CPU s');
  let peak = idleRss;
  const t0 = Date.now();
  for (let n = 1; !uacDone || n === 1; n++) {
    const wake = t0 + n * INTERVAL * 1000;
    while (Date.now() < wake && !uacDone) await new Promise((r) => setTimeout(r, 200));
    const s = await scrape(proxy.metrics);
    const rss = rssMiB(pid);
    peak = Math.max(peak, rss);
    const cpu = treeCpuSeconds(pid);
    const g0 = gcKinds(prev);
    const g1 = gcKinds(s);
    let gcCount = 0;
    const byKind: string[] = [];
    for (const kind of ['minor', 'major', 'incremental', 'weakcb']) {
      const a = g0.get(kind) ?? { sum: 0, count: 0 };
      const b = g1.get(kind) ?? { sum: 0, count: 0 };
      gcCount += b.count - a.count;
      byKind.push(((b.sum - a.sum) * 1000).toFixed(0));
    }
    const ms = (name: string): string => (metric(s, name) * 1000).toFixed(1);
    const minute = ((Date.now() - t0) / 60_000).toFixed(1);
    console.log(`${minute.padStart(4)}  ${rss.toFixed(1).padStart(7)}  ${String(mib(metric(s, 'kemi_nodejs_heap_size_used_bytes'))).padStart(8)}/${String(mib(metric(s, 'kemi_nodejs_heap_size_total_bytes'))).padEnd(8)}` +
      `  ${String(mib(metric(s, 'kemi_nodejs_external_memory_bytes'))).padStart(11)}  ${String(gcCount).padStart(5)}, ${byKind.join('/').padEnd(40)}` +
      `  ${ms('kemi_nodejs_eventloop_lag_p50_seconds')}/${ms('kemi_nodejs_eventloop_lag_p99_seconds')}/${ms('kemi_nodejs_eventloop_lag_max_seconds')}`.padEnd(20) +
      `  ${String(metric(s, 'kemi_tm_transactions_active')).padStart(9)}  ${(cpu - prevCpu).toFixed(1)}`);
    if (n === 1 && values['heap-snapshots']) await snapshot(proxy, 'after the first interval');
    prev = s;
    prevCpu = cpu;
  }
  const res = await uac.done;
  await uas.stop();
  const end = await scrape(proxy.metrics);
  console.log(`SIPp: ${res.successful} successful, ${res.failed} failed of ${calls} calls; RSS idle ${idleRss.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB (sampled each interval), ` +
    `at the end ${rssMiB(pid).toFixed(1)} MiB; transactions created ${metric(end, 'kemi_tm_transactions_created_total')}, script errors ${metric(end, 'kemi_script_errors_total')}`);
  if (values['heap-snapshots']) {
    // Let the transactions of the last calls end (their timers), then look at what stays.
    await new Promise((r) => setTimeout(r, 40_000));
    await snapshot(proxy, 'after the run, transactions ended');
  }
  const gone = new Promise<void>((r) => proxy.child.once('exit', () => r()));
  proxy.child.kill('SIGTERM');
  const t = setTimeout(() => proxy.child.kill('SIGKILL'), 3000);
  await gone;
  clearTimeout(t);
  process.exitCode = res.failed > 0 ? 1 : 0;
}

await main();
