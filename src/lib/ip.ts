/** IP address helpers shared by pike, permissions and nathelper. */
import { isIP } from 'node:net';

/** The address as bytes (4 for IPv4, 16 for IPv6; brackets allowed), or null. */
export function ipBytes(ip: string): Uint8Array | null {
  const a = ip.replace(/^\[|\]$/g, '');
  const fam = isIP(a);
  if (fam === 4) return Uint8Array.from(a.split('.').map(Number));
  if (fam !== 6) return null;
  let s = a.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    s = s.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = Number.parseInt(g || '0', 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}
