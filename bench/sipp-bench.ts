/**
 * SIPp uac -> proxy -> SIPp uas on loopback, against kemi-proxy and against Kamailio 5.6 running
 * the same KEMI script (bench/kamailio/kamailio.cfg.tpl, when Kamailio and its Lua module are
 * installed), one target after the other in one run. A benchmark, not a test: it asserts nothing.
 *
 * For each target: a warm-up step (excluded from the results; 8 s at 1000/s, past tm's 5 s wait
 * timer, so the JIT has compiled the whole call's code, its end included), then steps of `--seconds` each at
 * rising offered rates. A step is a fresh SIPp uas and uac (uac.xml: INVITE/200/ACK/BYE; its
 * `rtd="true"` on the 200 gives each call's INVITE->200 time, written per call by -trace_rtt).
 * Per step it prints: offered and completed calls/s (successful calls over the time until the
 * last of them was answered, at least the step's length),
 * failed calls, unexpected messages at either SIPp, the proxy's CPU seconds per 1000 completed
 * calls (utime+stime of the whole process tree, from /proc), p50/p99/max INVITE->200 (ms,
 * whole ms; on a CONFIG_HZ=250 kernel every value was a multiple of 4 ms, the tick), and the
 * datagrams dropped by the kernel at the proxy's and the UAS's UDP sockets (udp-drops.ts).
 *
 * A step is clean when: 0 failed calls at the uac and the uas, 0 unexpected messages at either,
 * and completed >= 95% of offered. Per target the summary gives the highest clean rate, CPU and
 * latency there, and the completed rate when twice that rate is offered (a step run for it).
 *
 *   npm run bench:sipp -- [--script routes/route.lua] [--seconds 5] [--transport u1|t1] [--uac-transport un]
 *        [--rates 500,1000,2000 | --step-rates auto | --step-rates 500..5000/500]
 *        [--target kemi,kamailio] [--workers N] [--children N] [--rounds N] [--out chart.svg]
 *        [--proxy-cpus 0-1 --sipp-cpus 2-3]
 *
 * `--step-rates auto` (500..5000/500): rates rise until a step is not clean, then one step at
 * twice the last clean rate. A target may carry kemi-proxy options, `kemi:OPT=VALUE:...` runs
 * `--OPT VALUE` (e.g. `--target kemi,kemi:overload=off,kemi:workers=2,kamailio`); `kemi:build=DIR`
 * runs the build in DIR (a worktree of another commit, built) for a before/after in one run;
 * `kemi:node=FLAG+FLAG` adds node flags to that target (e.g. `node=--max-semi-space-size=16`).
 * `kemi` runs kemi-proxy's defaults, the overload guard on. `direct` runs the same steps with no
 * proxy (the uac sends to the uas): the latency floor of the SIPps and the machine.
 * `--rounds N` (with `--rates`) interleaves the targets instead: all of them are started and warmed
 * up, then each rate is run on every target back to back, N times over; a target's figure at a rate
 * is the median of its N steps (clean when all N were), so a busy minute of a shared box falls on
 * every target alike instead of on whichever ran then.
 * The chart (a self-contained SVG: offered vs completed calls/s, p50/p99 per step, one curve per
 * target) is written to --out, by default into a new temp directory; its path is printed.
 * `--proxy-cpus LIST --sipp-cpus LIST` (taskset lists, e.g. `0-1` and `2-3`) pin every proxy
 * target's process tree, and the SIPps, to those CPUs: on a box with cores to spare, a proxy's
 * tail is then its own rather than the run queue it shares with the load generator.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, REPO, startProxy, startSipp, stopChild, tempDir, waitFor, type ProxyHandle, type SippHandle } from '../test/e2e/harness.js';
import { cpuShares, totalCpu, treeCpuByPid } from './proc-cpu.js';
import { checkCpuList, pinTree } from './cpu-pin.js';
import { udpDrops } from './udp-drops.js';
import { renderChart, type ChartSeries } from './sipp-chart.js';
import { hostLatencyNotes } from './host-notes.js';
import { OVERLOAD_LOG_PREFIX } from '../src/core/overload.js';

export interface Step {
  target: string;
  offered: number;
  calls: number;
  ok: number;
  /** Calls that did not complete at the uac (failed or unfinished), and failed calls at the uas. */
  failed: number;
  uasFailed: number;
  unexpected: number;
  cps: number;
  cpuPer1000: number;
  p50: number;
  p99: number;
  max: number;
  /** Datagrams the kernel dropped during the step at the proxy's UDP sockets and at the UAS's (udp-drops.ts; NaN: unknown). */
  proxyDrops: number;
  uasDrops: number;
  clean: boolean;
  /** The proxy's CPU of the step by process, in percent, largest first (proc-cpu.ts cpuShares; empty for direct). */
  cpuSplit: number[];
}

const { values } = parseArgs({
  options: {
    script: { type: 'string', default: 'routes/route.lua' },
    rates: { type: 'string' },
    'step-rates': { type: 'string' },
    seconds: { type: 'string', default: '5' },
    // Longer than tm's wait timer (5 s), so transactions end during the warm-up: with 3 s at 500/s,
    // V8 still compiled about 260 functions (and deoptimised 70) in the first measured step at
    // 2000/s, the code that ends transactions among them; with 8 s at 1000/s, about 40.
    'warmup-rate': { type: 'string', default: '1000' },
    'warmup-seconds': { type: 'string', default: '8' },
    transport: { type: 'string', default: 'u1' },
    /** The uac's alone (default: --transport): `un` gives each call its own source port. */
    'uac-transport': { type: 'string' },
    target: { type: 'string', default: 'kemi,kamailio' },
    workers: { type: 'string', default: '1' },
    children: { type: 'string', default: '2' },
    uac: { type: 'string', default: 'uac.xml' },
    uas: { type: 'string', default: 'uas.xml' },
    out: { type: 'string' },
    rounds: { type: 'string' },
    /** CPUs (taskset list) for every proxy target's processes and threads, and for the SIPps. */
    'proxy-cpus': { type: 'string' },
    'sipp-cpus': { type: 'string' },
  },
});

const script = resolve(REPO, values.script!);
const seconds = Number(values.seconds);
const transport = values.transport as 'u1' | 't1';
const uacTransport = (values['uac-transport'] ?? transport) as 'u1' | 'un' | 't1' | 'tn';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const proxyCpus = values['proxy-cpus'] === undefined ? null : checkCpuList(values['proxy-cpus'], '--proxy-cpus');
const sippCpus = values['sipp-cpus'] === undefined ? null : checkCpuList(values['sipp-cpus'], '--sipp-cpus');

/** A SIPp of a step, on --sipp-cpus when given. */
function startPinnedSipp(o: Parameters<typeof startSipp>[0]): SippHandle {
  const h = startSipp(o);
  try {
    if (sippCpus !== null) pinTree(h.pid, sippCpus);
  } catch (e) {
    void h.stop();
    throw e;
  }
  return h;
}

/** A proxy under test (pid: its process tree's CPU is counted), or no proxy (`direct`). */
interface Target { name: string; pid: number | null; port: number; stop(): Promise<void> }

/**
 * `direct`: no proxy, the uac sends to the uas itself. Its INVITE->200 times are what the two
 * SIPps and this machine add to every target's (SIPp's timer resolution, scheduling on a shared
 * box): a floor under the proxies' figures, not a proxy's. No CPU is counted for it.
 */
function directTarget(): Target {
  return { name: 'direct (no proxy)', pid: null, port: 0, stop: async () => {} };
}

/**
 * `kemi` or `kemi:OPT=VALUE:...`: kemi-proxy with `--workers` and any extra `--OPT VALUE`;
 * `build=DIR` runs DIR's build instead (DIR/dist/src/cli.js: a worktree of another commit).
 */
async function startKemi(spec: string): Promise<Target> {
  const opts = new Map<string, string>([['workers', values.workers!]]);
  for (const part of spec.split(':').slice(1)) {
    const i = part.indexOf('=');
    opts.set(i < 0 ? part : part.slice(0, i), i < 0 ? '' : part.slice(i + 1));
  }
  const build = opts.get('build');
  opts.delete('build');
  // node=FLAG+FLAG: node flags for this target only (e.g. node=--max-semi-space-size=16).
  const node = opts.get('node');
  opts.delete('node');
  const extra = ['--log-level', 'warn'];
  for (const [k, v] of opts) extra.push(`--${k}`, ...(v === '' ? [] : [v]));
  // kemi-proxy as users run it: the overload guard at its default unless the target says
  // overload=MS|off (startProxy turns it off for functional tests).
  const h: ProxyHandle = await startProxy({ script, extraArgs: extra, overloadDefault: true, cli: build ? resolve(build, 'dist/src/cli.js') : undefined, nodeArgs: node ? node.split('+') : undefined });
  const label = [...opts].map(([k, v]) => (v === '' ? k : `${k}=${v}`)).concat(build ? [`build=${build}`] : [], node ? [`node=${node}`] : []).join(',');
  const name = `kemi-proxy(${label})`;
  return { name, pid: h.pid, port: h.port, stop: () => (printOverloadLines(name, h.output()), h.stop()) };
}

/**
 * The overload guard's log lines (when shedding started, with its reason, and how many calls it
 * refused): a step that is not clean because the guard shed reads differently from one where the
 * proxy fell behind unguarded. Timestamped, so they can be put next to the steps.
 */
function printOverloadLines(name: string, output: string): void {
  for (const line of output.split('\n')) if (line.includes(OVERLOAD_LOG_PREFIX)) console.log(`  ${name}: ${line.trim()}`);
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
  try {
    await waitFor(() => /Aliases|listening on/.test(out) || child.exitCode !== null, 10_000, () => `kamailio did not start:\n${out}`);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  await sleep(1000);
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

/** Cumulative counters from the last line of a SIPp -trace_stat CSV. */
function sippCounters(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (!existsSync(file)) return out;
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  if (lines.length < 2) return out;
  const head = lines[0]!.split(';');
  const last = lines.at(-1)!.split(';');
  head.forEach((name, i) => {
    if (name.endsWith('(C)')) out[name.slice(0, -3)] = Number(last[i]);
  });
  return out;
}

/** CurrentTime - StartTime of the last line of a SIPp -trace_stat CSV ("date\ttime\tepoch" fields). */
function runSeconds(file: string): number | null {
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  if (lines.length < 2) return null;
  const head = lines[0]!.split(';');
  const last = lines.at(-1)!.split(';');
  const epoch = (name: string): number => Number(last[head.indexOf(name)]?.split('\t')[2]);
  const s = epoch('CurrentTime') - epoch('StartTime');
  return Number.isFinite(s) && s > 0 ? s : null;
}

/**
 * Per-call INVITE->200 times (ms), sorted, and when the last of those 200s came (s since SIPp
 * started), from SIPp's -trace_rtt file(s) in `dir` (rtd 1 only).
 */
function rtts(dir: string): { times: number[]; lastAt: number } {
  const times: number[] = [];
  let lastAt = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('_rtt.csv'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n').slice(1)) {
      const [at, ms, rtd] = line.split(';');
      if (rtd?.trim() !== '1') continue;
      times.push(Number(ms));
      lastAt = Math.max(lastAt, Number(at) / 1000);
    }
  }
  return { times: times.sort((a, b) => a - b), lastAt };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Ends a uas gracefully (SIGUSR1: SIPp finishes its calls and writes its statistics), by pid. */
async function endUas(uas: SippHandle): Promise<void> {
  try {
    process.kill(uas.pid, 'SIGUSR1');
  } catch {
    /* already gone */
  }
  await Promise.race([uas.done, sleep(5000)]);
  await uas.stop();
}

async function runStep(t: Target, rate: number, stepSeconds: number): Promise<Step> {
  const uasPort = await freePort();
  const calls = Math.round(rate * stepSeconds);
  const uas = startPinnedSipp({ scenario: values.uas!, port: uasPort, transport, timeoutS: stepSeconds * 3 + 60, extra: ['-fd', '1'] });
  await sleep(300);
  const cpu0 = t.pid === null ? new Map<number, number>() : treeCpuByPid(t.pid);
  const proxyDrops0 = t.pid === null ? NaN : udpDrops(t.port);
  const uasDrops0 = udpDrops(uasPort);
  const t0 = Date.now();
  // No limit on simultaneous calls below the total: the offered rate stays the offered rate when the proxy slows down.
  const uac = startPinnedSipp({
    scenario: values.uac!, port: await freePort(), transport: uacTransport, remote: `127.0.0.1:${uasPort}`, rsa: `127.0.0.1:${t.pid === null ? uasPort : t.port}`,
    calls, rate, limit: calls, timeoutS: stepSeconds * 3 + 30, service: 'bob', extra: ['-trace_rtt', '-rtt_freq', '200'],
  });
  let res;
  let wall: number;
  let cpu: number;
  let cpuSplit: number[] = [];
  let proxyDrops: number;
  let uasDrops: number;
  try {
    res = await uac.done;
    wall = (Date.now() - t0) / 1000;
    const cpu1 = t.pid === null ? null : treeCpuByPid(t.pid);
    cpu = cpu1 === null ? NaN : totalCpu(cpu1) - totalCpu(cpu0);
    if (cpu1) cpuSplit = cpuShares(cpu0, cpu1);
    proxyDrops = t.pid === null ? NaN : udpDrops(t.port) - proxyDrops0;
    uasDrops = udpDrops(uasPort) - uasDrops0;
  } finally {
    await uac.stop();
    await endUas(uas);
  }
  const a = sippCounters(join(uac.dir, 'stat.csv'));
  const b = sippCounters(join(uas.dir, 'stat.csv'));
  for (const [side, h] of [['uac', uac], ['uas', uas]] as const) printFailureReasons(side, join(h.dir, 'err.log'));
  const ok = res.successful;
  const failed = calls - ok;
  const uasFailed = b.FailedCall ?? 0;
  const unexpected = (a.FailedUnexpectedMessage ?? 0) + (b.FailedUnexpectedMessage ?? 0);
  // Completed calls/s: successful calls over the time until the last of them was answered (at
  // least the offered time); calls left to time out after that do not stretch it. SIPp's own run
  // time (without its start-up) when the rtt file is missing.
  const { times, lastAt } = rtts(uac.dir);
  const elapsed = lastAt > 0 ? Math.max(stepSeconds, lastAt) : (runSeconds(join(uac.dir, 'stat.csv')) ?? wall);
  const cps = ok / elapsed;
  return {
    target: t.name, offered: rate, calls, ok, failed, uasFailed, unexpected, cps,
    cpuPer1000: (cpu / Math.max(1, ok)) * 1000,
    p50: percentile(times, 50), p99: percentile(times, 99), max: times.at(-1) ?? NaN, proxyDrops, uasDrops,
    clean: failed === 0 && uasFailed === 0 && unexpected === 0 && cps >= 0.95 * rate,
    cpuSplit,
  };
}

/** A count, '-' where unknown (the direct target's proxy drops; no /proc/net/udp). */
function countText(v: number): string {
  return Number.isNaN(v) ? '-' : String(v);
}

/** CPU s per 1000 calls, '-' for the direct target (no proxy to count). */
function cpuText(v: number): string {
  return Number.isNaN(v) ? '-' : v.toFixed(3);
}

function printStep(s: Step): void {
  const ms = (v: number): string => (Number.isNaN(v) ? '-' : String(v)).padStart(5);
  console.log(
    `${s.target.padEnd(34)} offered ${String(s.offered).padStart(5)}/s  completed ${s.cps.toFixed(0).padStart(5)}/s  ` +
      `ok ${s.ok}/${s.calls}  failed ${s.failed}/${s.uasFailed} (uac/uas)  unexpected ${s.unexpected}  ${cpuText(s.cpuPer1000)} CPU s/1000  ` +
      `INVITE->200 p50 ${ms(s.p50)} p99 ${ms(s.p99)} max ${ms(s.max)} ms  drops ${countText(s.proxyDrops)}/${countText(s.uasDrops)} (proxy/uas)  ${s.clean ? 'clean' : 'NOT clean'}` +
      // Several processes (workers, Kamailio's children): how they shared the step's CPU.
      (s.cpuSplit.length > 1 ? `  cpu by process ${s.cpuSplit.join('/')}%` : ''),
  );
}

/** `--step-rates auto` or `FROM..TO/STEP`; null without the option. */
function stepRates(): number[] | null {
  const v = values['step-rates'];
  if (v === undefined) return null;
  const m = /^(\d+)\.\.(\d+)\/(\d+)$/.exec(v === 'auto' ? '500..5000/500' : v);
  if (!m) throw new Error(`--step-rates: 'auto' or FROM..TO/STEP, not '${v}'`);
  const out: number[] = [];
  for (let r = Number(m[1]); r <= Number(m[2]); r += Number(m[3])) out.push(r);
  return out;
}

/** A step at the warm-up rate, printed as such and not counted. */
async function warmUp(t: Target): Promise<void> {
  const warm = await runStep(t, Number(values['warmup-rate']), Number(values['warmup-seconds']));
  console.log(`${t.name.padEnd(34)} warm-up: ${warm.ok}/${warm.calls} calls at ${warm.offered}/s (not counted)`);
}

/** The rates of `--rates`. */
function fixedRates(): number[] {
  return (values.rates ?? '500,1000,1500,2000').split(',').map(Number);
}

/** The step at twice the highest clean rate of `steps` (unless they have one): printed and added to them. */
async function addTwiceStep(t: Target, steps: Step[]): Promise<void> {
  const best = highestClean(steps);
  if (!best || steps.some((s) => s.offered === best.offered * 2)) return;
  const s = await runStep(t, best.offered * 2, seconds);
  printStep(s);
  steps.push(s);
}

async function benchTarget(t: Target): Promise<Step[]> {
  await warmUp(t);
  const steps: Step[] = [];
  const run = async (rate: number): Promise<Step> => {
    const s = await runStep(t, rate, seconds);
    printStep(s);
    steps.push(s);
    return s;
  };
  const auto = stepRates();
  if (auto) {
    for (const rate of auto) if (!(await run(rate)).clean) break;
  } else {
    for (const rate of fixedRates()) await run(rate);
  }
  await addTwiceStep(t, steps);
  return steps;
}

function highestClean(steps: Step[]): Step | undefined {
  return steps.filter((s) => s.clean).sort((a, b) => b.offered - a.offered)[0];
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)]!;

/** A target's steps at one rate as one: medians of the figures, clean when every step was. */
function medianStep(steps: Step[]): Step {
  const m = (f: (s: Step) => number): number => median(steps.map(f));
  const s0 = steps[0]!;
  return {
    target: s0.target, offered: s0.offered, calls: s0.calls, ok: m((s) => s.ok), failed: m((s) => s.failed), uasFailed: m((s) => s.uasFailed),
    unexpected: m((s) => s.unexpected), cps: m((s) => s.cps), cpuPer1000: m((s) => s.cpuPer1000), p50: m((s) => s.p50), p99: m((s) => s.p99),
    max: m((s) => s.max), proxyDrops: m((s) => s.proxyDrops), uasDrops: m((s) => s.uasDrops), clean: steps.every((s) => s.clean),
    // Printed with each step; a median of shares would be no step's.
    cpuSplit: [],
  };
}

/** `--rounds N`: every target warmed up, then each rate on every target in turn, N times. */
async function benchInterleaved(targets: Target[], rounds: number): Promise<Step[]> {
  for (const t of targets) await warmUp(t);
  const rates = fixedRates();
  const raw: Step[] = [];
  for (let r = 1; r <= rounds; r++) {
    for (const rate of rates) {
      for (const t of targets) {
        const s = await runStep(t, rate, seconds);
        printStep({ ...s, target: `${s.target} [${r}/${rounds}]` });
        raw.push(s);
      }
    }
  }
  const out: Step[] = [];
  for (const t of targets) {
    const steps = rates.map((rate) => medianStep(raw.filter((s) => s.target === t.name && s.offered === rate)));
    await addTwiceStep(t, steps);
    out.push(...steps);
  }
  return out;
}

async function main(): Promise<void> {
  const all: Step[] = [];
  const names = new Set<string>();
  const rounds = values.rounds === undefined ? 0 : Number(values.rounds);
  if (values.rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1 || values['step-rates'] !== undefined)) {
    throw new Error('--rounds: a whole number >= 1, with --rates (not --step-rates)');
  }
  const started: Target[] = [];
  try {
    for (const spec of values.target!.split(',')) {
      const t = spec === 'kamailio' ? await startKamailio() : spec === 'direct' ? directTarget() : await startKemi(spec);
      if (!t) continue;
      // Its workers (or Kamailio's children) and V8's threads are up: all of them, and what they start later.
      try {
        if (proxyCpus !== null && t.pid !== null) pinTree(t.pid, proxyCpus);
      } catch (e) {
        await t.stop();
        throw e;
      }
      // The same target twice in one run (an A/B/A/B): its curves stay apart.
      for (let i = 2; names.has(t.name); i++) t.name = `${t.name.replace(/ #\d+$/, '')} #${i}`;
      names.add(t.name);
      if (rounds) {
        started.push(t);
        continue;
      }
      try {
        all.push(...(await benchTarget(t)));
      } finally {
        await t.stop();
      }
    }
    if (rounds) all.push(...(await benchInterleaved(started, rounds)));
  } finally {
    for (const t of started) await t.stop();
  }
  if (rounds) console.log(`\n(figures per rate: the median of ${rounds} interleaved steps; clean when all were)`);
  const pinned = proxyCpus !== null || sippCpus !== null ? `, proxy on CPUs ${proxyCpus ?? 'any'}, SIPps on ${sippCpus ?? 'any'}` : '';
  console.log(`\nsummary (${transport}${uacTransport === transport ? '' : `, uac ${uacTransport}`}, script ${values.script}, ${seconds} s steps${pinned}, warm-up excluded):`);
  const series: ChartSeries[] = [];
  for (const target of new Set(all.map((r) => r.target))) {
    const steps = all.filter((r) => r.target === target).sort((a, b) => a.offered - b.offered);
    series.push({ name: target, steps });
    const best = highestClean(steps);
    if (!best) {
      console.log(`  ${target}: no clean step`);
      continue;
    }
    const twice = steps.find((s) => s.offered === best.offered * 2);
    console.log(
      `  ${target}: highest clean rate ${best.offered}/s (${cpuText(best.cpuPer1000)} CPU s per 1000 calls, INVITE->200 p50 ${best.p50} p99 ${best.p99} max ${best.max} ms); ` +
        `at ${best.offered * 2}/s offered: ${twice ? `${twice.cps.toFixed(0)}/s completed (${((twice.cps / best.offered) * 100).toFixed(0)}% of the clean rate)` : 'not run'}`,
    );
  }
  const out = resolve(values.out ?? join(tempDir('kemi-bench-'), 'sipp-bench.svg'));
  writeFileSync(out, renderChart(series, `SIPp ${transport}, ${values.script}, ${seconds} s steps`));
  console.log(`\nchart written to ${out}`);
  for (const note of hostLatencyNotes()) console.log(note);
}

void main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
