/**
 * Test certificates made at test time with openssl (no key material in the repository): a CA, a
 * server certificate for 127.0.0.1 / kemi.test, a second one for other.test (SNI), a client
 * certificate, and a self-signed certificate no CA vouches for.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  dir: string;
  ca: string;
  server: { cert: string; key: string };
  other: { cert: string; key: string };
  client: { cert: string; key: string };
  rogue: { cert: string; key: string };
}

function ossl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A key and a certificate signed by the CA in `dir` (or self-signed when `selfSigned`). */
export function issue(dir: string, name: string, cn: string, sans: string, selfSigned = false): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `subjectAltName=${sans}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  if (selfSigned) {
    ossl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${sans}`]);
    return { cert, key };
  }
  const csr = join(dir, `${name}.csr`);
  ossl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}/O=kemi-test`]);
  ossl(dir, ['x509', '-req', '-in', csr, '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  return { cert, key };
}

export function makeCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'kemi-tls-'));
  ossl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=kemi test CA']);
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    server: issue(dir, 'server', 'kemi.test', 'DNS:kemi.test,IP:127.0.0.1,IP:::1'),
    other: issue(dir, 'other', 'other.test', 'DNS:other.test'),
    client: issue(dir, 'client', 'alice.kemi.test', 'DNS:alice.kemi.test'),
    rogue: issue(dir, 'rogue', 'kemi.test', 'DNS:kemi.test,IP:127.0.0.1', true),
  };
}
