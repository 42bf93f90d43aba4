/**
 * `kemi-proxy ctl`: --rpc before or after the method, a clear message when nothing or something
 * else answers at the address, and system.listMethods listing every method.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, REPO, startProxy, type ProxyHandle } from './harness.js';

function ctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [join(REPO, 'dist/src/cli.js'), 'ctl', ...args], { timeout: 15_000 }, (e, out, err) =>
      res({ code: e ? Number((e as NodeJS.ErrnoException & { code?: unknown }).code ?? 1) : 0, out, err }));
  });
}

let proxy: ProxyHandle | undefined;
afterAll(async () => {
  await proxy?.stop();
});

describe('kemi-proxy ctl', () => {
  it('takes --rpc before or after the method and says what is wrong at the address', async () => {
    const rport = await freePort();
    proxy = await startProxy({ script: join(REPO, 'routes/route.lua'), extraArgs: ['--rpc', `127.0.0.1:${rport}`] });
    const before = await ctl('--rpc', `127.0.0.1:${rport}`, 'core.version');
    const after = await ctl('core.version', '--rpc', `127.0.0.1:${rport}`);
    expect(before.code).toBe(0);
    expect(before.out).toMatch(/kemi-proxy/);
    expect(after.out).toBe(before.out);

    const methods = JSON.parse((await ctl('system.listMethods', `--rpc=127.0.0.1:${rport}`)).out) as string[];
    for (const m of ['system.listMethods', 'core.version', 'core.uptime', 'core.psx', 'app_lua.reload', 'app_lua.list', 'tm.stats', 'stats.get_statistics']) expect(methods).toContain(m);

    const closed = await freePort();
    const none = await ctl('core.version', '--rpc', `127.0.0.1:${closed}`);
    expect(none.code).not.toBe(0);
    expect(none.err).toContain(`nothing answers at 127.0.0.1:${closed}`);

    const other = createServer((_q, r) => r.end('<html>hello</html>'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
    const oport = (other.address() as { port: number }).port;
    const wrong = await ctl('core.version', '--rpc', `127.0.0.1:${oport}`);
    other.close();
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toContain("answered, but not as kemi-proxy's control RPC");

    const missing = await ctl('--rpc', `127.0.0.1:${rport}`);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('ctl needs a method name');
  });
});
