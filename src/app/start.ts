/**
 * The composition root: builds one proxy instance from a config (state backend, module tables,
 * the core), then what runs beside it: Prometheus metrics and the control RPC in a single process
 * or the primary, the worker link and IPC in a cluster worker. The only layer that imports ops.
 */
import { AggregatorRegistry } from 'prom-client';
import { branchPrefix, KemiProxy } from '../core/proxy.js';
import type { Logger } from '../lib/log.js';
import { openStore } from '../state/open-store.js';
import type { StateStore } from '../state/store.js';
import { KEMI_CATALOG } from '../../kemi/catalog.js';
import type { ProxyConfig } from '../ops/config.js';
import { IpcStore, ownerOf, workerLink } from '../ops/cluster.js';
import { Metrics } from '../ops/metrics.js';
import { RpcServer } from '../ops/rpc.js';
import { registerCoreRpc } from '../ops/rpc-methods.js';
import { selectModules } from './modules.js';
import { DrachtioService } from '../drachtio/service.js';
import { kemiProxyHost } from '../drachtio/kemi-proxy-adapter.js';
import { DRACHTIO_BRIDGE } from '../../kemi/drachtio.js';

export interface RunningProxy {
  readonly proxy: KemiProxy;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Reload the script on SIGHUP (the process's one instance). */
  handleSignals?: boolean;
}

export async function startProxy(cfg: ProxyConfig, logger: Logger, opts: StartOptions = {}): Promise<RunningProxy> {
  const modules = await selectModules(cfg.modules);
  const link = workerLink();
  // Workers share the primary's embedded store; Redis they reach themselves.
  const state: StateStore = link && cfg.state === 'memory' ? new IpcStore() : await openStore(cfg.state, (level, text) => logger.log(level, text));
  const handover = link
    ? { index: link.index, count: link.count, ownerOf: (callId: string) => ownerOf(callId, link.count), ownerOfBranch: link.ownerOfBranch.bind(link), udpBind: link.udpBind, forward: link.forward.bind(link), flush: link.flush.bind(link), shareOverload: link.shareOverload.bind(link), connections: link }
    : null;
  const proxy = new KemiProxy(cfg, { logger, state, modules, catalog: KEMI_CATALOG, handover, handleSignals: opts.handleSignals });
  // drachtio-srf apps hold their calls on one connection: every message of them must reach one process.
  let drachtio: DrachtioService | null = null;
  if (cfg.drachtio && link) logger.err('the drachtio port needs a single process (--workers 1): not started; send_to_app returns -1');
  else if (cfg.drachtio) {
    const d = cfg.drachtio;
    const svc: DrachtioService = new DrachtioService(kemiProxyHost(proxy, () => svc.close()), { listen: d.listen, secret: d.secret, authTimeoutMs: d.authTimeoutMs });
    proxy.modules.set(DRACHTIO_BRIDGE, svc);
    drachtio = svc;
  }
  let metrics: Metrics | null = null;
  let rpc: RpcServer | null = null;
  const stop = async (): Promise<void> => {
    await metrics?.close();
    await rpc?.close();
    await proxy.stop();
    await state.close();
  };
  try {
    await proxy.start();
    if (drachtio) {
      const port = await drachtio.start();
      logger.info(`drachtio apps connect on ${drachtio.listenAddress(port)}`);
    }
    const withRpc = (server: RpcServer): RpcServer => {
      registerCoreRpc(server, proxy);
      for (const table of proxy.moduleRpc) for (const [name, fn] of Object.entries(table)) server.register(name, fn);
      return server;
    };
    if (link) {
      // In a cluster worker: metrics for the primary's aggregation, RPC over IPC, handed-over messages.
      metrics = new Metrics(proxy, null, link);
      AggregatorRegistry.setRegistries([metrics.registry]);
      // Constructing one installs prom-client's worker-side answer to the primary's scrape requests.
      void new AggregatorRegistry();
      rpc = withRpc(new RpcServer());
      await link.attach({
        onMessage: (data, rcv) => proxy.onMessage(data, rcv, true),
        rpc,
        branchPrefix: branchPrefix(),
        onPeerOverload: (a) => proxy.overload.notePeerAdmitted(a),
      });
      return { proxy, stop };
    }
    if (cfg.metrics) {
      metrics = new Metrics(proxy, drachtio?.metrics ?? null);
      const port = await metrics.listen(cfg.metrics);
      logger.info(`metrics on http://${cfg.metrics.replace(/:\d+$/, '')}:${port}/metrics`);
    }
    if (cfg.rpc) {
      rpc = withRpc(new RpcServer());
      const port = await rpc.listen(cfg.rpc);
      logger.info(`control RPC on http://${cfg.rpc.replace(/:\d+$/, '')}:${port}/RPC`);
    }
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
  return { proxy, stop };
}
