/**
 * KSR.xlog (Kamailio 5.6 src/modules/xlog/xlog.c): log lines whose text expands pseudo-variables
 * ($ci, $rm, $avp(x)...) through the proxy's logger. xlog(level, text) takes Kamailio's level names,
 * case-insensitively and only with the L_ prefix (L_ALERT, L_BUG, L_CRIT2, L_CRIT, L_ERR, L_WARN,
 * L_NOTICE, L_INFO, L_DBG); any other name logs at L_ERR, as ki_xlog does. L_BUG and L_CRIT2 log
 * at crit (the proxy has no separate levels for them). A trailing newline is dropped (the logger
 * writes lines). Every function returns 1, or -1 when the format names something that is not a
 * pseudo-variable (`$ru.end`, `$ci.`, `$nosuch`: Kamailio's PV names include `.`): then nothing is
 * logged but the error, as ki_xlog_ex. Checked against Kamailio: test/e2e/xlog-diff.test.ts.
 */
import type { LogLevel, MsgContext } from '../src/context/msg-context.js';
import { expandFormatStrict, PVS } from '../src/pv/registry.js';
import { defineModule, type KemiArg } from './types.js';
import { str } from './args.js';
import { nameTable } from '../src/lib/name-table.js';

const LEVELS = nameTable<LogLevel>({
  l_dbg: 'dbg', l_info: 'info', l_notice: 'notice', l_warn: 'warn', l_err: 'err', l_crit: 'crit', l_crit2: 'crit', l_alert: 'alert', l_bug: 'crit',
});

function log(ctx: MsgContext, level: LogLevel, text: KemiArg): number {
  const fmt = str(text);
  const out = expandFormatStrict(ctx, fmt);
  if (out === null) {
    if (PVS.of(ctx).firstReport(`xlog format ${fmt}`)) ctx.proxy.log(ctx, 'err', `xlog: error in parsing the format (an unknown pseudo-variable): ${fmt.replace(/\n$/, '')}`);
    return -1;
  }
  ctx.proxy.log(ctx, level, out.replace(/\n$/, ''));
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
    return log(ctx, LEVELS[str(level).toLowerCase()] ?? 'err', t);
  } },
]);
