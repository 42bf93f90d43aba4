/**
 * The `lookup` our UDP sockets give dgram. dgram resolves the destination of every send, an IP
 * literal included, through dns.lookup, which answers a literal on the next tick: a closure, a
 * nextTick and two regular-expression tests per datagram. Our send targets are resolved before
 * they reach the socket, so a dotted-quad IPv4 or an IPv6 literal is answered here at once (dgram
 * then sends in the same call); anything else goes to dns.lookup as before, so the datagrams, their
 * order and the errors for a bad address stay as they were.
 */
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIPv6 } from 'node:net';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;
/** dgram calls its lookup with the socket's family (4 or 6) where dns.lookup takes options. */
type Resolver = (hostname: string, family: number | LookupOneOptions, callback: LookupCallback) => void;

/** Four decimal parts of 0-255 without leading zeros, as inet_pton (libuv) reads an IPv4 address. */
export function isDottedQuad(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 46; /* . */
    if (c === 46) {
      if (digits === 0 || value > 255) return false;
      parts++;
      value = 0;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57) return false;
    if (digits === 1 && value === 0) return false; // a leading zero
    value = value * 10 + (c - 48);
    digits++;
  }
  return parts === 4;
}

/** A lookup for dgram's `createSocket({ lookup })`; `resolve` is dns.lookup but for tests. */
export function literalLookup(resolve: Resolver = dnsLookup as Resolver): Resolver {
  return (address, family, callback) => {
    if (isDottedQuad(address)) callback(null, address, 4);
    else if (address.includes(':') && isIPv6(address)) callback(null, address, 6);
    else resolve(address, family, callback);
  };
}
