/**
 * Fuzz runner (issue 17): mutated SIP messages over UDP and TCP into a kemi-proxy it starts.
 * Sources are valid messages (INVITE with SDP, REGISTER, OPTIONS, in-dialog BYE/ACK, replies)
 * and the RFC 4475/5118 torture messages; each message is 0-3 rounds of byte-level and SIP-aware
 * mutations. Message i depends only on (seed, i), so a run replays exactly with the same --seed,
 * and --dump i prints one message. Every 10,000 messages an OPTIONS over UDP and one over a new
 * TCP connection must each get their answer (liveness). At the end: crashes (the proxy process
 * exiting; 0 expected), liveness failures, the proxy's counters, RSS and heap before and after,
 * and its error log lines grouped.
 *
 *   npm run build && node dist/bench/fuzz.js [--count 1000000] [--seed 1] [--tcp-share 0.02]
 *        [--rate 10000] [--script routes/route.lua] [--workers 1] [--dump N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, REPO, tempDir, waitFor } from '../test/e2e/harness.js';
import { metric, mib, rssMiB, scrape, type Scrape } from './soak-metrics.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    'tcp-share': { type: 'string', default: '0.02' },
    rate: { type: 'string', default: '10000' },
    script: { type: 'string', default: 'routes/route.lua' },
    workers: { type: 'string', default: '1' },
    dump: { type: 'string' },
  },
});
const COUNT = Number(values.count);
const SEED = Number(values.seed) >>> 0;
const TCP_SHARE = Number(values['tcp-share']);
const RATE = Number(values.rate);
const LIVENESS_EVERY = 10_000;
const WINDOW = 25;

// ---- message generation: pure functions of (seed, i) -------------------------------------------

/** mulberry32: small, seeded, reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Valid messages aimed at the proxy (our domain kemi.test, relays to the sink port). */
function validSources(proxyPort: number, sinkPort: number): Buffer[] {
  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
  const common = (method: string, ruri: string, extra: string, body = ''): string =>
    `${method} ${ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${sinkPort};branch=z9hG4bKfz1;rport\r\nMax-Forwards: 70\r\n` +
    `From: "Alice" <sip:alice@kemi.test>;tag=fz1\r\nTo: <sip:bob@kemi.test>${method === 'INVITE' || method === 'REGISTER' || method === 'OPTIONS' ? '' : ';tag=b2'}\r\n` +
    `Call-ID: fuzz-1@kemi.test\r\nCSeq: 1 ${method}\r\nContact: <sip:alice@127.0.0.1:${sinkPort};transport=udp>\r\n${extra}` +
    `${body ? 'Content-Type: application/sdp\r\n' : ''}Content-Length: ${body.length}\r\n\r\n${body}`;
  return [
    common('INVITE', `sip:bob@127.0.0.1:${sinkPort}`, 'Allow: INVITE, ACK, BYE, CANCEL\r\nSupported: timer\r\n', sdp),
    common('REGISTER', 'sip:kemi.test', 'Expires: 60\r\nAuthorization: Digest username="alice", realm="kemi.test", nonce="abc", uri="sip:kemi.test", response="0123456789abcdef0123456789abcdef"\r\n'),
    common('OPTIONS', `sip:127.0.0.1:${proxyPort}`, 'Accept: application/sdp\r\n'),
    common('BYE', `sip:bob@127.0.0.1:${sinkPort}`, `Route: <sip:127.0.0.1:${proxyPort};lr;ftag=fz1>\r\n`),
    common('ACK', `sip:bob@127.0.0.1:${sinkPort}`, `Route: <sip:127.0.0.1:${proxyPort};lr>\r\n`),
    common('MESSAGE', 'sip:bob@kemi.test', 'Subject: =?utf-8?q?hi?=\r\n', 'hello'),
    Buffer.from(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:${proxyPort};branch=z9hG4bKfz2, SIP/2.0/UDP 127.0.0.1:${sinkPort};branch=z9hG4bKfz1\r\n` +
      `Record-Route: <sip:127.0.0.1:${proxyPort};lr>\r\nFrom: <sip:alice@kemi.test>;tag=fz1\r\nTo: <sip:bob@kemi.test>;tag=b2\r\n` +
      `Call-ID: fuzz-1@kemi.test\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@127.0.0.1:${sinkPort}>\r\nContent-Length: 0\r\n\r\n`).toString('latin1'),
  ].map((s) => Buffer.from(s, 'latin1'));
}

function tortureSources(): Buffer[] {
  const dir = join(REPO, 'test/fixtures/sip-torture');
  return readdirSync(dir).filter((f) => f.endsWith('.sip')).sort().map((f) => readFileSync(join(dir, f)));
}

const SPECIAL = [13, 10, 0, 34, 60, 62, 44, 58, 59, 32, 9, 92, 0x25, 0x3d, 0xff, 0xc3];
const METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'X', '', 'INV ITE', 'SIP/2.0'];
const CL_VALUES = ['-1', '0', '1', '4294967296', '99999999999999999999', 'abc', ' ', '5 5', '0x10', '+3', '65536'];

/** The header block's line boundaries: [start, end) of each header line (after the start line). */
function headerLines(b: Buffer): [number, number][] {
  const end = b.indexOf('\r\n\r\n');
  const stop = end < 0 ? b.length : end + 2;
  const out: [number, number][] = [];
  let pos = b.indexOf('\r\n') + 2;
  while (pos > 1 && pos < stop) {
    const nl = b.indexOf('\r\n', pos);
    if (nl < 0 || nl >= stop) break;
    out.push([pos, nl + 2]);
    pos = nl + 2;
  }
  return out;
}

function mutate(src: Buffer, rnd: () => number): Buffer {
  const b = src;
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const at = Math.floor(rnd() * (b.length + 1));
  const lines = headerLines(b);
  switch (Math.floor(rnd() * 12)) {
    case 0: {
      const c = Buffer.from(b);
      if (c.length > 0) c[Math.min(at, c.length - 1)] = Math.floor(rnd() * 256);
      return c;
    }
    case 1:
      return b.subarray(0, at);
    case 2: {
      const len = Math.floor(rnd() * 60);
      return Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
    }
    case 3:
      return Buffer.concat([b.subarray(0, at), Buffer.from([pick(SPECIAL)]), b.subarray(at)]);
    case 4:
      return Buffer.concat([b.subarray(0, at), b.subarray(at + Math.floor(rnd() * 30))]);
    case 5: {
      // Duplicate a header line (Content-Length, Via, From twice...).
      if (lines.length === 0) return b;
      const [s, e] = pick(lines);
      return Buffer.concat([b.subarray(0, e), b.subarray(s, e), b.subarray(e)]);
    }
    case 6: {
      if (lines.length === 0) return b;
      const [s, e] = pick(lines);
      return Buffer.concat([b.subarray(0, s), b.subarray(e)]);
    }
    case 7: {
      // A Content-Length that lies, or is not a number.
      const t = b.toString('latin1');
      const v = rnd() < 0.5 ? pick(CL_VALUES) : String(Math.floor(rnd() * 400) - 50);
      return Buffer.from(/\r\n(?:Content-Length|l)[ \t]*:/i.test(t) ? t.replace(/(\r\n(?:Content-Length|l)[ \t]*:[ \t]*)[^\r\n]*/i, `$1${v}`) : t.replace('\r\n\r\n', `\r\nContent-Length: ${v}\r\n\r\n`), 'latin1');
    }
    case 8: {
      // Another method on the request line.
      const sp = b.indexOf(' ');
      return sp < 0 ? b : Buffer.concat([Buffer.from(pick(METHODS), 'latin1'), b.subarray(sp)]);
    }
    case 9: {
      // A long run of one character (long tokens, deep nesting, huge headers).
      const len = Math.floor(rnd() ** 3 * 70_000);
      return Buffer.concat([b.subarray(0, at), Buffer.alloc(len, pick([0x41, 0x3c, 0x22, 0x3b, 0x2c, 0x25, 0x20, 0x0d])), b.subarray(at)]);
    }
    case 10:
      // Bare LF line ends, or CRs alone.
      return Buffer.from(b.toString('latin1').replace(rnd() < 0.5 ? /\r\n/g : /\n/g, rnd() < 0.5 ? '\n' : '\r'), 'latin1');
    default: {
      // Swap two header lines (Via order, To before the start line's neighbours...).
      if (lines.length < 2) return b;
      const [a1, a2] = pick(lines);
      const [b1, b2] = pick(lines);
      if (a1 === b1) return b;
      const [x, y] = a1 < b1 ? [[a1, a2], [b1, b2]] : [[b1, b2], [a1, a2]];
      return Buffer.concat([b.subarray(0, x[0]), b.subarray(y[0]!, y[1]), b.subarray(x[1], y[0]), b.subarray(x[0]!, x[1]), b.subarray(y[1])]);
    }
  }
}

interface Generated { data: Buffer; tcp: boolean; source: number; rounds: number }

function generate(i: number, sources: Buffer[]): Generated {
  const rnd = prng(Math.imul(SEED ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35));
  const tcp = rnd() < TCP_SHARE;
  const source = Math.floor(rnd() * sources.length);
  // One in ten goes unmutated (valid traffic mixed in); the rest get 1-3 rounds.
  const rounds = rnd() < 0.1 ? 0 : 1 + Math.floor(rnd() * 3);
  let data = sources[source]!;
  for (let r = 0; r < rounds; r++) data = mutate(data, rnd);
  return { data, tcp, source, rounds };
}

// ---- the proxy under test ---------------------------------------------------------------------

interface Proxy { child: ChildProcess; port: number; metrics: string; log: string; exit: { code: number | null; signal: string | null } | null }

async function startProxy(): Promise<Proxy> {
  const port = await freePort();
  const mport = await freePort();
  const dir = tempDir('kemi-fuzz-');
  const log = join(dir, 'proxy.log');
  const fd = openSync(log, 'w');
  const args = [join(REPO, 'dist/src/cli.js'), '--script', resolve(REPO, values.script!), '--no-watch', '--rpc', 'off', '--metrics', `127.0.0.1:${mport}`,
    '--listen', `udp:127.0.0.1:${port}`, '--listen', `tcp:127.0.0.1:${port}`, '--alias', 'kemi.test', '--log-level', 'err', '--workers', values.workers!];
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const p: Proxy = { child, port, metrics: `127.0.0.1:${mport}`, log, exit: null };
  child.once('exit', (code, signal) => (p.exit = { code, signal }));
  await waitFor(() => /kemi-proxy ready/.test(readFileSync(log, 'utf8')) || p.exit !== null, 15_000, () => `proxy did not start:\n${readFileSync(log, 'utf8')}`);
  if (p.exit) throw new Error(`proxy exited at start: ${readFileSync(log, 'utf8')}`);
  return p;
}

async function stopProxy(p: Proxy): Promise<void> {
  if (p.exit) return;
  const gone = new Promise<void>((r) => p.child.once('exit', () => r()));
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 3000);
  await gone;
  clearTimeout(t);
}

// ---- liveness ---------------------------------------------------------------------------------

let liveSeq = 0;
const keepalive = (port: number, proto: 'UDP' | 'TCP', lport: number): string => {
  const n = ++liveSeq;
  return `OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/${proto} 127.0.0.1:${lport};branch=z9hG4bKlive${n}x${SEED}\r\nMax-Forwards: 70\r\n` +
    `From: <sip:fuzz@kemi.test>;tag=l${n}\r\nTo: <sip:127.0.0.1:${port}>\r\nCall-ID: live-${n}-${SEED}@fuzz\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
};

/** An OPTIONS over UDP from a fresh socket: true when a 200 comes within 5 s (sent up to 5 times). */
async function udpAlive(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const msg = keepalive(port, 'UDP', s.address().port);
  return new Promise((resolveAlive) => {
    let tries = 0;
    const finish = (ok: boolean): void => {
      clearInterval(timer);
      s.close();
      resolveAlive(ok);
    };
    const send = (): void => {
      if (tries++ === 5) finish(false);
      else s.send(msg, port, '127.0.0.1');
    };
    const timer = setInterval(send, 1000);
    s.on('message', (m) => {
      if (m.toString('latin1').startsWith('SIP/2.0 200')) finish(true);
    });
    send();
  });
}

/** An OPTIONS over a new TCP connection: true when a 200 comes within 5 s. */
function tcpAlive(port: number): Promise<boolean> {
  return new Promise((resolveAlive) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolveAlive(ok);
    };
    const timer = setTimeout(() => finish(false), 5000);
    s.on('connect', () => s.write(keepalive(port, 'TCP', s.localPort ?? 0)));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.startsWith('SIP/2.0 200')) finish(true);
    });
    s.on('error', () => finish(false));
  });
}

/** An OPTIONS over UDP whose answer shows the proxy has read what was sent before it. */
class Barrier {
  sent = 0;
  private waiting: ((ok: boolean) => void) | null = null;
  private want = '';
  private constructor(private readonly s: Socket, private readonly port: number) {
    s.on('message', (m) => {
      const t = m.toString('latin1');
      if (this.waiting && t.startsWith('SIP/2.0 200') && t.includes(this.want)) {
        const w = this.waiting;
        this.waiting = null;
        w(true);
      }
    });
  }

  static async open(port: number): Promise<Barrier> {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return new Barrier(s, port);
  }

  pass(): Promise<boolean> {
    const msg = keepalive(this.port, 'UDP', this.s.address().port);
    this.want = /Call-ID: (\S+)/.exec(msg)![1]!;
    this.sent++;
    return new Promise((res) => {
      const t = setTimeout(() => {
        this.waiting = null;
        res(false);
      }, 1000);
      this.waiting = (ok) => {
        clearTimeout(t);
        res(ok);
      };
      this.s.send(msg, this.port, '127.0.0.1');
    });
  }

  close(): void {
    this.s.close();
  }
}

// ---- sending ----------------------------------------------------------------------------------

/**
 * TCP: each message on its own connection, closed after the write (a message that breaks framing
 * would otherwise take every later one on its connection with it). At most 200 open at a time.
 */
class TcpSender {
  open = 0;
  opened = 0;
  closedByPeer = 0;
  constructor(private readonly port: number) {}

  async send(data: Buffer): Promise<void> {
    while (this.open >= 200) await new Promise((r) => setTimeout(r, 1));
    this.open++;
    this.opened++;
    const s = connect(this.port, '127.0.0.1');
    let ended = false;
    s.on('error', () => s.destroy());
    s.on('data', () => undefined);
    s.on('end', () => {
      if (!ended) this.closedByPeer++;
      s.destroy();
    });
    s.once('close', () => this.open--);
    s.once('connect', () => {
      s.write(data);
      ended = true;
      s.end();
    });
  }

  async drain(): Promise<void> {
    for (let i = 0; i < 500 && this.open > 0; i++) await new Promise((r) => setTimeout(r, 10));
  }
}

/** UDP datagrams the kernel dropped for a full socket buffer, in this network namespace. */
function udpRcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const head = lines[0]!.split(/\s+/);
  return Number(lines[1]!.split(/\s+/)[head.indexOf('RcvbufErrors')]);
}

function logSummary(file: string): { lines: number; top: [string, number][] } {
  const groups = new Map<string, number>();
  let lines = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /\] (ERROR|ERR|CRIT|ALERT|WARN\w*): (.*)$/.exec(line) ?? (/^\s*at /.test(line) || !line ? null : /^()(.+)$/.exec(line));
    if (!m || /kemi-proxy ready|listening on|shutting down/.test(line)) continue;
    lines++;
    const key = m[2]!.replace(/\d+/g, 'N').replace(/Call-ID \S+/g, 'Call-ID X').slice(0, 120);
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return { lines, top: [...groups].sort((a, b) => b[1] - a[1]).slice(0, 8) };
}

async function main(): Promise<void> {
  const sink: Socket = createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  let sunk = 0;
  sink.on('message', () => sunk++);
  const sinkPort = sink.address().port;

  if (values.dump !== undefined) {
    const sources = [...validSources(5060, 5070), ...tortureSources()];
    const g = generate(Number(values.dump), sources);
    process.stdout.write(`# message ${values.dump} of seed ${SEED}: source ${g.source}, ${g.rounds} rounds, over ${g.tcp ? 'TCP' : 'UDP'} (ports 5060/5070 stand for the run's)\n`);
    process.stdout.write(g.data);
    sink.close();
    return;
  }

  const proxy = await startProxy();
  const sources = [...validSources(proxy.port, sinkPort), ...tortureSources()];
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  udp.on('message', () => undefined);
  let sendErrors = 0;
  const tcp = new TcpSender(proxy.port);

  if (!(await udpAlive(proxy.port))) throw new Error('the proxy does not answer OPTIONS before the run');
  const before: Scrape = await scrape(proxy.metrics);
  const rssBefore = rssMiB(proxy.child.pid!);
  console.log(`fuzz: seed ${SEED}, ${COUNT} messages (${Math.round(TCP_SHARE * 100)}% over TCP), ${sources.length} sources, at up to ${RATE}/s; proxy pid ${proxy.child.pid}, log ${proxy.log}`);
  console.log(`before: RSS ${rssBefore.toFixed(1)} MiB, heap used ${mib(metric(before, 'kemi_nodejs_heap_size_used_bytes'))} MiB`);

  const livenessFailures: string[] = [];
  const dropsBefore = udpRcvbufErrors();
  const barrier = await Barrier.open(proxy.port);
  let barrierTimeouts = 0;
  let sentUdp = 0;
  let sentTcp = 0;
  const t0 = Date.now();
  for (let i = 0; i < COUNT && !proxy.exit; i++) {
    const g = generate(i, sources);
    if (g.tcp) {
      await tcp.send(g.data);
      sentTcp++;
    } else if (g.data.length <= 65_000) {
      udp.send(g.data, proxy.port, '127.0.0.1', (e) => e && sendErrors++);
      sentUdp++;
    }
    // Pace to --rate, and keep at most WINDOW datagrams in flight: the proxy's socket buffer
    // (about 200 KiB) overflows otherwise and the kernel drops what the proxy never saw. The
    // barrier is an OPTIONS behind them on the same socket queue: its answer means the proxy has
    // read everything sent before it.
    if (sentUdp % WINDOW === 0 && !g.tcp) {
      const ahead = t0 + ((i + 1) / RATE) * 1000 - Date.now();
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
      if (!(await barrier.pass())) barrierTimeouts++;
    }
    if ((i + 1) % LIVENESS_EVERY === 0) {
      const [u, t] = await Promise.all([udpAlive(proxy.port), tcpAlive(proxy.port)]);
      if (!u || !t) livenessFailures.push(`after message ${i + 1}: ${u ? '' : 'UDP '}${t ? '' : 'TCP '}OPTIONS unanswered`);
      if ((i + 1) % 100_000 === 0) {
        console.log(`  ${i + 1} sent in ${((Date.now() - t0) / 1000).toFixed(0)} s, RSS ${rssMiB(proxy.child.pid!).toFixed(1)} MiB, liveness failures ${livenessFailures.length}`);
      }
      if (livenessFailures.length >= 5 && livenessFailures.slice(-3).every((f) => f.includes('UDP'))) {
        console.log('  five liveness failures, three in a row over UDP: the proxy hangs; stopping');
        break;
      }
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  await tcp.drain();
  await new Promise((r) => setTimeout(r, 2000));
  const crashed = proxy.exit !== null;
  const after = crashed ? new Map<string, number>() : await scrape(proxy.metrics);
  const rssAfter = rssMiB(proxy.child.pid!);
  const finalAlive = crashed ? false : (await udpAlive(proxy.port)) && (await tcpAlive(proxy.port));
  udp.close();
  barrier.close();
  sink.close();

  const d = (name: string): number => metric(after, name) - (metric(before, name) || 0);
  console.log(`sent: ${sentUdp} over UDP, ${sentTcp} over TCP (one connection each) in ${seconds.toFixed(0)} s; ${sendErrors} local send errors; ${sunk} messages relayed to the sink`);
  console.log(`barriers: ${barrier.sent} OPTIONS between batches of ${WINDOW}, ${barrierTimeouts} unanswered within 1 s`);
  console.log(`kernel: ${udpRcvbufErrors() - dropsBefore} datagrams dropped for a full receive buffer in this network namespace (/proc/net/snmp RcvbufErrors; other traffic there counts too)`);
  console.log(`crashes: ${crashed ? `1 (exit code ${proxy.exit!.code}, signal ${proxy.exit!.signal})` : 0}`);
  console.log(`liveness: ${COUNT / LIVENESS_EVERY} checks, ${livenessFailures.length} failed${livenessFailures.length ? `: ${livenessFailures.slice(0, 5).join('; ')}` : ''}; answering at the end: ${finalAlive}`);
  if (!crashed) {
    console.log(`proxy counters during the run: UDP datagrams ${d('kemi_transport_udp_received_total')}, TCP messages ${d('kemi_transport_tcp_received_total')}, ` +
      `parse errors ${d('kemi_sip_parse_errors_total')}, TCP framing errors ${d('kemi_transport_framing_errors_total')}, script runs ${d('kemi_script_runs_total')}, ` +
      `script errors ${d('kemi_script_errors_total')}, local replies ${d('kemi_sip_local_replies_total')}`);
    console.log(`after: RSS ${rssAfter.toFixed(1)} MiB, heap used ${mib(metric(after, 'kemi_nodejs_heap_size_used_bytes'))} MiB, transactions in memory ${metric(after, 'kemi_tm_transactions_active')}`);
  }
  const logs = logSummary(proxy.log);
  console.log(`proxy log: ${logs.lines} error lines${logs.top.length ? ', most frequent:' : ''}`);
  for (const [k, n] of logs.top) console.log(`  x${n}: ${k}`);
  await stopProxy(proxy);
  process.exitCode = crashed || livenessFailures.length > 0 || !finalAlive ? 1 : 0;
}

await main();
