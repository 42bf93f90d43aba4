/**
 * Names that a SIP peer or a script sends and that Object.prototype also has ("constructor",
 * "toString", ...): every table looked up by such a name must answer "unknown", as Kamailio does,
 * not hand out a function. (Protocol names: test/transport/names.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import core from '../../kemi/core.js';
import kx from '../../kemi/kx.js';
import pv from '../../kemi/pv.js';
import xlog from '../../kemi/xlog.js';
import { envVar, nameTable } from '../../src/lib/name-table.js';
import { PosixRegex } from '../../src/lib/posix-regex.js';
import { canonical } from '../../src/drachtio/sip-text.js';
import { PvRegistry, PVS } from '../../src/pv/registry.js';
import { registerCorePvs } from '../../src/pv/core-pvs.js';
import { call, context } from '../kemi/helpers.js';

const PROTO_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf'];

describe('names of Object.prototype', () => {
  it('find nothing in a name table, and no environment variable', () => {
    const t = nameTable({ udp: 1 });
    for (const n of PROTO_NAMES) {
      expect(t[n]).toBeUndefined();
      expect(envVar(n)).toBeUndefined();
    }
    expect(t.udp).toBe(1);
    expect(Object.isFrozen(t)).toBe(true);
  });

  it('a request method: $rmid is METHOD_OTHER', () => {
    const { ctx } = context(['constructor sip:bob@kemi.test SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKp1', 'From: <sip:a@kemi.test>;tag=1', 'To: <sip:bob@kemi.test>', 'Call-ID: proto-1', 'CSeq: 1 constructor', 'Content-Length: 0', '', ''].join('\r\n'));
    expect(call(pv, 'get', ctx, '$rm')).toBe('constructor');
    expect(call(pv, 'get', ctx, '$rmid')).toBe(524288);
  });

  it('script names: $K(...), $env(...), KSR.kx.get_env, log levels', () => {
    const pvs = new PvRegistry();
    registerCorePvs(pvs, {});
    const { ctx, rec } = context();
    ctx.proxy.modules.set(PVS, pvs);
    expect(call(pv, 'get', ctx, '$K(constructor)')).toBe(2);
    expect(call(pv, 'get', ctx, '$env(constructor)')).toBeNull();
    expect(call(pv, 'get', ctx, '$envn(toString)')).toBeNull();
    expect(call(kx, 'get_env', ctx, 'constructor')).toBeNull();
    expect(call(kx, 'get_envn', ctx, 'valueOf')).toBe(0);
    // An unknown level logs at err, in KSR.log as in KSR.xlog.xlog.
    call(core, 'log', ctx, 'constructor', 'one');
    expect(call(xlog, 'xlog', ctx, 'constructor', 'two')).toBe(1);
    expect(rec.logs).toEqual([{ level: 'err', text: 'one' }, { level: 'err', text: 'two' }]);
  });

  it('a POSIX class name in a script regex, a header name from a drachtio app', () => {
    expect(() => new PosixRegex('[[:constructor:]]')).toThrow('unknown class [:constructor:]');
    expect(new PosixRegex('^[[:digit:]]+$').test('123')).toBe(true);
    expect(canonical('constructor')).toBe('constructor');
    expect(canonical('TOSTRING')).toBe('tostring');
    expect(canonical('i')).toBe('call-id');
  });
});
