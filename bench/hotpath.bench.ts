/**
 * The proxy's own CPU per call, without sockets (not a test): SIPp's uac.xml/uas.xml call
 * (INVITE, 180, 200, ACK, BYE, 200) through a real KemiProxy running routes/route.lua, messages
 * handed to onMessage and sends captured, tm's timers on a manual clock moved 1000/rate ms per
 * call. It measures what the proxy's code costs (parse, script, tm, serialise), apart from the
 * kernel's UDP path and from what other processes do to wall-clock figures on a shared machine.
 *
 *   npx tsc -p . && node dist/bench/hotpath.bench.js [--calls 20000] [--rate 1000] [--script routes/route.lua] [--shed]
 *
 * `--shed`: the measured calls are refused by the overload guard instead (INVITE answered 503, the
 * UAC's ACK to it), what each call costs the proxy while it sheds load.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeHeapSnapshot } from 'node:v8';
import { PerformanceObserver, constants as perf } from 'node:perf_hooks';
import { KemiProxy, type CoreConfig } from '../src/core/proxy.js';
import type { CoreTransports, CoreTransportStats } from '../src/core/transports.js';
import type { ReceiveInfo } from '../src/context/msg-context.js';
import { Logger } from '../src/lib/log.js';
import { MemoryStore } from '../src/state/memory-store.js';
import { DEFAULT_MODULES } from '../src/ops/config.js';
import { selectModules } from '../src/app/modules.js';
import { KEMI_CATALOG } from '../kemi/catalog.js';
import { SipMessage } from '../src/sip/index.js';
import { ManualClock } from '../src/testing/clock.js';
import { socketId, type ListenSocket, type ListenSpec, type SendTarget } from '../src/transport/types.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '5000' },
    rate: { type: 'string', default: '1000' },
    script: { type: 'string', default: 'routes/route.lua' },
    shed: { type: 'boolean', default: false },
    /** Writes a heap snapshot after the measured calls, while the last wait_timer of them are live. */
    'heap-snapshot': { type: 'string' },
  },
});

/** Keeps only what was sent since the last take(). */
class LastSends implements CoreTransports {
  readonly stats: CoreTransportStats = { framingErrors: 0, sendErrors: 0, connectionsOpen: 0 } as CoreTransportStats;
  private out: { target: SendTarget; data: Buffer }[] = [];
  private listening: ListenSocket[] = [];
  async listen(specs: readonly ListenSpec[]): Promise<void> {
    this.listening = specs.map((s) => ({ proto: s.proto, address: s.address, port: s.port, family: 4, id: socketId(s.proto, s.address, s.port) }));
  }
  sockets(): readonly ListenSocket[] {
    return this.listening;
  }
  send(target: SendTarget, data: Buffer): boolean {
    this.out.push({ target, data });
    return true;
  }
  take(): { target: SendTarget; data: Buffer }[] {
    const o = this.out;
    this.out = [];
    return o;
  }
  connInfo(): undefined {
    return undefined;
  }
  closeWebSocket(): boolean {
    return false;
  }
  reloadCertificates(): boolean {
    return false;
  }
  async close(): Promise<void> {}
}

const PROXY = { address: '127.0.0.1', port: 5060 };
const UAC = { address: '127.0.0.1', port: 5061 };
const UAS = { address: '127.0.0.1', port: 5070 };
/** The R-URI of every call's requests, as uac.xml sends them. */
const BOB = `sip:bob@${UAS.address}:${UAS.port};transport=UDP`;
const SDP = 'v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

function rcvFrom(src: { address: string; port: number }): ReceiveInfo {
  return { proto: 'udp', srcAddress: src.address, srcPort: src.port, localAddress: PROXY.address, localPort: PROXY.port, family: 4 };
}

function header(m: SipMessage, name: string): string[] {
  return m.headers(name);
}

/** The UAS's reply to a relayed request, as uas.xml builds it. */
function uasReply(req: SipMessage, code: number, reason: string, n: number, body = ''): Buffer {
  let h = `SIP/2.0 ${code} ${reason}\r\n`;
  for (const v of header(req, 'via')) h += `Via: ${v}\r\n`;
  for (const v of header(req, 'record-route')) h += `Record-Route: ${v}\r\n`;
  h += `From: ${req.header('from')}\r\nTo: ${req.header('to')}${req.to.tag ? '' : `;tag=uas${n}`}\r\nCall-ID: ${req.callId}\r\nCSeq: ${req.header('cseq')}\r\n`;
  h += `Contact: <sip:bob@${UAS.address}:${UAS.port};transport=UDP>\r\n`;
  if (body) h += 'Content-Type: application/sdp\r\n';
  return Buffer.from(`${h}Content-Length: ${body.length}\r\n\r\n${body}`, 'latin1');
}

function uacRequest(method: string, n: number, cseq: number, ruri: string, routes: string[], toTag: string, branchN: number): Buffer {
  const body = method === 'INVITE' ? SDP : '';
  let h = `${method} ${ruri} SIP/2.0\r\nVia: SIP/2.0/UDP ${UAC.address}:${UAC.port};branch=z9hG4bK-bench-${n}-${branchN}\r\n`;
  for (const r of routes) h += `Route: ${r}\r\n`;
  h += `From: alice <sip:alice@kemi.test>;tag=uac${n}\r\nTo: bob <sip:bob@${UAS.address}:${UAS.port}>${toTag ? `;tag=${toTag}` : ''}\r\n`;
  h += `Call-ID: ${n}-bench@127.0.0.1\r\nCSeq: ${cseq} ${method}\r\n`;
  if (method === 'INVITE') h += `Contact: sip:alice@${UAC.address}:${UAC.port};transport=UDP\r\nSubject: Performance Test\r\nContent-Type: application/sdp\r\n`;
  h += 'Max-Forwards: 70\r\n';
  return Buffer.from(`${h}Content-Length: ${body.length}\r\n\r\n${body}`, 'latin1');
}

async function main(): Promise<void> {
  const cfg: CoreConfig = {
    listen: [`udp:${PROXY.address}:${PROXY.port}`],
    script: resolve(values.script!),
    modules: [...DEFAULT_MODULES],
    aliases: ['kemi.test'],
    modparams: {},
    defines: {},
    watch: false,
    serverHeader: 'kemi-proxy',
    overloadBacklogMs: 0,
  };
  const transports = new LastSends();
  const clock = new ManualClock();
  const proxy = new KemiProxy(cfg, {
    logger: new Logger('warn'), state: new MemoryStore(), modules: await selectModules(cfg.modules), catalog: KEMI_CATALOG, transports, clock,
  });
  await proxy.start();
  const step = 1000 / Number(values.rate);
  let n = 0;
  let failed = 0;
  const relayed = (method: string, to: { port: number }): SipMessage | undefined => {
    for (const s of transports.take()) {
      if (s.target.port !== to.port) continue;
      const m = SipMessage.parse(s.data);
      if (m.isRequest ? m.method === method : m.status === 200 && m.cseq.method === method) return m;
    }
    return undefined;
  };
  const call = async (): Promise<void> => {
    n++;
    proxy.onMessage(uacRequest('INVITE', n, 1, BOB, [], '', 1), rcvFrom(UAC));
    const inv = relayed('INVITE', UAS);
    if (!inv) return void failed++;
    proxy.onMessage(uasReply(inv, 180, 'Ringing', n), rcvFrom(UAS));
    transports.take();
    proxy.onMessage(uasReply(inv, 200, 'OK', n, SDP), rcvFrom(UAS));
    const ok = relayed('INVITE', UAC);
    if (!ok) return void failed++;
    const routes = ok.headers('record-route').reverse();
    proxy.onMessage(uacRequest('ACK', n, 1, BOB, routes, `uas${n}`, 2), rcvFrom(UAC));
    transports.take();
    proxy.onMessage(uacRequest('BYE', n, 2, BOB, routes, `uas${n}`, 3), rcvFrom(UAC));
    const bye = relayed('BYE', UAS);
    if (!bye) return void failed++;
    proxy.onMessage(uasReply(bye, 200, 'OK', n), rcvFrom(UAS));
    if (!relayed('BYE', UAC)) failed++;
    await clock.advance(step);
  };
  /** A call the guard refuses: INVITE, our 503, the UAC's ACK to it (same branch, our To tag). */
  const refused = async (): Promise<void> => {
    n++;
    proxy.onMessage(uacRequest('INVITE', n, 1, BOB, [], '', 1), rcvFrom(UAC));
    const sent = transports.take();
    const r = sent.length === 1 ? SipMessage.parse(sent[0]!.data) : undefined;
    if (r?.status !== 503) return void failed++;
    proxy.onMessage(uacRequest('ACK', n, 1, BOB, [], r.to.tag ?? '', 1), rcvFrom(UAC));
    if (transports.take().length !== 0) failed++;
    await clock.advance(step);
  };
  const warm = Number(values.warmup);
  for (let i = 0; i < warm; i++) await call();
  const measured = values.shed ? refused : call;
  if (values.shed) {
    // Refuse every new dialog from here on (the guard's controller does not run: overloadBacklogMs 0).
    proxy.overload.admitted = 0;
    for (let i = 0; i < warm; i++) await refused();
  }
  const calls = Number(values.calls);
  failed = 0;
  // Young-generation (scavenge) pauses of the measured calls: their length is what a message
  // arriving during one waits.
  const scavenges: number[] = [];
  const gcObs = new PerformanceObserver((l) => {
    for (const e of l.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) if (e.detail?.kind === perf.NODE_PERFORMANCE_GC_MINOR) scavenges.push(e.duration);
  });
  gcObs.observe({ entryTypes: ['gc'] });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await measured();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const heap = process.memoryUsage().heapUsed;
  console.log(`${calls} ${values.shed ? 'refused ' : ''}calls (${failed} failed) through ${values.script}: ${(((c.user + c.system) / 1000 / calls) * 1000).toFixed(1)} µs CPU per call ` +
    `(${((c.user + c.system) / 1000 / calls).toFixed(3)} CPU s/1000 calls; user ${(c.user / 1e6).toFixed(2)} s, sys ${(c.system / 1e6).toFixed(2)} s, wall ${(wall / 1000).toFixed(2)} s), heap used ${(heap / 1048576).toFixed(0)} MB`);
  console.log('(includes building and parsing the UAC/UAS side of each call in this process)');
  await new Promise((r) => setTimeout(r, 100));
  gcObs.disconnect();
  scavenges.sort((a, b) => a - b);
  const sum = scavenges.reduce((a, b) => a + b, 0);
  console.log(`scavenges: ${scavenges.length}, ${sum.toFixed(0)} ms in all (${((sum / calls) * 1000).toFixed(1)} µs per call), ` +
    `p50 ${(scavenges[Math.floor(scavenges.length / 2)] ?? 0).toFixed(1)} ms, max ${(scavenges.at(-1) ?? 0).toFixed(1)} ms`);
  if (values['heap-snapshot']) console.log(`heap snapshot: ${writeHeapSnapshot(values['heap-snapshot'])}`);
  await proxy.stop();
}

void main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
