/**
 * End-to-end test harness: starts a real kemi-proxy (the built CLI) and real SIPp processes on
 * loopback, and stops each by its pid. Every wait is bounded in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { withProxyFlags } from '../../src/ops/node-flags.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file with a package.json (works from dist/ too). */
export const REPO = findRepo(fileURLToPath(new URL('.', import.meta.url)));
function findRepo(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'tsconfig.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}
export const SCENARIOS = join(REPO, 'test/e2e/scenarios');
const CLI = join(REPO, 'dist/src/cli.js');

/**
 * Ports this process hands out: below the kernel's ephemeral range (32768 up on Linux), so that no
 * socket bound to port 0 (a SIPp's media or control socket, a proxy's outgoing TCP connection) can
 * take one between our check and the bind of the process we give it to; and never the same one twice
 * in a process, so that two SIPps or a SIPp and a proxy started side by side cannot get the same port
 * before either has bound it. Each test file starts at a random place in the range.
 */
const PORT_LOW = 10_000;
const PORT_HIGH = 30_000; // rtpengine's media ports in the rtpengine tests start here (rtpengine-call.ts)
let nextPort = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW));

function takePort(): number {
  const p = nextPort;
  nextPort = nextPort + 1 >= PORT_HIGH ? PORT_LOW : nextPort + 1;
  return p;
}

function bindsFree(port: number): Promise<boolean> {
  return new Promise<boolean>((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  }).then((tcpFree) => tcpFree && new Promise<boolean>((res) => {
    const s = createSocket('udp4');
    s.once('error', () => res(false));
    s.bind(port, '127.0.0.1', () => s.close(() => res(true)));
  }));
}

/** A port free for both UDP and TCP on 127.0.0.1 right now, not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = takePort();
    if (await bindsFree(port)) return port;
  }
  throw new Error('no free port');
}

export function tempDir(prefix = 'kemi-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface ProxyHandle {
  readonly pid: number;
  readonly port: number;
  /** Everything the proxy wrote to stderr/stdout so far. */
  output(): string;
  /** Resolves when the output matches, within the time limit. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  /** How the process ended: its exit code, or the signal that ended it (both null while it runs). */
  exit(): { code: number | null; signal: NodeJS.Signals | null };
}

export interface ProxyOptions {
  script: string;
  port?: number;
  protos?: ('udp' | 'tcp')[];
  aliases?: string[];
  extraArgs?: string[];
  modules?: string[];
  /** Reload the script when its file changes (off by default in tests). */
  watch?: boolean;
  /** Run the overload guard with kemi-proxy's default instead of `--overload off`. */
  overloadDefault?: boolean;
  /** Another build's dist/src/cli.js (a bench comparing two commits); this checkout's by default. */
  cli?: string;
  /** Node flags before the script, after KEMI_PROXY_NODE_ARGS (a bench comparing V8 settings). */
  nodeArgs?: readonly string[];
}

/** Starts kemi-proxy (node dist/src/cli.js) and waits until it says it is ready. */
export async function startProxy(opts: ProxyOptions): Promise<ProxyHandle> {
  const cli = opts.cli ?? CLI;
  if (!existsSync(cli)) throw new Error(`${cli} missing: run 'npm run build' first (npm test does)`);
  const port = opts.port ?? (await freePort());
  const args = [cli, '--script', opts.script, opts.watch ? '--watch' : '--no-watch', '--metrics', 'off', '--rpc', 'off'];
  for (const p of opts.protos ?? ['udp', 'tcp']) args.push('--listen', `${p}:127.0.0.1:${port}`);
  for (const a of opts.aliases ?? ['kemi.test']) args.push('--alias', a);
  for (const m of opts.modules ?? []) args.push('--module', m);
  const extra = opts.extraArgs ?? [];
  // The overload guard (on by default) sheds new calls when a UDP socket stays full for a second,
  // which a CPU-starved CI box running test files side by side can cause: functional tests run
  // without it. test/e2e/overload.test.ts and ops.test.ts run it with its default.
  if (!opts.overloadDefault && !extra.includes('--overload')) args.push('--overload', 'off');
  args.push(...extra);
  // Profiling a bench's proxy: KEMI_PROXY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (Node refuses --cpu-prof in NODE_OPTIONS).
  // The young-generation size `npm start` and the workers run with (src/ops/cluster.ts).
  const nodeArgs = withProxyFlags([...(process.env.KEMI_PROXY_NODE_ARGS ?? '').split(' ').filter(Boolean), ...(opts.nodeArgs ?? [])]);
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const handle: ProxyHandle = {
    pid: child.pid!,
    port,
    output: () => out,
    waitForOutput: (re, timeoutMs = 10_000) => waitFor(() => re.test(out), timeoutMs, () => `proxy output never matched ${re}:\n${out}`),
    stop: () => stopChild(child),
    exit: () => ({ code: child.exitCode, signal: child.signalCode }),
  };
  try {
    await waitFor(() => /kemi-proxy ready/.test(out) || child.exitCode !== null, 15_000, () => `proxy did not start:\n${out}`);
  } catch (e) {
    await handle.stop();
    throw e;
  }
  if (child.exitCode !== null) throw new Error(`proxy exited with ${child.exitCode}:\n${out}`);
  return handle;
}

export interface SippResult {
  code: number | null;
  successful: number;
  failed: number;
  output: string;
  /** Path of the -trace_msg file, if tracing was on. */
  msgFile?: string;
}

export interface SippOptions {
  scenario: string; // file name under test/e2e/scenarios, or sipp built-in via sn:uac
  port: number; // local port
  remote?: string; // host:port the R-URI names
  rsa?: string; // where to send (the proxy)
  transport?: 'u1' | 'un' | 't1' | 'tn';
  calls?: number;
  rate?: number;
  ratePeriodMs?: number;
  limit?: number;
  timeoutS?: number;
  service?: string;
  traceMsg?: boolean;
  extra?: string[];
  /** Local address SIPp binds (127.0.0.1 unless set; any 127.0.0.0/8 address works on loopback). */
  localIp?: string;
}

function sippArgs(o: SippOptions, dir: string): string[] {
  const args: string[] = [];
  if (o.remote) args.push(o.remote);
  if (o.scenario.startsWith('sn:')) args.push('-sn', o.scenario.slice(3));
  else args.push('-sf', join(SCENARIOS, o.scenario));
  args.push('-i', o.localIp ?? '127.0.0.1', '-p', String(o.port), '-nostdin', '-trace_stat', '-stf', join(dir, 'stat.csv'));
  args.push('-trace_err', '-error_file', join(dir, 'err.log'));
  if (o.traceMsg) args.push('-trace_msg', '-message_file', join(dir, 'msg.log'));
  // SIPp's own socket buffers default to 64 KiB (128 KiB in the kernel): a SIPp descheduled for a
  // few ms on a busy box drops datagrams there (seen as the UAS's "unexpected BYE": its ACK was
  // dropped), which would count against the proxy. 4 MiB, as the proxy's (capped by rmem_max).
  args.push('-t', o.transport ?? 'u1', '-max_socket', '100', '-buff_size', String(4 << 20));
  if (o.rsa) args.push('-rsa', o.rsa);
  if (o.calls !== undefined) args.push('-m', String(o.calls));
  if (o.rate !== undefined) args.push('-r', String(o.rate));
  if (o.ratePeriodMs !== undefined) args.push('-rp', String(o.ratePeriodMs));
  if (o.limit !== undefined) args.push('-l', String(o.limit));
  if (o.service) args.push('-s', o.service);
  args.push('-timeout', `${o.timeoutS ?? 60}s`, '-timeout_error');
  args.push(...(o.extra ?? []));
  return args;
}

export interface SippHandle {
  readonly pid: number;
  readonly dir: string;
  done: Promise<SippResult>;
  stop(): Promise<void>;
}

/** Starts SIPp; `done` resolves when it exits (by itself, at -m calls or -timeout). */
export function startSipp(o: SippOptions): SippHandle {
  const dir = tempDir('kemi-sipp-');
  const child = spawn('sipp', sippArgs(o, dir), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<SippResult>((res) => {
    child.once('exit', (code) => {
      const stats = readSippStats(join(dir, 'stat.csv'));
      let err = '';
      try {
        err = readFileSync(join(dir, 'err.log'), 'utf8');
      } catch {
        /* no errors logged */
      }
      res({ code, ...stats, output: out + (err ? `\n--- sipp errors ---\n${err.slice(0, 4000)}` : ''), msgFile: o.traceMsg ? join(dir, 'msg.log') : undefined });
    });
  });
  return { pid: child.pid!, dir, done, stop: () => stopChild(child) };
}

/** Runs a SIPp client to completion. */
export async function runSipp(o: SippOptions): Promise<SippResult> {
  const h = startSipp(o);
  return h.done;
}

/** Last line of SIPp's -trace_stat CSV: cumulative successful and failed calls. */
export function readSippStats(file: string): { successful: number; failed: number } {
  if (!existsSync(file)) return { successful: 0, failed: 0 };
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  if (lines.length < 2) return { successful: 0, failed: 0 };
  const head = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const col = (name: string): number => {
    const i = head.indexOf(name);
    return i >= 0 ? Number(last[i]) : 0;
  };
  return { successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)') };
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(what());
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** SIGTERM, then SIGKILL after 3 s; resolves when the process is gone. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await gone;
  clearTimeout(timer);
}

/**
 * Lua for a relay script's new call: record-routes it and sets its target, SIPp's UAS on
 * 127.0.0.1:`uasPort` for user "sipp", else the callee's registered contact; 404 (and return)
 * when it has none. The caller relays after it.
 */
export function luaCallTarget(uasPort: number): string {
  return `KSR.rr.record_route()
  if KSR.pv.get("$rU") == "sipp" then
    KSR.setdsturi("sip:127.0.0.1:${uasPort}")
  elseif KSR.registrar.lookup("location") < 0 then
    KSR.sl.sl_send_reply(404, "Not Found")
    return 1
  end`;
}

/** Writes a Lua script into a temp dir and returns its path. */
export function writeScript(text: string, dir = tempDir('kemi-script-'), name = 'route.lua'): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

export function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
