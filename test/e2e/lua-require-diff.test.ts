/**
 * The Lua environment next to Kamailio 5.6 (Lua 5.1): a script that puts its own directory on
 * package.path (the debug.getinfo idiom of multi-file KEMI projects), requires modules from it
 * (one nested, one with a dotted name), reads a settings file with dofile, and catches a failing
 * require, answers the same on both.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir, writeScript } from './harness.js';
import { udpRequest } from './udp-client.js';
import { useTargets } from './diff-harness.js';

const targets = useTargets();

const SCRIPT = `
local myPath = debug.getinfo(1).source:match("@?(.*/)")
if not string.match(package.path, myPath) then
  package.path = myPath .. "?.lua;" .. package.path
end
local util = require "lib.util"
local settings = dofile(myPath .. "settings.lua")
local ok_missing = pcall(require, "no.such.module")
local ok_socket = pcall(require, "socket")

function ksr_request_route()
  KSR.sl.sl_send_reply(200, util.greet(KSR.kx.get_fuser()) .. " " .. settings.name .. " " .. tostring(settings.limit * 2)
    .. " " .. tostring(ok_missing) .. " " .. tostring(ok_socket) .. " " .. tostring(require("lib.util") == util))
end
`;

const REQUEST = [
  'OPTIONS sip:bob@kemi.test SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKreq1;rport',
  'Max-Forwards: 20',
  'From: <sip:alice@kemi.test>;tag=f1',
  'To: <sip:bob@kemi.test>',
  'Call-ID: lua-require-1@kemi.test',
  'CSeq: 1 OPTIONS',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

async function answer(target: 'kemi' | 'kamailio'): Promise<string> {
  const dir = tempDir('kemi-req-');
  mkdirSync(join(dir, 'lib'));
  writeFileSync(join(dir, 'lib', 'util.lua'), 'local M = {}\nlocal fmt = require "lib.fmt"\nfunction M.greet(u) return fmt.wrap("hi " .. u) end\nreturn M\n');
  writeFileSync(join(dir, 'lib', 'fmt.lua'), 'return { wrap = function(s) return "[" .. s .. "]" end }\n');
  writeFileSync(join(dir, 'settings.lua'), 'return { name = "edge", limit = 21 }\n');
  const port = await freePort();
  const h = await targets.start(target, writeScript(SCRIPT, dir), { port, kemiModules: ['pv', 'kx', 'sl'] });
  const ex = await udpRequest(port, REQUEST, 1500);
  const line = ex.replies[0]?.split('\r\n')[0];
  if (!line) throw new Error(`${target}: no reply\n${h.output().slice(-3000)}`);
  return line;
}

describe('require and dofile next to Kamailio 5.6', () => {
  it('the same answer from the same multi-file script', async () => {
    const { kemi, kam } = await targets.onBoth((t) => answer(t));
    expect(kemi).toBe('SIP/2.0 200 [hi alice] edge 42 false false true');
    expect(kemi).toBe(kam);
  }, 60_000);
});
