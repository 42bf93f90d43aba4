/**
 * REGISTER with digest auth through kemi-proxy (registrar + auth + auth_db), on the embedded state
 * and on a redis-server this script starts. For each offered rate: registrations/s achieved at 0
 * failures and the proxy's CPU seconds per 1000 registrations (utime+stime from /proc). One
 * registration is REGISTER, 401, REGISTER with credentials, 200; 1000 users from an injection file.
 *
 *   npm run build && node dist/bench/register-bench.js [--rates 500,1000,1500] [--seconds 5] [--state memory,redis]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MODULES } from '../src/ops/config.js';
import { rpcCall } from '../src/ops/ctl.js';
import { freePort, startProxy, startSipp, tempDir, writeScript } from '../test/e2e/harness.js';
import { REGISTRAR_SCRIPT } from '../test/e2e/registrar-flow.js';
import { startRedis } from '../test/e2e/redis-server.js';
import { treeCpuSeconds } from './proc-cpu.js';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '500,1000,1500' },
    seconds: { type: 'string', default: '5' },
    state: { type: 'string', default: 'memory,redis' },
    users: { type: 'string', default: '1000' },
  },
});
const seconds = Number(values.seconds);
const users = Number(values.users);

async function main(): Promise<void> {
  const dir = tempDir('kemi-regbench-');
  const inf = join(dir, 'users.csv');
  writeFileSync(inf, `SEQUENTIAL\n${Array.from({ length: users }, (_, i) => `u${i};[authentication username=u${i} password=pw${i}]`).join('\n')}\n`);
  for (const state of values.state!.split(',')) {
    const redis = state === 'redis' ? await startRedis() : null;
    const rpc = `127.0.0.1:${await freePort()}`;
    const proxy = await startProxy({
      script: writeScript(REGISTRAR_SCRIPT), protos: ['udp'],
      modules: [...DEFAULT_MODULES, 'registrar', 'auth', 'auth_db'],
      extraArgs: ['--rpc', rpc, '--log-level', 'warn', ...(redis ? ['--state', redis.url] : [])],
    });
    try {
      for (let i = 0; i < users; i++) await rpcCall(rpc, 'subscriber.add', [`u${i}@kemi.test`, `pw${i}`]);
      for (const rate of values.rates!.split(',').map(Number)) {
        const calls = rate * seconds;
        const cpu0 = treeCpuSeconds(proxy.pid);
        const t0 = Date.now();
        const res = await startSipp({
          scenario: 'reg-bench.xml', port: await freePort(), remote: `127.0.0.1:${proxy.port}`, calls, rate,
          limit: Math.max(200, rate), timeoutS: seconds * 3 + 30, extra: ['-inf', inf],
        }).done;
        const elapsed = (Date.now() - t0) / 1000;
        const cpu = treeCpuSeconds(proxy.pid) - cpu0;
        const failed = calls - res.successful;
        if (failed > 0 && process.env.BENCH_DEBUG) console.log(res.output.slice(-3000));
        console.log(`kemi-proxy state=${state.padEnd(6)} offered ${String(rate).padStart(5)}/s  registrations ${calls}  ok ${res.successful}  failed ${failed}  ${(res.successful / elapsed).toFixed(0)} REGISTERs/s  ${((cpu / Math.max(1, res.successful)) * 1000).toFixed(3)} CPU s/1000 REGISTERs`);
      }
    } finally {
      await proxy.stop();
      await redis?.stop();
    }
  }
}

void main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
