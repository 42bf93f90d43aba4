/**
 * Datagrams the kernel dropped at the UDP sockets bound to a port (Linux: the drops column of
 * /proc/net/udp and udp6, as this process's network namespace sees them). A benchmark step reads
 * it before and after, for the proxy's port (every worker's socket on it) and the SIPp UAS's: a
 * call that fails at the UAS after the proxy admitted it lost an ACK or BYE somewhere, and this
 * tells whose socket overflowed.
 */
import { readProcUdp } from '../src/transport/udp-queue.js';

/** The drops so far at `port`'s UDP sockets; NaN where /proc/net/udp cannot be read (not Linux). */
export function udpDrops(port: number): number {
  const ports = new Set([port]);
  let read = false;
  let drops = 0;
  for (const family of [4, 6] as const) {
    let lines;
    try {
      lines = readProcUdp(family, ports);
    } catch {
      continue; // udp6 is absent where IPv6 is off
    }
    read = true;
    for (const line of lines) drops += line.drops;
  }
  return read ? drops : NaN;
}
