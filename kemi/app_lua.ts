/**
 * KSR.app_lua (src/modules/app_lua): run Lua code or a global function from the script.
 * run/runstring act on the routing state and see its globals; dostring/dofile run in a separate
 * environment whose reads fall back to the routing globals (Kamailio uses a second Lua state:
 * what such code defines does not leak into the routing script either way).
 */
import { readFileSync } from 'node:fs';
import type { MsgContext } from '../src/context/msg-context.js';
import type { RunOutcome } from '../src/context/msg-context.js';
import { defineModule, type KemiArg } from './types.js';
import { str } from './args.js';

/** 1 when the call ended normally (KSR.x.exit inside ends only that call), -1 otherwise. */
function code(ctx: MsgContext, what: string, o: RunOutcome): number {
  if (o.status === 'ok' || o.status === 'exit') return 1;
  ctx.proxy.log(ctx, 'err', `app_lua ${what}: ${o.status === 'missing' ? 'no such function' : o.error?.message ?? 'error'}`);
  return -1;
}

function nested(ctx: MsgContext, what: string, fn: string, args: string[]): number | Promise<number> {
  const s = ctx.script;
  if (!s) throw new Error(`KSR.app_lua.${what}: no script is running`);
  const out = s.run(fn, ctx, args);
  return out instanceof Promise ? out.then((o) => code(ctx, what, o)) : code(ctx, what, out);
}

export default defineModule('app_lua', [
  { name: 'dostring', params: ['str'], ret: 'int', fn: (ctx, c) => nested(ctx, 'dostring', '__kemi_dostring', [str(c), '=dostring']) },
  { name: 'dofile', params: ['str'], ret: 'int', fn: (ctx, f) => {
    let text: string;
    try {
      text = readFileSync(str(f), 'latin1');
    } catch (e) {
      ctx.proxy.log(ctx, 'err', `app_lua dofile: cannot read ${str(f)}: ${e instanceof Error ? e.message : String(e)}`);
      return -1;
    }
    return nested(ctx, 'dofile', '__kemi_dostring', [text, `@${str(f)}`]);
  } },
  { name: 'runstring', params: ['str'], ret: 'int', fn: (ctx, c) => nested(ctx, 'runstring', '__kemi_runstring', [str(c), '=runstring']) },
  { name: 'run', params: ['str'], ret: 'int', fn: (ctx, f) => nested(ctx, 'run', str(f), []) },
  { name: 'run_p1', params: ['str', 'str'], ret: 'int', fn: (ctx, f, a) => nested(ctx, 'run_p1', str(f), [str(a)]) },
  { name: 'run_p2', params: ['str', 'str', 'str'], ret: 'int', fn: (ctx, f, a, b) => nested(ctx, 'run_p2', str(f), [str(a), str(b)]) },
  { name: 'run_p3', params: ['str', 'str', 'str', 'str'], ret: 'int', fn: (ctx, f, a, b, c) => nested(ctx, 'run_p3', str(f), [str(a), str(b), str(c)]) },
]);
