/**
 * KSR.acc: acc_log_request's record, modparam checks, and the exports that must fail naming
 * themselves. Transaction accounting (answered / missed calls) is compared line for line with
 * Kamailio's in test/e2e/kamailio-basic.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import acc, { ACC, type AccState } from '../../kemi/acc.js';
import pv from '../../kemi/pv.js';
import { MemoryStore } from '../../src/state/memory-store.js';
import type { ModuleEnv } from '../../kemi/types.js';
import { TmCallbackList } from '../../src/tm/callbacks.js';
import type { TransactionLayer } from '../../src/tm/transaction-layer.js';
import { call, context, services, type Recorded, testEnv } from './helpers.js';

const rec: Recorded = { replies: [], forwards: [], logs: [] };
let loaded: AccState | undefined;
/** acc's init is synchronous (its modparam errors throw at once); its state goes where ACC finds it. */
function init(params: ModuleEnv['params']): AccState {
  // acc's init uses only the layer's callback list.
  const tm = { callbacks: new TmCallbackList() } as unknown as TransactionLayer;
  const env = testEnv({ params, allParams: {}, state: new MemoryStore(), proxy: services(rec), tm, log: () => undefined });
  const a = acc.init!(env);
  if (a instanceof Promise) throw new Error('acc init is expected to be synchronous');
  env.modules.set(ACC, a);
  loaded = a;
  return a;
}
afterEach(async () => {
  if (loaded) await acc.close?.(loaded);
  loaded = undefined;
  rec.logs.length = 0;
});
void pv;

describe('KSR.acc', () => {
  it('acc_log_request writes "ACC: request accounted:" with the core fields and log_extra at log_level', () => {
    init({ log_extra: 'src_user=$fU;src_ip=$si;dst_user=$rU;missing=$hdr(X-None)', log_level: 2 });
    const { ctx } = context();
    expect(call(acc, 'acc_log_request', ctx, '404 Not Here')).toBe(1);
    const line = rec.logs.at(-1)!;
    expect(line.level).toBe('info');
    expect(line.text).toMatch(/^ACC: request accounted: timestamp=\d+;method=INVITE;from_tag=[^;]+;to_tag=;call_id=[^;]+;code=404;reason=Not Here;src_user=alice;src_ip=192\.0\.2\.10;dst_user=bob;missing=$/);
    expect(call(acc, 'acc_log_request', ctx, 'no code')).toBe(1);
    expect(rec.logs.at(-1)!.text).toContain(';code=;reason=no code;');
  });

  it('refuses what it does not do: database accounting, unknown PVs in log_extra, bad failed_filter', () => {
    expect(() => init({ db_flag: 1 })).toThrow(/db_flag is not supported/);
    expect(() => init({ log_extra: 'x=$nosuchpv' })).toThrow(/nosuchpv/);
    expect(() => init({ failed_filter: '200' })).toThrow(/failed_filter/);
    init({});
    expect(() => call(acc, 'acc_db_request', context().ctx, '200 OK', 'acc')).toThrow(/KSR\.acc\.acc_db_request: not implemented/);
    expect(() => call(acc, 'acc_request', context().ctx, '200 OK', 'acc')).toThrow(/KSR\.acc\.acc_request: not implemented/);
  });
});
