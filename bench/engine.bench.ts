/**
 * Engine micro-benchmark (not a test): the cost of a KSR call from Lua (no string argument, string
 * in and out), of entering a callback from JS and of one that ends in KSR.x.exit, on the real binding; the I/O path, where a
 * binding answers with a Promise and the callback's coroutine suspends until it settles; and what
 * loading routes/route.lua with every KSR module takes (a reload blocks the event loop that long).
 *
 *   npm run build && node dist/bench/engine.bench.js
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { KEMI_CATALOG } from '../kemi/catalog.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LuaScript } from '../src/engine/lua-script.js';
import { MsgContext, type ProxyServices } from '../src/context/msg-context.js';
import { SipMessage } from '../src/sip/index.js';
import { defineModule } from '../kemi/types.js';
import { discoverKemiModules } from '../src/app/modules.js';

const dir = mkdtempSync(join(tmpdir(), 'kemi-bench-'));
const path = join(dir, 'b.lua');
const N = 200_000;
writeFileSync(path, `
function empty() end
function noargs() local f = KSR.b.flag for i = 1, ${N} do f(3) end end
function strings() local g = KSR.b.echo for i = 1, ${N} do g("$ru") end end
function baseline() for i = 1, ${N} do end end
function waits() KSR.b.later() end
function exits() KSR.b.flag(3) KSR.x.exit() end
`);

const mod = defineModule('b', [
  { name: 'flag', params: ['int'], ret: 'bool', fn: (c, f) => ((c.flags |= 1 << Number(f)), true) },
  { name: 'echo', params: ['str'], ret: 'xval', fn: (c) => c.msg.ruri },
  // The I/O path: a binding that answers with a Promise (settled at once) suspends the coroutine.
  { name: 'later', params: [], ret: 'int', fn: () => Promise.resolve(1) },
]);
const msg = SipMessage.parse(Buffer.from('OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'));
const ctx = new MsgContext(msg, { proto: 'udp', srcAddress: '127.0.0.1', srcPort: 5060, localAddress: '127.0.0.1', localPort: 5060, family: 4 }, {} as ProxyServices);

const s = await LuaScript.load({ scriptPath: path, modules: [mod], catalog: KEMI_CATALOG, log: () => undefined });
const time = (fn: string): number => {
  s.run(fn, ctx);
  const t = performance.now();
  s.run(fn, ctx);
  return performance.now() - t;
};
const base = time('baseline');
const perCall = (fn: string): number => ((time(fn) - base) / N) * 1000;
console.log(`KSR call, int in, bool out:     ${perCall('noargs').toFixed(3)} us`);
console.log(`KSR call, string in, string out: ${perCall('strings').toFixed(3)} us`);
/** us per run of callback `fn` from JS, after 10000 runs not counted. */
const perRun = (fn: string): number => {
  const M = 200_000;
  for (let i = 0; i < 10_000; i++) s.run(fn, ctx);
  const t = performance.now();
  for (let i = 0; i < M; i++) s.run(fn, ctx);
  return ((performance.now() - t) / M) * 1000;
};
console.log(`callback entry (empty route):    ${perRun('empty').toFixed(3)} us`);
// KSR.x.exit ends the callback with a Lua error: a longjmp, which wasmoon's build makes a JS throw
// through the wasm frames, and a coroutine to reset.
console.log(`callback ending in KSR.x.exit:   ${perRun('exits').toFixed(3)} us`);
// A callback whose one KSR call waits for a Promise: suspend, await, resume, finish.
const A = 50_000;
for (let i = 0; i < 2_000; i++) await s.run('waits', ctx);
const t1 = performance.now();
for (let i = 0; i < A; i++) await s.run('waits', ctx);
console.log(`callback with one awaited KSR call: ${(((performance.now() - t1) / A) * 1000).toFixed(3)} us`);
s.close();

// Loading a script: a fresh VM with every module's exports bound, then the file run (a reload).
const all = [...(await discoverKemiModules()).values()];
const loads: number[] = [];
for (let i = 0; i < 12; i++) {
  const t = performance.now();
  const v = await LuaScript.load({ scriptPath: 'routes/route.lua', modules: all, catalog: KEMI_CATALOG, log: () => undefined });
  loads.push(performance.now() - t);
  v.close();
}
loads.sort((a, b) => a - b);
console.log(`load routes/route.lua, ${all.length} modules: median ${loads[6]!.toFixed(1)} ms, max ${loads[11]!.toFixed(1)} ms`);
