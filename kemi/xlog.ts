/**
 * KSR.xlog (src/modules/xlog): log lines whose text expands pseudo-variables ($ci, $rm, $avp(x)...).
 * xlog(level, text) takes Kamailio's level names (L_DBG, L_INFO, L_NOTICE, L_WARN, L_ERR, L_CRIT,
 * L_ALERT; also without the L_ prefix).
 */
import type { LogLevel, MsgContext } from '../src/core/context.js';
import { expandFormat } from '../src/pv/registry.js';
import { registerCorePvs } from '../src/pv/core-pvs.js';
import { defineModule, type KemiArg } from './types.js';

registerCorePvs();

const str = (v: KemiArg): string => (v === null || v === undefined ? '' : String(v));

const LEVELS: Record<string, LogLevel> = {
  dbg: 'dbg', info: 'info', notice: 'notice', warn: 'warn', err: 'err', crit: 'crit', alert: 'alert', bug: 'crit',
};

function log(ctx: MsgContext, level: LogLevel, text: KemiArg): number {
  ctx.proxy.log(ctx, level, expandFormat(ctx, str(text)).replace(/\n$/, ''));
  return 1;
}

export default defineModule('xlog', [
  { name: 'xdbg', params: ['str'], ret: 'int', fn: (ctx, t) => log(ctx, 'dbg', t) },
  { name: 'xinfo', params: ['str'], ret: 'int', fn: (ctx, t) => log(ctx, 'info', t) },
  { name: 'xnotice', params: ['str'], ret: 'int', fn: (ctx, t) => log(ctx, 'notice', t) },
  { name: 'xwarn', params: ['str'], ret: 'int', fn: (ctx, t) => log(ctx, 'warn', t) },
  { name: 'xerr', params: ['str'], ret: 'int', fn: (ctx, t) => log(ctx, 'err', t) },
  { name: 'xalert', params: ['str'], ret: 'int', fn: (ctx, t) => log(ctx, 'alert', t) },
  { name: 'xcrit', params: ['str'], ret: 'int', fn: (ctx, t) => log(ctx, 'crit', t) },
  { name: 'xlog', params: ['str', 'str'], ret: 'int', fn: (ctx, level, t) => {
    // An unknown level logs at err, as xlog does.
    return log(ctx, LEVELS[str(level).toLowerCase().replace(/^l_/, '')] ?? 'err', t);
  } },
]);
