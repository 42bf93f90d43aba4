/**
 * The control RPC methods (Kamailio's names): app_lua.*, core.*, tm.stats, stats.get_statistics.
 * Modules with state (usrloc, htable, dispatcher) add theirs where they live.
 */
import type { ProxySource } from './sources.js';
import { RpcError, type RpcServer } from './rpc.js';

const VERSION = '0.1.0';
const startedAt = Date.now();

export function registerCoreRpc(rpc: RpcServer, proxy: ProxySource): void {
  rpc.register('system.listMethods', () => rpc.names());
  rpc.register('core.version', () => `kemi-proxy ${VERSION} (node ${process.version})`);
  rpc.register('core.uptime', () => ({ now: new Date().toISOString(), up_since: new Date(startedAt).toISOString(), uptime: Math.round((Date.now() - startedAt) / 1000) }));
  rpc.register('core.psx', () => [{ PID: process.pid, DSC: 'kemi-proxy worker' }]);
  rpc.register('app_lua.list', () => [{ index: 0, file: proxy.scriptPath, version: proxy.host.stats.reloads }]);
  rpc.register('app_lua.reload', async (params) => {
    if (params.length > 0 && Number(params[0]) !== 0) throw new RpcError(500, 'Reload Failed: no such script index');
    const r = await proxy.host.reload();
    if (!r.ok) throw new RpcError(500, `Reload Failed: ${r.error ?? 'load error'}`);
    return { old: proxy.host.stats.reloads - 1, new: proxy.host.stats.reloads };
  });
  // The operator's SIP message trace: core.sip_trace on|log|off|status [file].
  rpc.register('core.sip_trace', (params) => {
    const [what, file] = params.map(String);
    if (what === 'off') proxy.trace.set('off');
    else if (what === 'on' || what === 'log') proxy.trace.set(file ? { file } : 'log');
    else if (what !== undefined && what !== 'status') throw new RpcError(400, 'usage: core.sip_trace on|off|status [file]');
    return proxy.trace.status();
  });
  rpc.register('tm.stats', () => {
    const tm = proxy.tm;
    if (!tm) throw new RpcError(500, 'tm module not loaded');
    return { current: tm.active, total: tm.stats.created, completed: tm.stats.completed, timeouts: tm.stats.timedOut, absorbed: tm.stats.absorbed, local_replies: tm.stats.localReplies };
  });
  rpc.register('stats.get_statistics', (params) => {
    const s = proxy.stats;
    const all: Record<string, number> = {
      'core:rcv_requests': s.requestsIn,
      'core:rcv_replies': s.repliesIn,
      'core:fwd_requests': s.forwarded,
      'core:fwd_replies': s.repliesRelayed,
      'core:drop_replies': s.repliesDropped,
      'core:err_requests': s.parseErrors,
      'core:script_runs': s.scriptRuns,
      'core:script_errors': s.scriptErrors,
      'sl:sent_replies': s.localReplies.reduce((a, b) => a + b, 0),
    };
    for (const [m, v] of s.requestsByMethod) all[`core:rcv_requests_${m.toLowerCase()}`] = v;
    for (let i = 1; i <= 6; i++) all[`core:rcv_replies_${i}xx`] = s.repliesByClass[i] ?? 0;
    if (proxy.tm) {
      all['tmx:active_transactions'] = proxy.tm.active;
      all['tmx:UAS_transactions'] = proxy.tm.stats.created;
    }
    const want = params.map(String);
    if (want.length === 0 || want.includes('all')) return Object.entries(all).map(([k, v]) => `${k} = ${v}`);
    return Object.entries(all)
      .filter(([k]) => want.some((w) => k === w || k.startsWith(w.endsWith(':') ? w : `${w}:`)))
      .map(([k, v]) => `${k} = ${v}`);
  });
}
