/**
 * Kamailio's core_hash / core_case_hash (src/core/hashes.h): the hash cfgutils' core_hash returns and
 * its lock set is indexed by. Bytes are C `char`, signed on the platforms Kamailio runs on, so bytes
 * above 0x7f enter the sum negative; all arithmetic is unsigned 32-bit.
 */

const sc = (b: number): number => (b << 24) >> 24;
const lower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);

function update(h: number, s: Buffer, icase: boolean): number {
  const ch = icase ? (b: number): number => sc(lower(b)) : sc;
  const end = s.length;
  let p = 0;
  let v: number;
  for (; p <= end - 4; p += 4) {
    v = ((ch(s[p]!) << 24) + (ch(s[p + 1]!) << 16) + (ch(s[p + 2]!) << 8) + ch(s[p + 3]!)) >>> 0;
    h = (h + ((v ^ (v >>> 3)) >>> 0)) >>> 0;
  }
  v = 0;
  for (; p < end; p++) v = ((v << 8) + ch(s[p]!)) >>> 0;
  return (h + ((v ^ (v >>> 3)) >>> 0)) >>> 0;
}

function hash(s1: Buffer, s2: Buffer | null, size: number, icase: boolean): number {
  let h = update(0, s1, icase);
  if (s2) h = update(h, s2, icase);
  h = ((h + (h >>> 11)) >>> 0) + ((h >>> 13) + (h >>> 23));
  h >>>= 0;
  return size ? (h & (size - 1)) >>> 0 : h;
}

/** core_hash(s1, s2, size): a slot in a table of `size` (a power of two) entries, or the hash when size is 0. */
export function coreHash(s1: Buffer, s2: Buffer | null, size: number): number {
  return hash(s1, s2, size, false);
}

/** core_case_hash: the same with ASCII letters folded to lower case. */
export function coreCaseHash(s1: Buffer, s2: Buffer | null, size: number): number {
  return hash(s1, s2, size, true);
}
