/**
 * HTTP Digest for SIP (RFC 2617, RFC 7616 as RFC 8760 applies it to SIP): credentials parsing,
 * response computation with MD5 or SHA-256, and self-validating nonces: hex of
 * expiry (unix s) + 8 random bytes + an HMAC of both under the shared secret, so any proxy that
 * shares the secret can check a nonce without state, and an expired one is told apart (stale).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

export interface Credentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  qop: string | null;
  nc: string | null;
  cnonce: string | null;
  opaque: string | null;
}

/** Parses `Digest k="v", k=v, ...`; null when it is not Digest or misses a required field. */
export function parseCredentials(value: string): Credentials | null {
  const m = /^\s*Digest\s+/i.exec(value);
  if (!m) return null;
  const params = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,]+)\s*(?:,|$)/gy;
  re.lastIndex = m[0].length;
  let p: RegExpExecArray | null;
  while ((p = re.exec(value)) !== null) {
    params.set(p[1]!.toLowerCase(), p[3] !== undefined ? p[3].replace(/\\(.)/g, '$1') : p[2]!);
    if (re.lastIndex >= value.length) break;
  }
  const username = params.get('username');
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  const uri = params.get('uri');
  const response = params.get('response');
  if (username === undefined || realm === undefined || !nonce || !uri || !response) return null;
  const alg = (params.get('algorithm') ?? 'MD5').toUpperCase();
  if (alg !== 'MD5' && alg !== 'SHA-256') return null;
  return {
    username, realm, nonce, uri, response: response.toLowerCase(), algorithm: alg,
    qop: params.get('qop')?.toLowerCase() ?? null, nc: params.get('nc') ?? null,
    cnonce: params.get('cnonce') ?? null, opaque: params.get('opaque') ?? null,
  };
}

export function hash(alg: DigestAlgorithm, s: string): string {
  return createHash(alg === 'MD5' ? 'md5' : 'sha256').update(s, 'latin1').digest('hex');
}

export function ha1(alg: DigestAlgorithm, user: string, realm: string, password: string): string {
  return hash(alg, `${user}:${realm}:${password}`);
}

/** The response the client should have sent, given HA1. */
export function expectedResponse(c: Credentials, method: string, ha1Hex: string, body: Buffer): string {
  const ha2 = c.qop === 'auth-int'
    ? hash(c.algorithm, `${method}:${c.uri}:${hash(c.algorithm, body.toString('latin1'))}`)
    : hash(c.algorithm, `${method}:${c.uri}`);
  return c.qop
    ? hash(c.algorithm, `${ha1Hex}:${c.nonce}:${c.nc ?? ''}:${c.cnonce ?? ''}:${c.qop}:${ha2}`)
    : hash(c.algorithm, `${ha1Hex}:${c.nonce}:${ha2}`);
}

export function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

export type NonceCheck = 'ok' | 'stale' | 'invalid';

export class NonceMaker {
  constructor(private readonly secret: string, private readonly lifetimeSec: number) {}

  make(): string {
    const exp = (Math.floor(Date.now() / 1000) + this.lifetimeSec).toString(16).padStart(8, '0');
    const rnd = randomBytes(8).toString('hex');
    return exp + rnd + this.mac(exp + rnd);
  }

  check(nonce: string): NonceCheck {
    if (!/^[0-9a-f]{56}$/.test(nonce)) return 'invalid';
    const body = nonce.slice(0, 24);
    if (!sameHex(nonce.slice(24), this.mac(body))) return 'invalid';
    return Number.parseInt(nonce.slice(0, 8), 16) < Date.now() / 1000 ? 'stale' : 'ok';
  }

  /** Seconds until the nonce expires (for replay records). */
  remaining(nonce: string): number {
    return Math.max(1, Number.parseInt(nonce.slice(0, 8), 16) - Math.floor(Date.now() / 1000));
  }

  private mac(s: string): string {
    return createHmac('sha256', this.secret).update(s).digest('hex').slice(0, 32);
  }
}
