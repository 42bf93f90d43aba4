/**
 * For the tests that run one script on kemi-proxy and on Kamailio 5.6 and compare what each
 * does: start either target the same way, stop what a test started, run a scenario on both in
 * turn, and catch what a proxy relays to a UDP sink.
 */
import { afterEach } from 'vitest';
import { createSocket } from 'node:dgram';
import { startProxy } from './harness.js';
import { startKamailio } from './kamailio.js';

export type Target = 'kemi' | 'kamailio';

interface Stoppable {
  stop(): Promise<void>;
}

export interface TargetHandle {
  output(): string;
  stop(): Promise<void>;
}

export interface TargetOptions {
  port: number;
  /** KSR modules for kemi-proxy (its defaults when absent). */
  kemiModules?: string[];
  /** More kemi-proxy arguments (a `-c` config with modparams). */
  kemiArgs?: string[];
  /** loadmodule / modparam lines for Kamailio's config. */
  kamailioModules?: string;
}

/** Registers an afterEach that stops everything the test started; call once per test file. */
export function useTargets(): {
  track<H extends Stoppable>(h: H): H;
  start(target: Target, script: string, o: TargetOptions): Promise<TargetHandle>;
  onBoth<T>(run: (target: Target) => Promise<T>): Promise<{ kemi: T; kam: T }>;
  stopAll(): Promise<void>;
} {
  let running: Stoppable[] = [];
  const stopAll = async (): Promise<void> => {
    const list = running;
    running = [];
    await Promise.all(list.map((h) => h.stop()));
  };
  afterEach(stopAll);
  const track = <H extends Stoppable>(h: H): H => (running.push(h), h);
  return {
    track,
    stopAll,
    /** The script on kemi-proxy (UDP, alias kemi.test, as Kamailio's test config has) or on Kamailio with one child. */
    start: async (target, script, o) =>
      track(target === 'kemi'
        ? await startProxy({ script, port: o.port, protos: ['udp'], modules: o.kemiModules, extraArgs: ['--alias', 'kemi.test', ...(o.kemiArgs ?? [])] })
        : await startKamailio(script, { port: o.port, children: 1, modules: o.kamailioModules })),
    /** `run` on kemi-proxy, then, once what it started is stopped, on Kamailio. */
    onBoth: async (run) => {
      const kemi = await run('kemi');
      await stopAll();
      const kam = await run('kamailio');
      return { kemi, kam };
    },
  };
}

/** A UDP socket on 127.0.0.1 that resolves with the first datagram it gets (rejects after `timeoutMs`). */
export async function udpSink(label: string, timeoutMs = 5000): Promise<{ port: number; first: Promise<string>; close(): void }> {
  const sink = createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  const first = new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${label}: nothing reached the sink`)), timeoutMs);
    sink.once('message', (m) => {
      clearTimeout(t);
      resolve(m.toString('latin1'));
    });
  });
  return { port: (sink.address() as { port: number }).port, first, close: () => sink.close() };
}
