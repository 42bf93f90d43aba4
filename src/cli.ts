#!/usr/bin/env node
/**
 * kemi-proxy command line: `kemi-proxy [options]` runs the proxy; `kemi-proxy ctl <method> [args]`
 * calls the control RPC; `kemi-proxy check` / `types` are src/check/cli.ts; `kemi-proxy test`
 * (scenario files through the offline harness) is src/testing/cli.ts.
 */
import cluster from 'node:cluster';
import { parseCli, USAGE } from './ops/config.js';
import { startProxy, type RunningProxy } from './app/start.js';
import { Logger } from './lib/log.js';
import { UDP_BATCH_FLAG, udpSendsBatched } from './ops/node-flags.js';

async function main(): Promise<void> {
  if (process.argv[2] === 'check' || process.argv[2] === 'types') {
    const { runCheckCli } = await import('./check/cli.js');
    process.exit(await runCheckCli(process.argv.slice(2)));
  }
  if (process.argv[2] === 'test') {
    const { runTestCli } = await import('./testing/cli.js');
    process.exit(await runTestCli(process.argv.slice(3)));
  }
  let cli;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`kemi-proxy: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    process.exit(2);
  }
  if (cli.ctl) {
    const { runCtl } = await import('./ops/ctl.js');
    process.exit(await runCtl(cli.config, cli.ctl.method, cli.ctl.params));
  }
  const cfg = cli.config;
  const log = new Logger(cfg.logLevel, cfg.logFormat);
  if (cfg.workers > 1 && cluster.isPrimary) {
    const { runPrimary } = await import('./ops/cluster.js');
    try {
      await runPrimary(cfg, log);
    } catch (e) {
      log.err(`startup failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    }
    return;
  }
  let proxy: RunningProxy;
  // A bug on one message must not take the proxy down: log it and go on with the next.
  process.on('uncaughtException', (e) => log.err(`uncaught exception: ${e.stack ?? e.message}`));
  process.on('unhandledRejection', (e) => log.err(`unhandled rejection: ${e instanceof Error ? e.stack ?? e.message : String(e)}`));
  if (cluster.isPrimary && !udpSendsBatched()) {
    log.info(`UDP sends: one system call per datagram (node ${UDP_BATCH_FLAG} batches them, as npm start and --workers do)`);
  }
  try {
    proxy = await startProxy(cfg, log, { handleSignals: true });
  } catch (e) {
    log.err(`startup failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
  // Always printed, whatever the log level: scripts and tests wait for it (the primary prints it
  // for a cluster, once every worker is up).
  if (cluster.isPrimary) process.stderr.write(`kemi-proxy ready (script ${cfg.script}, pid ${process.pid})\n`);
  const shutdown = (sig: string): void => {
    log.info(`${sig}: shutting down`);
    proxy.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

void main();
