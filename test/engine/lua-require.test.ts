/**
 * The Lua environment: require/loadfile/dofile on the real file system (script directory,
 * package.path, LUA_PATH), errors with file:line, C modules refused by name, reload re-reading
 * required files, and the built-in cjson against lua-cjson's behaviour.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEMI_CATALOG } from '../../kemi/catalog.js';
import { LuaScript, type RunOutcome } from '../../src/engine/lua-script.js';
import { ScriptHost } from '../../src/engine/script-host.js';
import { LUA_DEFAULT_PATH, scriptLuaPath } from '../../src/engine/lua-require.js';
import { MsgContext, type ProxyServices, type ReceiveInfo } from '../../src/context/msg-context.js';
import { SipMessage } from '../../src/sip/index.js';
import { defineModule } from '../../kemi/types.js';

const RCV: ReceiveInfo = { proto: 'udp', srcAddress: '127.0.0.1', srcPort: 5070, localAddress: '127.0.0.1', localPort: 5060, family: 4 };
const MSG = SipMessage.parse(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'));
const ctx = (): MsgContext => new MsgContext(MSG.clone(), RCV, {} as ProxyServices);

let out: string[] = [];
const logs: string[] = [];
const log = (_l: string, t: string): void => void logs.push(t);
/** KSR.t.out(s): what the script reports. */
const outModule = defineModule('t', [{ name: 'out', params: ['str'], ret: 'int', fn: (_c, s) => { out.push(String(s)); return 1; } }]);

const open: Array<{ close(): void | Promise<void> }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
  out = [];
});

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'kemi-req-'));
}

async function load(scriptPath: string, luaPath?: string): Promise<LuaScript> {
  const s = await LuaScript.load({ scriptPath, catalog: KEMI_CATALOG, modules: [outModule], log, luaPath });
  open.push(s);
  return s;
}

function run(s: LuaScript, fn = 'f'): RunOutcome {
  const r = s.run(fn, ctx());
  if (r instanceof Promise) throw new Error('suspended');
  return r;
}

/** Runs `body` as the function f of a script in its own folder; returns what it reported. */
async function lua(body: string): Promise<string[]> {
  const d = dir();
  writeFileSync(join(d, 'r.lua'), `function f()\n${body}\nend`);
  const s = await load(join(d, 'r.lua'));
  const r = run(s);
  if (r.status !== 'ok') throw new Error(JSON.stringify(r));
  return out.splice(0);
}

describe('require and files', () => {
  it('finds a module next to the script whatever the working directory, and nested ones with dots', async () => {
    const d = dir();
    mkdirSync(join(d, 'lib'));
    writeFileSync(join(d, 'helper.lua'), 'local M = {} function M.hi(x) return "hi " .. x end return M');
    writeFileSync(join(d, 'lib', 'util.lua'), 'return { n = 42, name = ... }');
    mkdirSync(join(d, 'pkg'));
    writeFileSync(join(d, 'pkg', 'init.lua'), 'return "pkg-init"');
    writeFileSync(join(d, 'r.lua'), [
      'local h = require "helper"',
      'local u = require "lib.util"',
      'function f() KSR.t.out(h.hi("bob")) KSR.t.out(tostring(u.n) .. " " .. u.name) KSR.t.out(require("pkg"))',
      '  KSR.t.out(tostring(require("helper") == h)) end',
    ].join('\n'));
    expect(process.cwd()).not.toBe(d);
    const s = await load(join(d, 'r.lua'));
    expect(run(s).status).toBe('ok');
    expect(out).toEqual(['hi bob', '42 lib.util', 'pkg-init', 'true']);
    expect(s.sourceFiles).toEqual(expect.arrayContaining([join(d, 'r.lua'), join(d, 'helper.lua'), join(d, 'lib', 'util.lua'), join(d, 'pkg', 'init.lua')]));
  });

  it('follows package.path set by the script and LUA_PATH (";;" is the default path)', async () => {
    const libs = dir();
    const other = dir();
    writeFileSync(join(libs, 'mylib.lua'), 'return "from package.path"');
    writeFileSync(join(other, 'envlib.lua'), 'return "from LUA_PATH"');
    const d = dir();
    writeFileSync(join(d, 'r.lua'), `package.path = "${libs}/?.lua;" .. package.path\nfunction f() KSR.t.out(require "mylib") KSR.t.out(require "envlib") KSR.t.out(package.path) end`);
    const s = await load(join(d, 'r.lua'), `${other}/?.lua;;`);
    expect(run(s).status).toBe('ok');
    expect(out.slice(0, 2)).toEqual(['from package.path', 'from LUA_PATH']);
    expect(out[2]).toBe(`${libs}/?.lua;${d}/?.lua;${d}/?/init.lua;${other}/?.lua;${LUA_DEFAULT_PATH}`);
    expect(scriptLuaPath('/etc/k/route.lua', '/x/?.lua')).toBe('/etc/k/?.lua;/etc/k/?/init.lua;/x/?.lua');
    expect(scriptLuaPath('/etc/k/route.lua', undefined)).toBe(`/etc/k/?.lua;/etc/k/?/init.lua;${LUA_DEFAULT_PATH}`);
  });

  it('reports errors inside required files as file:line', async () => {
    const d = dir();
    writeFileSync(join(d, 'bad.lua'), 'local M = {}\nfunction M.go()\n  error("kaput")\nend\nreturn M');
    writeFileSync(join(d, 'syntax.lua'), 'local x = \nreturn x +');
    writeFileSync(join(d, 'r.lua'), 'local b = require "bad"\nfunction f() b.go() end\nfunction g() require "syntax" end');
    const s = await load(join(d, 'r.lua'));
    const r = run(s);
    expect(r.status).toBe('error');
    expect(r.error).toMatchObject({ file: join(d, 'bad.lua'), line: 3, message: 'kaput' });
    const r2 = run(s, 'g');
    expect(r2.error?.message).toContain(`error loading module 'syntax' from file '${join(d, 'syntax.lua')}'`);
    expect(r2.error?.message).toContain(`${join(d, 'syntax.lua')}:2:`);
  });

  it('refuses C modules with an error naming the module, and lists where it looked', async () => {
    const d = dir();
    writeFileSync(join(d, 'r.lua'), 'function f() require "socket" end\nfunction g() local ok, e = pcall(require, "lfs") KSR.t.out(tostring(ok) .. "|" .. e) end');
    const s = await load(join(d, 'r.lua'));
    const r = run(s);
    expect(r.status).toBe('error');
    expect(r.error?.message).toContain("module 'socket' not found");
    expect(r.error?.message).toContain(`no file '${d}/socket.lua'`);
    expect(r.error?.message).toContain("no C module 'socket': kemi-proxy runs Lua in WebAssembly and cannot load C modules");
    expect(run(s, 'g').status).toBe('ok');
    expect(out[0]).toMatch(/^false\|module 'lfs' not found:/);
  });

  it('a module that requires itself fails as in Lua 5.1 ("loop or previous error"), not by overflowing', async () => {
    const d = dir();
    mkdirSync(join(d, 'tools'));
    writeFileSync(join(d, 'tools', 'json.lua'), 'local json = require "tools.json"\nreturn {}');
    writeFileSync(join(d, 'r.lua'), 'function f() require "tools.json" end');
    const s = await load(join(d, 'r.lua'));
    expect(run(s).error?.message).toContain("loop or previous error loading module 'tools.json'");
    // The script's own path through debug.getinfo, as multi-file KEMI projects set package.path.
    writeFileSync(join(d, 'ok.lua'), 'return 7');
    writeFileSync(join(d, 'r2.lua'), 'local my = debug.getinfo(1).source:match("@?(.*/)")\nfunction f() KSR.t.out(my) KSR.t.out(tostring(require "ok")) end');
    expect(run(await load(join(d, 'r2.lua'))).status).toBe('ok');
    expect(out).toEqual([`${d}/`, '7']);
  });

  it('loadfile and dofile read the real file system', async () => {
    const d = dir();
    writeFileSync(join(d, 'conf.lua'), '#!/usr/bin/lua\nreturn { port = 5080 }');
    writeFileSync(join(d, 'env.lua'), 'return who');
    const res = await lua([
      `local c = dofile("${d}/conf.lua") KSR.t.out(tostring(c.port))`,
      `local fn = loadfile("${d}/env.lua", "t", { who = "sandboxed" }) KSR.t.out(fn())`,
      `local nf, err = loadfile("${d}/none.lua") KSR.t.out(tostring(nf) .. "|" .. err)`,
      `local ok, e = pcall(dofile, "${d}/none.lua") KSR.t.out(e)`,
    ].join('\n'));
    expect(res).toEqual(['5080', 'sandboxed', `nil|cannot open ${d}/none.lua: No such file or directory`, `cannot open ${d}/none.lua: No such file or directory`]);
  });

  it('a reload reads the required files again, and the watcher reloads when one changes', async () => {
    const d = dir();
    writeFileSync(join(d, 'val.lua'), 'return "one"');
    writeFileSync(join(d, 'r.lua'), 'local v = require "val"\nfunction f() KSR.t.out(v) end');
    const host = await ScriptHost.create({ scriptPath: join(d, 'r.lua'), catalog: KEMI_CATALOG, modules: [outModule], log, watch: true, requiredFunctions: [] });
    open.push(host);
    expect(run(host.current).status).toBe('ok');
    writeFileSync(join(d, 'val.lua'), 'return "two"');
    const until = Date.now() + 5000;
    while (host.stats.reloads === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(host.stats.reloads).toBeGreaterThan(0);
    expect(run(host.current).status).toBe('ok');
    expect(out).toEqual(['one', 'two']);
    writeFileSync(join(d, 'val.lua'), 'return "three"');
    await host.reload();
    expect(run(host.current).status).toBe('ok');
    expect(out[out.length - 1]).toBe('three');
  });
});

describe('watching files required inside a route', () => {
  it('a file first required by a callback is watched from then on', async () => {
    const d = dir();
    writeFileSync(join(d, 'late.lua'), 'return "a"');
    writeFileSync(join(d, 'r.lua'), 'function f() KSR.t.out(require "late") end');
    const host = await ScriptHost.create({ scriptPath: join(d, 'r.lua'), catalog: KEMI_CATALOG, modules: [outModule], log, watch: true, requiredFunctions: [] });
    open.push(host);
    expect(host.current.sourceFiles).toEqual([join(d, 'r.lua')]);
    expect(run(host.current).status).toBe('ok');
    expect(host.current.sourceFiles).toContain(join(d, 'late.lua'));
    writeFileSync(join(d, 'late.lua'), 'return "b"');
    const until = Date.now() + 5000;
    while (host.stats.reloads === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(host.stats.reloads).toBe(1);
    expect(run(host.current).status).toBe('ok');
    expect(out).toEqual(['a', 'b']);
  });
});

describe('cjson built-in', () => {
  it('encodes as lua-cjson: arrays, objects, empty tables, escapes, numbers, null', async () => {
    const res = await lua([
      'local cjson = require "cjson"',
      'KSR.t.out(cjson.encode({1, 2, "three", true}))',
      'KSR.t.out(cjson.encode({a = "x/y"}))',
      'KSR.t.out(cjson.encode({}))',
      'KSR.t.out(cjson.encode({[1] = "a", [3] = "c"}))',
      'KSR.t.out(cjson.encode({[0] = "z"}))',
      'KSR.t.out(cjson.encode("q\\"\\\\\\n\\t\\1\\127é"))',
      'KSR.t.out(cjson.encode({3, 3.5, 1/3, -0.0, 1e300, 2^53}))',
      'KSR.t.out(cjson.encode(cjson.null) .. cjson.encode(nil) .. cjson.encode({cjson.null, 1}))',
      'KSR.t.out(cjson.encode({[10] = 1}))',
      'KSR.t.out(tostring(select(2, pcall(cjson.encode, {[20] = 1}))))',
      'KSR.t.out(tostring(select(2, pcall(cjson.encode, {f = print}))))',
      'KSR.t.out(tostring(select(2, pcall(cjson.encode, 0/0))))',
      'KSR.t.out(cjson.encode({{a = {b = {1}}}}))',
      'KSR.t.out(cjson.encode(setmetatable({}, cjson.empty_array_mt)) .. cjson.encode(cjson.empty_array))',
      'cjson.encode_empty_table_as_object(false) KSR.t.out(cjson.encode({}))',
      'KSR.t.out(cjson.encode({[1.5] = true}))',
    ].join('\n'));
    expect(res).toEqual([
      '[1,2,"three",true]',
      '{"a":"x\\/y"}',
      '{}',
      '["a",null,"c"]',
      '{"0":"z"}',
      Buffer.from('"q\\"\\\\\\n\\t\\u0001\\u007fé"', 'utf8').toString('latin1'),
      '[3,3.5,0.33333333333333,-0,1e+300,9.007199254741e+15]',
      'nullnull[null,1]',
      '[null,null,null,null,null,null,null,null,null,1]',
      'Cannot serialise table: excessively sparse array',
      'Cannot serialise function: type not supported',
      'Cannot serialise number: must not be NaN or Infinity',
      '[{"a":{"b":[1]}}]',
      '[][]',
      '[]',
      '{"1.5":true}',
    ]);
  });

  it('decodes as lua-cjson: types, null, unicode, integers print as on Lua 5.1', async () => {
    const res = await lua([
      'local cjson = require "cjson"',
      'local t = cjson.decode(\'{"a": [1, 2.5, "x", true, false, null], "b": {"c": "\\\\u00e9\\\\ud83d\\\\ude00\\\\n"}, "n": 1e3, "neg": -7}\')',
      'KSR.t.out(tostring(t.a[1]) .. " " .. tostring(t.a[2]) .. " " .. t.a[3] .. " " .. tostring(t.a[4]) .. " " .. tostring(t.a[5]))',
      'KSR.t.out(tostring(t.a[6] == cjson.null) .. " " .. type(t.a[6]) .. " " .. #t.a)',
      'KSR.t.out(t.b.c)',
      'KSR.t.out(tostring(t.n) .. " " .. tostring(t.neg) .. " " .. math.type(t.n))',
      'KSR.t.out(tostring(cjson.decode("12345678901234567890")))',
      'KSR.t.out(tostring(cjson.decode(" \\"str\\" ")))',
      'KSR.t.out(cjson.encode(cjson.decode(\'{"list":[]}\')))',
    ].join('\n'));
    expect(res).toEqual([
      '1 2.5 x true false',
      'true userdata 6',
      'é😀\n',
      '1000 -7 integer',
      '1.2345678901235e+19',
      'str',
      '{"list":{}}',
    ].map((s) => Buffer.from(s, 'utf8').toString('latin1')));
  });

  it('gives lua-cjson error messages; cjson.safe returns nil and the message', async () => {
    const res = await lua([
      'local cjson = require "cjson"',
      'local safe = require "cjson.safe"',
      'local function e(s) local ok, m = pcall(cjson.decode, s) KSR.t.out(tostring(ok) .. " " .. m) end',
      'e("") e("{") e("{\\"a\\" 1}") e("[1,]") e("[1 2]") e("{\\"a\\":1,}") e("tru") e("[1] x") e("\\"abc") e("\\"\\\\q\\"")',
      'local v, err = safe.decode("{bad") KSR.t.out(tostring(v) .. " " .. err)',
      'local v2, err2 = safe.encode(print) KSR.t.out(tostring(v2) .. " " .. err2)',
      'KSR.t.out(safe.encode({ok = 1}))',
      'cjson.decode_max_depth(2) e("[[[1]]]")',
    ].join('\n'));
    expect(res).toEqual([
      'false Expected value but found T_END at character 1',
      'false Expected object key string but found T_END at character 2',
      'false Expected colon but found T_NUMBER at character 6',
      'false Expected value but found T_ARR_END at character 4',
      'false Expected comma or array end but found T_NUMBER at character 4',
      'false Expected object key string but found T_OBJ_END at character 8',
      'false Expected value but found invalid token at character 1',
      'false Expected the end but found invalid token at character 5',
      'false Expected value but found unexpected end of string at character 1',
      'false Expected value but found invalid escape code at character 1',
      'nil Expected object key string but found invalid token at character 2',
      'nil Cannot serialise function: type not supported',
      '{"ok":1}',
      'false Found too many nested data structures (3) at character 3',
    ]);
  });

  it('each VM gets its own module state (settings do not leak across loads)', async () => {
    await lua('local cjson = require "cjson" cjson.encode_empty_table_as_object(false) KSR.t.out(cjson.encode({}))');
    const res = await lua('local cjson = require "cjson" KSR.t.out(cjson.encode({}))');
    expect(res).toEqual(['{}']);
  });
});
