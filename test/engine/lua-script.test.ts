/**
 * The Lua engine against small scripts and fake export tables: return and argument conversions,
 * exit/drop, errors with file:line, unimplemented functions, modules not loaded, async bindings
 * that suspend one message while others run, script flags, and hot reload.
 */
import { describe, expect, it } from 'vitest';
import { KEMI_CATALOG } from '../../kemi/catalog.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LuaScript, type RunOutcome } from '../../src/engine/lua-script.js';
import { ScriptHost } from '../../src/engine/script-host.js';
import { MsgContext, type ProxyServices, type ReceiveInfo } from '../../src/context/msg-context.js';
import { SipMessage } from '../../src/sip/index.js';
import { defineModule, type KemiModule } from '../../kemi/types.js';

const RCV: ReceiveInfo = { proto: 'udp', srcAddress: '127.0.0.1', srcPort: 5070, localAddress: '127.0.0.1', localPort: 5060, family: 4 };
const MSG = SipMessage.parse(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'));
const services = {} as ProxyServices;
const ctx = (): MsgContext => new MsgContext(MSG.clone(), RCV, services);

/** A run that must not suspend. */
function runSync(s: LuaScript, fn: string, c: MsgContext): RunOutcome {
  const r = s.run(fn, c);
  if (r instanceof Promise) throw new Error(`${fn} suspended`);
  return r;
}

const logs: string[] = [];
const log = (_l: string, t: string): void => void logs.push(t);

/** Records what it was called with; answers by declared kind. */
function fakeModule(calls: unknown[][]): KemiModule {
  return defineModule('fake', [
    { name: 'int_none', params: [], ret: 'int', fn: () => 7 },
    { name: 'bool_t', params: [], ret: 'bool', fn: () => true },
    { name: 'xval_s', params: ['str'], ret: 'xval', fn: (_c, s) => `<${String(s)}>` },
    { name: 'xval_nil', params: [], ret: 'xval', fn: () => null },
    { name: 'xval_n', params: [], ret: 'xval', fn: () => 5060 },
    { name: 'none', params: [], ret: 'none', fn: () => undefined },
    { name: 'args', params: ['str', 'int'], ret: 'int', fn: (...a) => { calls.push(a.slice(1)); return 1; } },
    { name: 'throws', params: [], ret: 'int', fn: () => { throw new Error('boom inside'); } },
    { name: 'later', params: ['str'], ret: 'xval', fn: (c, s) => new Promise((r) => setTimeout(() => r(`${String(s)}:${c.msg.callId}`), 20)) },
    { name: 'setflag', params: ['int'], ret: 'bool', fn: (c, f) => { c.sflags |= 1 << Number(f); return true; } },
  ]);
}

function script(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kemi-eng-'));
  const p = join(dir, 'r.lua');
  writeFileSync(p, text);
  return p;
}

async function load(text: string, calls: unknown[][] = [], loaded?: string[]): Promise<LuaScript> {
  return LuaScript.load({ scriptPath: script(text), catalog: KEMI_CATALOG, modules: [fakeModule(calls)], loadedModuleNames: loaded ?? ['fake'], log });
}

describe('LuaScript', () => {
  it('converts return values by declared kind', async () => {
    const seen: string[] = [];
    const s = await LuaScript.load({
      scriptPath: script(`function f() KSR.fake.args(string.format("%s|%s|%s|%s|%s|%s|%s", tostring(KSR.fake.int_none()), tostring(KSR.fake.bool_t()), KSR.fake.xval_s("a"), tostring(KSR.fake.xval_nil()), tostring(KSR.fake.xval_n()), tostring(KSR.fake.none()), KSRVERSION), 1) end`),
      catalog: KEMI_CATALOG,
      modules: [defineModule('fake', [...fakeModule([]).exports.filter((e) => e.name !== 'args'), { name: 'args', params: ['str', 'int'], ret: 'int', fn: (_c, a) => { seen.push(String(a)); return 1; } }])],
      log,
    });
    expect(s.run('f', ctx())).toEqual({ status: 'ok' });
    // Integers stay integers in Lua 5.4 (no "7.0"), xval numbers too.
    expect(seen[0]).toBe('7|true|<a>|nil|5060|false|2.0');
    s.close();
  });

  it('converts arguments as app_lua does (int: nil -> 0; str: number -> string, nil -> null)', async () => {
    const calls: unknown[][] = [];
    const s = await load(`function f() KSR.fake.args(12, "34") KSR.fake.args(nil, nil) KSR.fake.args("x", 2.0) end`, calls);
    expect(runSync(s, 'f', ctx()).status).toBe('ok');
    expect(calls).toEqual([['12', 34], [null, 0], ['x', 2]]);
    s.close();
  });

  it('ends on KSR.x.exit, marks drop on KSR.x.drop, and reports errors with file:line', async () => {
    const s = await load(`
function e() KSR.x.exit() KSR.fake.args("never", 1) end
function d() KSR.x.drop() end
function bad()
  local t = nil
  return t.x
end
function thrown() KSR.fake.throws() end
function caught() local ok, err = pcall(KSR.x.exit) KSR.fake.args(tostring(err), 0) end`);
    expect(s.run('e', ctx())).toEqual({ status: 'exit' });
    const c = ctx();
    expect(s.run('d', c)).toEqual({ status: 'exit' });
    expect(c.drop).toBe(true);
    const out = s.run('bad', ctx());
    expect(out).toMatchObject({ status: 'error', error: { line: 6 } });
    expect((out as { error: { file: string } }).error.file).toMatch(/r\.lua$/);
    const th = s.run('thrown', ctx());
    expect(th).toMatchObject({ status: 'error', error: { line: 8 } });
    expect((th as { error: { message: string } }).error.message).toContain('KSR.fake.throws: boom inside');
    expect(s.run('missing_fn', ctx())).toEqual({ status: 'missing' });
    s.close();
  });

  it('runs the next callback on the coroutine an exit or an error ended, reset (no new thread per exit)', async () => {
    const calls: unknown[][] = [];
    const s = await load(`
local seen = {}
function who(how)
  local co = tostring(coroutine.running())
  seen[co] = (seen[co] or 0) + 1
  KSR.fake.args(co, seen[co])
  if how == "exit" then KSR.x.exit() end
  if how == "error" then error("on purpose") end
  KSR.fake.args("after", 0)
end`, calls);
    for (const how of ['exit', 'exit', 'error', 'exit', 'ok', 'exit']) {
      const out = s.run('who', ctx(), how);
      expect((out as RunOutcome).status).toBe(how === 'exit' ? 'exit' : how === 'error' ? 'error' : 'ok');
    }
    const threads = calls.filter((c) => c[0] !== 'after');
    expect(new Set(threads.map((c) => c[0])).size).toBe(1);
    expect(threads.map((c) => c[1])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(calls.filter((c) => c[0] === 'after')).toHaveLength(1);
    s.close();
  });

  it('rejects a script with a syntax error, naming file and line', async () => {
    await expect(load('function f()\n  if then\nend\n')).rejects.toThrow(/r\.lua:2:/);
  });

  it('binds unimplemented catalog functions of loaded modules so they fail naming themselves; unloaded modules are nil', async () => {
    const s = await LuaScript.load({
      scriptPath: script(`function f() KSR.tm.t_relay() end
function g() KSR.fake.args(tostring(KSR.auth) .. "|" .. type(KSR.tm.t_uac_send), 0) end`),
      modules: [fakeModule([])], catalog: KEMI_CATALOG, loadedModuleNames: ['fake', 'tm'], log,
    });
    const out = runSync(s, 'f', ctx());
    expect(out.status).toBe('error');
    expect((out as { error: { message: string } }).error.message).toContain('KSR.tm.t_relay: not implemented');
    s.close();
    const seen: unknown[][] = [];
    const s2 = await LuaScript.load({ scriptPath: script(`function g() KSR.fake.args(tostring(KSR.auth) .. "|" .. type(KSR.tm.t_uac_send), 0) end`), modules: [fakeModule(seen)], catalog: KEMI_CATALOG, loadedModuleNames: ['fake', 'tm'], log });
    expect(runSync(s2, 'g', ctx()).status).toBe('ok');
    expect(seen[0]![0]).toBe('nil|function');
    s2.close();
  });

  it('suspends a message on an async binding while other messages run, each resuming with its own context', async () => {
    const calls: unknown[][] = [];
    const s = await load(`function f() local v = KSR.fake.later("r") KSR.fake.args(v, 0) end
function quick() KSR.fake.args("quick", 1) end`, calls);
    const a = new MsgContext(SipMessage.parse(Buffer.from(MSG.toString().replace('Call-ID: c1', 'Call-ID: A'))), RCV, services);
    const b = new MsgContext(SipMessage.parse(Buffer.from(MSG.toString().replace('Call-ID: c1', 'Call-ID: B'))), RCV, services);
    const pa = s.run('f', a);
    const pb = s.run('f', b);
    expect(pa).toBeInstanceOf(Promise);
    expect(pb).toBeInstanceOf(Promise);
    // The event loop is free: a synchronous message goes through meanwhile.
    expect(s.run('quick', ctx())).toEqual({ status: 'ok' });
    expect(await pa).toEqual({ status: 'ok' });
    expect(await pb).toEqual({ status: 'ok' });
    expect(calls).toEqual([['quick', 1], ['r:A', 0], ['r:B', 0]]);
    s.close();
  });

  it('zeroes script flags for a callback and restores them after', async () => {
    const s = await load(`function f() KSR.fake.setflag(3) end`);
    const c = ctx();
    c.sflags = 1;
    expect(runSync(s, 'f', c).status).toBe('ok');
    expect(c.sflags).toBe(1);
    s.close();
  });
});

describe('ScriptHost', () => {
  it('swaps in a reloaded script only when it loads, and keeps an old VM for messages in flight', async () => {
    const seen: unknown[][] = [];
    const path = script(`function f() KSR.fake.args("v1", 0) end`);
    const host = await ScriptHost.create({ scriptPath: path, modules: [fakeModule(seen)], catalog: KEMI_CATALOG, log, requiredFunctions: ['f'] });
    const inflight = host.acquire();
    writeFileSync(path, `function f() KSR.fake.args("v2", 0) end`);
    expect(await host.reload()).toEqual({ ok: true });
    writeFileSync(path, `function f( KSR.fake.args("v3", 0) end`);
    const bad = await host.reload();
    expect(bad.ok).toBe(false);
    expect(bad.error).toMatch(/r\.lua:1:/);
    expect(host.stats).toEqual({ reloads: 1, reloadFailures: 1 });
    expect(runSync(inflight, 'f', ctx()).status).toBe('ok');
    host.release(inflight);
    // The replaced VM closes with its last message.
    expect(runSync(inflight, 'f', ctx())).toMatchObject({ status: 'error', error: { message: 'script VM is closed' } });
    const now = host.acquire();
    expect(runSync(now, 'f', ctx()).status).toBe('ok');
    host.release(now);
    expect(seen.map((x) => x[0])).toEqual(['v1', 'v2']);
    await host.close();
  });

  it('refuses a script that loads but lacks a required function, at start and on reload', async () => {
    const path = script(`x = 1`);
    await expect(ScriptHost.create({ scriptPath: path, modules: [], catalog: KEMI_CATALOG, log })).rejects.toThrow(/no function ksr_request_route defined/);
    writeFileSync(path, `function ksr_request_route() end`);
    const host = await ScriptHost.create({ scriptPath: path, modules: [], catalog: KEMI_CATALOG, log });
    const first = host.current;
    writeFileSync(path, `x = 1`);
    const r = await host.reload();
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/no function ksr_request_route defined/);
    expect(host.stats).toEqual({ reloads: 0, reloadFailures: 1 });
    expect(host.current).toBe(first);
    await host.close();
  });
});
