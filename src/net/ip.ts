/** IP address helpers: private ranges (RFC 1918, RFC 6598, RFC 4193) and CIDR matching. */
import { isIP } from 'node:net';

function v4(ip: string): number | null {
  const p = ip.split('.');
  if (p.length !== 4) return null;
  let n = 0;
  for (const x of p) {
    const b = Number(x);
    if (!/^\d{1,3}$/.test(x) || b > 255) return null;
    n = n * 256 + b;
  }
  return n;
}

/** The address as a BigInt in its family's width, or null. */
export function ipBits(ip: string): { bits: bigint; family: 4 | 6 } | null {
  const a = ip.replace(/^\[|\]$/g, '');
  const f = isIP(a);
  if (f === 4) return { bits: BigInt(v4(a)!), family: 4 };
  if (f !== 6) return null;
  let [head, tail] = a.includes('::') ? a.split('::') as [string, string] : [a, null as unknown as string];
  let v4tail: string[] = [];
  const last = (tail ?? head).split(':').pop() ?? '';
  if (last.includes('.')) {
    const n = v4(last)!;
    v4tail = [(n >>> 16).toString(16), (n & 0xffff).toString(16)];
    if (tail !== null && tail !== undefined) tail = tail.split(':').slice(0, -1).concat(v4tail).join(':');
    else head = head.split(':').slice(0, -1).concat(v4tail).join(':');
  }
  const h = head ? head.split(':') : [];
  const t = tail !== null && tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === null || tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  let bits = 0n;
  for (const g of groups) bits = (bits << 16n) | BigInt(Number.parseInt(g || '0', 16));
  return { bits, family: 6 };
}

/** ip inside net/prefix (prefix defaults to the full width). */
export function inCidr(ip: string, net: string, prefix?: number): boolean {
  const a = ipBits(ip);
  const b = ipBits(net);
  if (!a || !b || a.family !== b.family) return false;
  const width = a.family === 4 ? 32 : 128;
  const p = BigInt(Math.max(0, Math.min(width, prefix ?? width)));
  const shift = BigInt(width) - p;
  return a.bits >> shift === b.bits >> shift;
}

const PRIVATE: [string, number][] = [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10], ['fc00::', 7]];

/** RFC 1918 / RFC 6598 (and IPv6 unique local) addresses, as nathelper's private test. */
export function isPrivateIp(ip: string): boolean {
  return PRIVATE.some(([n, p]) => inCidr(ip, n, p));
}
