/** Shared fixtures for KSR binding tests: a parsed request, a recording ProxyServices, a caller. */
import { MsgContext, type LogLevel, type Proto, type ProxyServices, type ReceiveInfo } from '../../src/context/msg-context.js';
import { SipMessage } from '../../src/sip/index.js';
import type { KemiArg, KemiModule, KemiValue, ModuleEnv } from '../../kemi/types.js';
import { ModuleStates } from '../../src/context/module-state.js';
import { PVS, PvRegistry } from '../../src/pv/registry.js';
import { registerCorePvs } from '../../src/pv/core-pvs.js';
import { MemoryStore } from '../../src/state/memory-store.js';

export const INVITE = [
  'INVITE sip:bob@kemi.test:5060;transport=udp SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKabc;rport',
  'Max-Forwards: 70',
  'From: "Alice" <sip:alice@example.org>;tag=ft1',
  'To: <sip:bob@kemi.test>',
  'Call-ID: call-1@192.0.2.10',
  'CSeq: 7 INVITE',
  'Contact: <sip:alice@192.0.2.10:5070>',
  'User-Agent: test-ua',
  'Route: <sip:127.0.0.1:5060;lr;ftag=ft1;nat=yes>',
  'X-Multi: a',
  'X-Multi: b',
  'Content-Type: application/sdp',
  'Content-Length: 5',
  '',
  'v=0\r\n',
].join('\r\n').replace(/v=0\r\n$/, 'v=0\r\n');

export const REPLY = [
  'SIP/2.0 486 Busy Here',
  'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours, SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKabc',
  'From: "Alice" <sip:alice@example.org>;tag=ft1',
  'To: <sip:bob@kemi.test>;tag=tt1',
  'Call-ID: call-1@192.0.2.10',
  'CSeq: 7 INVITE',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

export interface Recorded {
  replies: { code: number; reason: string; headers?: string }[];
  forwards: (string | undefined)[];
  logs: { level: LogLevel; text: string }[];
}

export const RCV: ReceiveInfo = { proto: 'udp', srcAddress: '192.0.2.10', srcPort: 5070, localAddress: '127.0.0.1', localPort: 5060, family: 4 };

/** ProxyServices that records what the bindings ask for; we are 127.0.0.1:5060 and kemi.test. */
/** A fresh instance's module states: a PV registry with the core PVs. */
export function newInstance(): ModuleStates {
  const pvs = new PvRegistry();
  registerCorePvs(pvs);
  const modules = new ModuleStates();
  modules.set(PVS, pvs);
  return modules;
}

/**
 * The instance a test file works on: contexts made by context() and modules initialised through
 * testEnv() share it (as messages and modules of one proxy do). resetInstance() starts anew.
 */
let shared = newInstance();
export function resetInstance(): ModuleStates {
  shared = newInstance();
  return shared;
}

export function services(rec: Recorded, modules: ModuleStates = shared): ProxyServices {
  return {
    modules,
    forward: (_c, uri) => (rec.forwards.push(uri), 1),
    sendReply: (c, code, reason, headers) => {
      rec.replies.push({ code, reason, headers });
      c.replied = true;
      return 1;
    },
    sockets: () => [{ proto: 'udp', address: '127.0.0.1', port: 5060, family: 4, id: 'udp:127.0.0.1:5060' }],
    isMyself: (host: string, port?: number, _proto?: Proto) =>
      (host === '127.0.0.1' && (port === undefined || port === 5060)) || host === 'kemi.test',
    log: (_c, level, text) => void rec.logs.push({ level, text }),
    localTag: () => 'localtag',
    forwardReply: (c, code, reason) => (rec.forwards.push(`reply ${code ?? c.msg.status} ${reason ?? c.msg.reason}`), true),
  };
}

export function context(text = INVITE, rcv: ReceiveInfo = RCV): { ctx: MsgContext; rec: Recorded } {
  const rec: Recorded = { replies: [], forwards: [], logs: [] };
  const ctx = new MsgContext(SipMessage.parse(Buffer.from(text, 'latin1')), rcv, services(rec));
  return { ctx, rec };
}

/** Calls KSR.<module>.<name> as the engine would (after argument conversion). */
export function call(mod: KemiModule, name: string, ctx: MsgContext, ...args: KemiArg[]): KemiValue {
  const e = mod.exports.find((x) => x.name === name);
  if (!e) throw new Error(`${mod.name}.${name} is not exported`);
  const r = e.fn(ctx, ...args);
  if (r instanceof Promise) throw new Error(`${name} returned a Promise`);
  return r;
}

export function out(ctx: MsgContext): string {
  return ctx.msg.serialize().toString('latin1');
}

/** A whole ModuleEnv for a module's init from the parts a test sets (the rest defaulted). */
export function testEnv(part: Partial<ModuleEnv> & { proxy?: ProxyServices }): ModuleEnv {
  const proxy = part.proxy ?? services({ replies: [], forwards: [], logs: [] });
  // The module's state goes where the module's KEY.of(ctx) finds it: the same instance.
  return {
    params: {},
    allParams: {},
    state: new MemoryStore(),
    pvs: proxy.modules.get(PVS),
    modules: proxy.modules,
    defines: new Map(),
    log: () => undefined,
    ...part,
    proxy,
  };
}

/**
 * Runs a module's init (Kamailio's mod_init) with env and stores the state under the module's key
 * in env.modules, where `KEY.of(ctx)` finds it for contexts of that instance; returns the state.
 */
export async function loadModule<S>(mod: KemiModule<S>, env: ModuleEnv = testEnv({})): Promise<S> {
  if (!mod.init || !mod.key) throw new Error(`module ${mod.name} has no per-instance state`);
  const st = await mod.init(env);
  env.modules.set(mod.key, st);
  return st;
}
