/**
 * Issue 5 on Redis, end to end with a real redis-server: REGISTER with digest then calls through
 * lookup; two kemi-proxy processes sharing one Redis (REGISTER through one, INVITE through the
 * other), on one redis-server and on a three-node Redis Cluster; a subscriber written straight into
 * Redis is seen without a reload; Redis hanging, then
 * stopped, in the middle of a run: calls needing it fail, the proxy stays up and answers what needs
 * no Redis, and calls complete again once Redis is back (after a re-REGISTER when it came back empty).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { DEFAULT_MODULES } from '../../src/ops/config.js';
import { rpcCall } from '../../src/ops/ctl.js';
import { freePort, startProxy, startSipp, writeScript, type ProxyHandle, type SippHandle } from './harness.js';
import { REGISTRAR_SCRIPT, registerAndCall, stopAll } from './registrar-flow.js';
import { startRedis, startRedisCluster, type RedisHandle } from './redis-server.js';
import { request, udpRequest } from './udp-client.js';

const ioredis = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');

let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
  await stopAll();
});
const track = <T extends ProxyHandle | SippHandle>(h: T): T => (running.push(h), h);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function proxyOnRedis(url = redis.url): Promise<{ proxy: ProxyHandle; rpc: string }> {
  const rpc = `127.0.0.1:${await freePort()}`;
  const proxy = track(await startProxy({
    script: writeScript(REGISTRAR_SCRIPT),
    modules: [...DEFAULT_MODULES, 'registrar', 'auth', 'auth_db'],
    extraArgs: ['--rpc', rpc, '--state', url],
  }));
  return { proxy, rpc };
}

async function register(proxyPort: number, user: string, password: string, contactPort: number) {
  const port = await freePort();
  return track(startSipp({
    scenario: 'reg-register.xml', port, remote: `127.0.0.1:${proxyPort}`, calls: 1, rate: 1, service: user, timeoutS: 20,
    extra: ['-au', user, '-ap', password, '-set', 'contact', `sip:${user}@127.0.0.1:${contactPort};transport=UDP`],
  })).done;
}

async function calls(proxyPort: number, user: string, n: number, rate = 10) {
  return track(startSipp({
    scenario: 'uac.xml', port: await freePort(), remote: `127.0.0.1:${proxyPort}`, calls: n, rate, limit: n, service: user, timeoutS: 30,
  })).done;
}

describe('state on Redis', () => {
  it('REGISTER with digest auth, then calls through lookup', async () => {
    await registerAndCall(['--state', redis.url]);
  }, 90_000);

  it('two proxies share one Redis: REGISTER through one, INVITE through the other; an operator-written subscriber is seen at once', async () => {
    const a = await proxyOnRedis();
    const b = await proxyOnRedis();
    // Written by an operator straight into Redis, no RPC, no reload.
    const cli = new ioredis.Redis(redis.url);
    await cli.set('kemi:subscriber:dave@kemi.test', 'd4ve');
    await cli.quit();
    const uasPort = await freePort();
    track(startSipp({ scenario: 'uas.xml', port: uasPort, timeoutS: 60 }));
    const reg = await register(a.proxy.port, 'dave', 'd4ve', uasPort);
    expect(reg.failed, reg.output + a.proxy.output().slice(-2000)).toBe(0);
    expect(reg.successful).toBe(1);
    const c = await calls(b.proxy.port, 'dave', 20);
    expect(c.failed, c.output + b.proxy.output().slice(-2000)).toBe(0);
    expect(c.successful).toBe(20);
  }, 90_000);

  it('two proxies share one Redis Cluster (redis+cluster://): REGISTER through one, INVITE through the other', async () => {
    const cluster = await startRedisCluster(3);
    running.push(cluster);
    const a = await proxyOnRedis(cluster.url);
    const b = await proxyOnRedis(cluster.url);
    const cli = new ioredis.Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    await cli.set('kemi:subscriber:fay@kemi.test', 'f4y');
    const uasPort = await freePort();
    track(startSipp({ scenario: 'uas.xml', port: uasPort, timeoutS: 60 }));
    const reg = await register(a.proxy.port, 'fay', 'f4y', uasPort);
    expect(reg.failed, reg.output + a.proxy.output().slice(-2000)).toBe(0);
    expect(reg.successful).toBe(1);
    // The contact is in the cluster, where another proxy (or an operator) finds it.
    expect(Object.keys(await cli.hgetall('kemi:ul:location:fay'))).toHaveLength(1);
    await cli.quit();
    const c = await calls(b.proxy.port, 'fay', 20);
    expect(c.failed, c.output + b.proxy.output().slice(-2000)).toBe(0);
    expect(c.successful).toBe(20);
  }, 90_000);

  it('Redis hanging, then stopped, mid-run: calls that need it fail, others are served, and calls complete again after', async () => {
    const { proxy } = await proxyOnRedis();
    const cli = new ioredis.Redis(redis.url);
    await cli.set('kemi:subscriber:erin@kemi.test', 'er1n');
    await cli.quit();
    const uasPort = await freePort();
    track(startSipp({ scenario: 'uas.xml', port: uasPort, timeoutS: 90 }));
    expect((await register(proxy.port, 'erin', 'er1n', uasPort)).successful).toBe(1);
    expect((await calls(proxy.port, 'erin', 10)).failed).toBe(0);

    redis.freeze();
    try {
      const during = await calls(proxy.port, 'erin', 5, 5);
      expect(during.successful).toBe(0);
      expect(during.failed).toBe(5);
      // Requests that need no Redis are answered meanwhile.
      const ka = await udpRequest(proxy.port, request('OPTIONS', `sip:127.0.0.1:${proxy.port}`));
      expect(ka.final).toBe(200);
    } finally {
      redis.thaw();
    }
    await sleep(500);
    const after = await calls(proxy.port, 'erin', 10);
    expect(after.failed, after.output + proxy.output().slice(-2000)).toBe(0);
    expect(after.successful).toBe(10);
    expect(proxy.output()).toMatch(/registrar lookup: redis GET|registrar lookup: redis HGETALL/);

    // Redis stopped outright, then started again (empty: no persistence in this test).
    await redis.pause();
    const down = await calls(proxy.port, 'erin', 3, 3);
    expect(down.successful).toBe(0);
    expect((await udpRequest(proxy.port, request('OPTIONS', `sip:127.0.0.1:${proxy.port}`))).final).toBe(200);
    await redis.resume();
    await sleep(1500);
    const cli2 = new ioredis.Redis(redis.url);
    await cli2.set('kemi:subscriber:erin@kemi.test', 'er1n');
    await cli2.quit();
    expect((await register(proxy.port, 'erin', 'er1n', uasPort)).successful).toBe(1);
    const back = await calls(proxy.port, 'erin', 10);
    expect(back.failed, back.output + proxy.output().slice(-2000)).toBe(0);
    expect(back.successful).toBe(10);
    expect(proxy.output()).toContain('connection lost');
  }, 90_000);
});
