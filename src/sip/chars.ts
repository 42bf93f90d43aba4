/**
 * Character classes of the SIP grammar, tested a character at a time: the parsers' hot paths use
 * these instead of regular expressions (a RegExp test is a call into the regexp engine per value,
 * issue 14). Strings here are latin1 (a character per received byte); a character above 255 can
 * only come from a script, and the functions that mirror a JavaScript `\s` hand such strings to
 * the regular expression so that the answer stays the same.
 */

/** RFC 3261 token characters: letters, digits and -.!%*_+`'~ */
const TOKEN = (() => {
  const t = new Uint8Array(256);
  for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~') t[c.charCodeAt(0)] = 1;
  return t;
})();

export function isTokenChar(c: number): boolean {
  return c < 256 && TOKEN[c] === 1;
}

/** A non-empty run of token characters. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/** Letters, digits, '.', '-' and '_': a host name or IPv4 address (not an IPv6 reference). */
export function isHostChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 45 || c === 95;
}

/** `/^[A-Za-z0-9.\-_]+$/` */
export function isHostName(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isHostChar(s.charCodeAt(i))) return false;
  return true;
}

/** The value of `/^\d{1,max}$/` (max <= 15), else -1. */
export function digitsValue(s: string, max: number): number {
  return digitsValueAt(s, 0, s.length, max);
}

/** digitsValue of s[start, end), without slicing it. */
export function digitsValueAt(s: string, start: number, end: number, max: number): number {
  const n = end - start;
  if (n <= 0 || n > max) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** True when s[start, start + t.length) is t, compared a character at a time (no builtin call). */
export function sameAt(s: string, start: number, t: string): boolean {
  for (let i = 0; i < t.length; i++) if (s.charCodeAt(start + i) !== t.charCodeAt(i)) return false;
  return true;
}

/**
 * True when s[start, start + lower.length) is `lower` with its ASCII letters in any case
 * (`lower` in lower case; only a letter matches its upper-case form, nothing else is folded).
 */
export function sameIgnoringCaseAt(s: string, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = s.charCodeAt(start + i);
    const l = lower.charCodeAt(i);
    if (c !== l && !(c === l - 32 && l >= 97 && l <= 122)) return false;
  }
  return true;
}

/** JavaScript's `\s` below 256: tab, LF, VT, FF, CR, space and NBSP. */
export function isJsSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0;
}

/**
 * Whether s has a character that `/\s/` matches or one of the character codes x1..x3 (below 256;
 * -1 for none): `re` is the regular expression of the same set, for a string with a character
 * above 255.
 */
export function hasSpaceOr(s: string, re: RegExp, x1 = -1, x2 = -1, x3 = -1): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) return re.test(s);
    if (isJsSpace(c) || c === x1 || c === x2 || c === x3) return true;
  }
  return false;
}
