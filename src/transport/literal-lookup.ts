/**
 * The `lookup` our UDP sockets give dgram. dgram resolves the destination of every send, an IP
 * literal included, through dns.lookup, which answers a literal on the next tick: a closure, a
 * nextTick and two regular-expression tests per datagram. Our send targets are resolved before
 * they reach the socket, so an IPv4 literal (as the URI parser reads one: four decimal parts of
 * 0-255 without leading zeros, which inet_pton also takes) or an IPv6 literal is answered here at
 * once, and dgram sends in the same call; anything else goes to dns.lookup as before, so the
 * datagrams, their order and the errors for a bad address stay as they were.
 */
import type { SocketOptions } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIPv6 } from 'node:net';
import { isIPv4 } from '../sip/uri.js';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;
/** dgram calls its lookup with the socket's family (4 or 6) where dns.lookup takes options. */
type Resolver = (hostname: string, family: number | LookupOneOptions, callback: LookupCallback) => void;

/** A lookup for dgram's `createSocket({ lookup })`; `resolve` is dns.lookup but for tests. */
export function literalLookup(resolve: Resolver = dnsLookup as Resolver): Resolver {
  return (address, family, callback) => {
    if (isIPv4(address)) callback(null, address, 4);
    else if (address.includes(':') && isIPv6(address)) callback(null, address, 6);
    else resolve(address, family, callback);
  };
}

/** The one our sockets share (the listen sockets and the workers' hand-over socket). */
export const sendLookup = literalLookup() as NonNullable<SocketOptions['lookup']>;
