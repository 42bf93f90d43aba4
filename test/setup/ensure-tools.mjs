// Makes sure the end-to-end tools (SIPp, redis-server, Kamailio, rtpengine, baresip) are present before the suite runs:
// installs them with apt-get when we are root, otherwise fails saying how to install them.
import { execFileSync, spawnSync } from 'node:child_process';

const tools = [
  { bin: 'sipp', pkg: 'sip-tester' },
  { bin: 'redis-server', pkg: 'redis-server' },
  // Differential tests run the same scripts through Kamailio 5.6 with app_lua.
  { bin: '/usr/sbin/kamailio', pkg: 'kamailio' },
  { bin: '/usr/lib/x86_64-linux-gnu/kamailio/modules/app_lua.so', pkg: 'kamailio-lua-modules' },
  // KSR.rtpengine's end-to-end and differential tests run the real media relay (userspace mode).
  { bin: '/usr/bin/rtpengine', pkg: 'rtpengine-daemon' },
  // TLS and WebSocket: Kamailio's modules for the differential tests, baresip as a TLS phone,
  // openssl for the test certificates.
  { bin: '/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so', pkg: 'kamailio-tls-modules' },
  { bin: '/usr/lib/x86_64-linux-gnu/kamailio/modules/websocket.so', pkg: 'kamailio-websocket-modules' },
  // http_client.so for test/e2e/http-client-diff.test.ts.
  { bin: '/usr/lib/x86_64-linux-gnu/kamailio/modules/http_client.so', pkg: 'kamailio-utils-modules' },
  { bin: 'baresip', pkg: 'baresip' },
  { bin: 'openssl', pkg: 'openssl' },
];

const has = (bin) => spawnSync('sh', ['-c', bin.startsWith('/') ? `test -e ${bin}` : `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const missing = tools.filter((t) => !has(t.bin));
if (missing.length > 0) {
  const pkgs = missing.map((t) => t.pkg);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(`missing ${missing.map((t) => t.bin).join(', ')}: install with: sudo apt-get install -y ${pkgs.join(' ')}`);
    process.exit(1);
  }
  console.log(`installing ${pkgs.join(' ')} with apt-get`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const still = tools.filter((t) => !has(t.bin));
  if (still.length > 0) {
    console.error(`still missing after apt-get: ${still.map((t) => t.bin).join(', ')}`);
    process.exit(1);
  }
}
