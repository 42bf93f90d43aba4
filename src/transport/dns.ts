/**
 * Locating SIP servers (RFC 3263): IP literals need no DNS (and resolve synchronously, the hot
 * path); a name with a port goes to A/AAAA; a name without one goes NAPTR -> SRV -> A/AAAA.
 * Answers are cached by their TTL. `localhost` and /etc/hosts names fall back to dns.lookup.
 */
import { promises as dnsp, lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { protoNamed, type Proto } from './types.js';
import { Interner } from '../lib/interner.js';
import { parseUri } from '../sip/index.js';

/**
 * The name a TLS server's certificate must carry for a request sent to this URI (RFC 5922 7.2):
 * its host when that is a domain name; undefined for an IP literal (checked against the address)
 * or a URI that does not parse.
 */
export function tlsServerName(uri: string): string | undefined {
  let host: string;
  try {
    host = parseUri(uri).host;
  } catch {
    return undefined;
  }
  const h = host.startsWith('[') ? host.slice(1, -1) : host;
  return h !== '' && isIP(h) === 0 ? h.toLowerCase() : undefined;
}

export interface Target {
  proto: Proto;
  address: string;
  port: number;
}

export interface ResolveRequest {
  host: string;
  port?: number;
  /** The URI's transport parameter. */
  transport?: string;
  /** sips: URI. */
  secure?: boolean;
}

/** The subset of node:dns the resolver uses (injectable for tests). */
export interface DnsBackend {
  resolve4(host: string, opts: { ttl: true }): Promise<{ address: string; ttl: number }[]>;
  resolve6(host: string, opts: { ttl: true }): Promise<{ address: string; ttl: number }[]>;
  resolveSrv(name: string): Promise<{ name: string; port: number; priority: number; weight: number }[]>;
  resolveNaptr(name: string): Promise<{ flags: string; service: string; regexp: string; replacement: string; order: number; preference: number }[]>;
  lookup(host: string): Promise<{ address: string; family: number }[]>;
}

const nodeBackend: DnsBackend = {
  resolve4: (h, o) => dnsp.resolve4(h, o),
  resolve6: (h, o) => dnsp.resolve6(h, o),
  resolveSrv: (n) => dnsp.resolveSrv(n),
  resolveNaptr: (n) => dnsp.resolveNaptr(n),
  lookup: (h) =>
    new Promise((res, rej) => dnsLookup(h, { all: true }, (e, addrs) => (e ? rej(e) : res(addrs)))),
};

const NAPTR_SERVICES: Record<string, Proto> = { 'SIP+D2U': 'udp', 'SIP+D2T': 'tcp', 'SIPS+D2T': 'tls', 'SIP+D2S': 'sctp', 'SIP+D2W': 'ws', 'SIPS+D2W': 'wss' };
const SRV_PREFIX: Partial<Record<Proto, string>> = { udp: '_sip._udp.', tcp: '_sip._tcp.', tls: '_sips._tcp.' };
/** Names and SRV/NAPTR answers are cached at least this long (ms). */
const MIN_TTL_MS = 60_000;

interface CacheEntry {
  targets: Target[];
  expires: number;
}

export class SipResolver {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(private readonly dns: DnsBackend = nodeBackend) {}

  /** One string per IP address: a branch keeps its target address for its transaction's life. */
  private readonly ipStrings = new Interner(4096);

  resolve(r: ResolveRequest): Target[] | Promise<Target[]> {
    const host = r.host.startsWith('[') ? r.host.slice(1, -1) : r.host;
    const proto = protoFor(r);
    if (isIP(host)) return [{ proto: proto ?? (r.secure ? 'tls' : 'udp'), address: this.ipStrings.intern(host), port: r.port ?? defaultPort(proto, r.secure) }];
    const k = `${host}|${r.port ?? ''}|${proto ?? ''}|${r.secure ? 's' : ''}`;
    const hit = this.cache.get(k);
    if (hit && hit.expires > Date.now()) return hit.targets;
    return this.lookupName(host, r, proto).then((res) => {
      this.cache.set(k, { targets: res.targets, expires: Date.now() + Math.max(res.ttlMs, MIN_TTL_MS) });
      return res.targets;
    });
  }

  private async lookupName(host: string, r: ResolveRequest, proto: Proto | undefined): Promise<{ targets: Target[]; ttlMs: number }> {
    if (r.port !== undefined) {
      const p = proto ?? (r.secure ? 'tls' : 'udp');
      const a = await this.addresses(host);
      return { targets: a.addrs.map((address) => ({ proto: p, address, port: r.port! })), ttlMs: a.ttlMs };
    }
    // NAPTR picks the transport when the URI does not (RFC 3263 4.1).
    let protos: Proto[] = proto ? [proto] : [];
    if (!proto) {
      try {
        const naptr = (await this.dns.resolveNaptr(host)).filter((n) => NAPTR_SERVICES[n.service.toUpperCase()] && n.flags.toLowerCase() === 's');
        naptr.sort((a, b) => a.order - b.order || a.preference - b.preference);
        for (const n of naptr) {
          const p = NAPTR_SERVICES[n.service.toUpperCase()]!;
          if (r.secure && p !== 'tls' && p !== 'wss') continue;
          const srv = await this.srvTargets(n.replacement, p);
          if (srv.length > 0) return { targets: srv, ttlMs: MIN_TTL_MS };
        }
      } catch {
        /* no NAPTR: fall through to SRV */
      }
      protos = r.secure ? ['tls'] : ['udp', 'tcp'];
    }
    for (const p of protos) {
      const prefix = SRV_PREFIX[p];
      if (!prefix) continue;
      const srv = await this.srvTargets(prefix + host, p);
      if (srv.length > 0) return { targets: srv, ttlMs: MIN_TTL_MS };
    }
    const p = proto ?? (r.secure ? 'tls' : 'udp');
    const a = await this.addresses(host);
    return { targets: a.addrs.map((address) => ({ proto: p, address, port: defaultPort(p, r.secure) })), ttlMs: a.ttlMs };
  }

  private async srvTargets(name: string, proto: Proto): Promise<Target[]> {
    let srv;
    try {
      srv = await this.dns.resolveSrv(name);
    } catch {
      return [];
    }
    // Priority order; within a priority, higher weight first (a deterministic stand-in for RFC 2782's draw).
    srv.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
    const out: Target[] = [];
    for (const s of srv) {
      try {
        const a = await this.addresses(s.name);
        for (const address of a.addrs) out.push({ proto, address, port: s.port });
      } catch {
        /* an unresolvable SRV target is skipped */
      }
    }
    return out;
  }

  private async addresses(host: string): Promise<{ addrs: string[]; ttlMs: number }> {
    const [v4, v6] = await Promise.all([
      this.dns.resolve4(host, { ttl: true }).catch(() => []),
      this.dns.resolve6(host, { ttl: true }).catch(() => []),
    ]);
    const all = [...v4, ...v6];
    if (all.length > 0) return { addrs: all.map((x) => x.address), ttlMs: Math.min(...all.map((x) => x.ttl)) * 1000 };
    const l = await this.dns.lookup(host);
    if (l.length === 0) throw new Error(`cannot resolve ${host}`);
    return { addrs: l.map((x) => x.address), ttlMs: MIN_TTL_MS };
  }
}

function protoFor(r: ResolveRequest): Proto | undefined {
  // The constant name: a lower-cased transport parameter would be a new string each time.
  const t = r.transport === undefined ? undefined : protoNamed(r.transport);
  return t ?? (r.secure ? 'tls' : undefined);
}

function defaultPort(proto: Proto | undefined, secure: boolean | undefined): number {
  return secure || proto === 'tls' || proto === 'wss' ? 5061 : 5060;
}
