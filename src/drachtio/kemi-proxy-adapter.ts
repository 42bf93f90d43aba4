/**
 * DrachtioHost on kemi-proxy's core: its transports, DNS resolver, tm timers and settings, and its
 * receive-path interceptors. The one file of src/drachtio that knows KemiProxy.
 */
import type { KemiProxy } from '../core/proxy.js';
import { TimerQueue } from '../tm/timer-queue.js';
import { tmConfig } from '../tm/config.js';
import type { DrachtioHost } from './host.js';

export function kemiProxyHost(proxy: KemiProxy, onClose: () => Promise<void> | void): DrachtioHost {
  const timers = proxy.tm?.timers ?? new TimerQueue();
  const tmCfg = proxy.tm?.cfg ?? tmConfig(proxy.cfg.modparams.tm);
  return {
    resolveUri: (uri) => proxy.resolveUri(uri),
    socketFor: (proto, address) => proxy.socketFor(proto, address),
    sockets: () => proxy.sockets(),
    send: (target, data) => proxy.send(target, data),
    sendReplyTo: (req, rcv, reply) => proxy.sendReplyTo(req, rcv, reply, false),
    timers,
    tmCfg,
    serverHeader: proxy.serverHeader,
    log: (level, text) => proxy.logger.log(level, text),
    intercept: (hooks) => {
      proxy.interceptors.push({ onRequest: hooks.onRequest, onReply: hooks.onReply, close: onClose });
    },
  };
}
