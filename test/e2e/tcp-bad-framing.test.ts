/**
 * Issue 17, defect 8 over TCP: RFC 4475 ncl (Content-Length -999) and mcl01 (Content-Length 13
 * and 5) cannot be framed on a stream; the proxy answers 400 and closes the connection (the
 * stream is lost after them). mismatch02 (unknown method, CSeq naming INVITE) frames fine and
 * gets 501 (RFC 4475 3.1.2.18 prefers 501 at proxies). Over UDP test/e2e/bad-input.test.ts
 * covers every invalid torture message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { REPO, startProxy, type ProxyHandle } from './harness.js';

const DIR = fileURLToPath(new URL('../fixtures/sip-torture/', import.meta.url));

/** Sends the file on a new TCP connection: the first reply's status (0: none) and whether the proxy closed. */
function overTcp(port: number, file: string, ms = 3500): Promise<{ status: number; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve({ status: Number(/^SIP\/2\.0 (\d{3})/.exec(got)?.[1] ?? 0), closed });
    };
    const timer = setTimeout(() => done(false), ms);
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('end', () => done(true));
    s.on('error', () => done(true));
    s.write(readFileSync(DIR + file));
  });
}

let proxy: ProxyHandle;
beforeAll(async () => {
  proxy = await startProxy({ script: join(REPO, 'routes/route.lua'), protos: ['tcp'] });
});
afterAll(async () => {
  await proxy?.stop();
});

describe('torture messages that break stream framing, over TCP', () => {
  // The framer hands the header block of a bad Content-Length up to be answered 400; the
  // connection closes after the transport's grace period (CLOSE_GRACE_MS) for answers in flight.

  it('ncl: 400, then the connection is closed', async () => {
    expect(await overTcp(proxy.port, 'ncl.sip')).toEqual({ status: 400, closed: true });
  });
  it('mcl01: 400, then the connection is closed', async () => {
    expect(await overTcp(proxy.port, 'mcl01.sip')).toEqual({ status: 400, closed: true });
  });
  it('mismatch02: 501', async () => {
    expect((await overTcp(proxy.port, 'mismatch02.sip', 800)).status).toBe(501);
  });
});
