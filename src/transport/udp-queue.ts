/**
 * How full the kernel's receive buffers of our UDP sockets are, on Linux: /proc/net/udp{,6} gives
 * each socket's queued bytes (rx_queue: the kernel's sk_rmem_alloc, which it checks against the
 * buffer size, the value getRecvBufferSize() returns) and its drops. The overload guard reads it
 * when the socket has not been drained for a while, to tell a queue about to overflow (shed now)
 * from a slow one (wait). Node has no getsockopt(SO_MEMINFO), so /proc it is.
 *
 * Several sockets can share a port (the workers' SO_REUSEPORT sockets): ours are told apart by
 * inode, found once among our own file descriptors (/proc/self/fd), not by the deprecated
 * dgram `_handle.fd`.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface UdpQueueSocket {
  readonly port: number;
  readonly family: 4 | 6;
  /** The receive buffer's size in bytes as the kernel counts it (dgram getRecvBufferSize()). */
  readonly bufferBytes: number;
}

/** A receive buffer's queued bytes (the kernel's count: each datagram's payload and overhead) and their share of its size. */
export interface UdpQueueReading {
  readonly fullness: number;
  readonly bytes: number;
}

export interface UdpQueueLine {
  readonly family: 4 | 6;
  readonly port: number;
  readonly inode: number;
  /** Bytes queued (rx_queue). */
  readonly queued: number;
  readonly drops: number;
}

/** A probe read that takes longer than this (ms; a host with many UDP sockets) turns the probe off. */
const MAX_READ_MS = 20;

/** The socket lines of /proc/net/udp (family 4) or udp6 whose local port is one of `ports`. */
export function parseProcUdp(text: string, family: 4 | 6, ports: ReadonlySet<number>): UdpQueueLine[] {
  const out: UdpQueueLine[] = [];
  let at = text.indexOf('\n') + 1; // the header line
  while (at > 0 && at < text.length) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const f = text.slice(at, end).trim().split(/\s+/);
    at = end + 1;
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
    if (f.length < 13) continue;
    const local = f[1]!;
    const port = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (!ports.has(port)) continue;
    const queues = f[4]!;
    out.push({ family, port, inode: Number(f[9]), queued: parseInt(queues.slice(queues.indexOf(':') + 1), 16), drops: Number(f[12]) });
  }
  return out;
}

/** The lines of /proc/net/udp (family 4) or udp6 at `ports`, read now; throws where the file cannot be read. */
export function readProcUdp(family: 4 | 6, ports: ReadonlySet<number>): UdpQueueLine[] {
  return parseProcUdp(readFileSync(family === 4 ? '/proc/net/udp' : '/proc/net/udp6', 'latin1'), family, ports);
}

/** The inodes of the sockets this process holds (socket:[N] links in /proc/self/fd). */
function ownSocketInodes(): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let link: string;
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed since the listing
    }
    if (link.startsWith('socket:[')) inodes.add(Number(link.slice(8, -1)));
  }
  return inodes;
}

export class UdpQueueProbe {
  /** Our sockets' inodes, with the buffer size of each; found on the first read. */
  private inodes: Map<number, number> | undefined;
  private off = process.platform !== 'linux';

  constructor(private readonly sockets: () => readonly UdpQueueSocket[]) {}

  /** Forgets the sockets found (after a listen or close). */
  reset(): void {
    this.inodes = undefined;
  }

  /**
   * The fullest of our UDP receive buffers: its queued bytes as the kernel counts them and their
   * share of its size (0..1, may pass 1 a little); undefined where the kernel does not tell (not
   * Linux, no /proc, or a read too slow).
   */
  fullest(): UdpQueueReading | undefined {
    if (this.off) return undefined;
    const socks = this.sockets();
    if (socks.length === 0) return undefined;
    const started = performance.now();
    let lines: UdpQueueLine[];
    try {
      lines = this.read(socks);
    } catch {
      this.off = true;
      return undefined;
    }
    if (performance.now() - started > MAX_READ_MS) this.off = true;
    // Found again while none is (a socket bound since, or a read racing the bind).
    if (!this.inodes || this.inodes.size === 0) this.inodes = this.findOwn(socks, lines);
    const inodes = this.inodes;
    let worst: UdpQueueReading | undefined;
    for (const l of lines) {
      const size = inodes.get(l.inode);
      if (size === undefined || size <= 0) continue;
      if (!worst || l.queued / size > worst.fullness) worst = { fullness: l.queued / size, bytes: l.queued };
    }
    return worst;
  }

  private read(socks: readonly UdpQueueSocket[]): UdpQueueLine[] {
    const lines: UdpQueueLine[] = [];
    for (const family of [4, 6] as const) {
      const ports = new Set(socks.filter((s) => s.family === family).map((s) => s.port));
      if (ports.size === 0) continue;
      lines.push(...readProcUdp(family, ports));
    }
    return lines;
  }

  /** Which of the lines at our ports are our sockets: all of them unless a port has several. */
  private findOwn(socks: readonly UdpQueueSocket[], lines: readonly UdpQueueLine[]): Map<number, number> {
    const perPort = new Map<number, number>();
    for (const l of lines) perPort.set(l.family * 65536 + l.port, (perPort.get(l.family * 65536 + l.port) ?? 0) + 1);
    const shared = [...perPort.values()].some((n) => n > 1);
    const own = shared ? ownSocketInodes() : undefined;
    const out = new Map<number, number>();
    for (const l of lines) {
      if (own && !own.has(l.inode)) continue;
      const s = socks.find((x) => x.port === l.port && x.family === l.family);
      if (s) out.set(l.inode, s.bufferBytes);
    }
    return out;
  }
}
