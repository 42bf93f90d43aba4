/** What the UAS and UAC halves of the bridge share. */
import type { DrachtioHost } from './host.js';
import type { DialogTable } from './dialogs.js';
import type { DrachtioMetrics } from './metrics.js';
import type { ListenSocket } from '../transport/types.js';
import type { Proto } from '../context/msg-context.js';
import type { SessionTimerActions } from './session-timer.js';

export type CdrKind = 'attempt' | 'start' | 'stop';

export interface BridgeContext {
  readonly host: DrachtioHost;
  readonly dialogs: DialogTable;
  readonly metrics: DrachtioMetrics;
  /** What a session timer does when it fires (refresh with UPDATE, or BYE). */
  readonly sessionActions: SessionTimerActions;
  /** Sends a cdr:<kind> event to one app routing it. */
  cdr(kind: CdrKind, source: 'network' | 'application', sip: string, extra?: string): void;
}

/** `host:port` of a listen socket, IPv6 bracketed. */
export function hostPort(s: ListenSocket): string {
  return `${s.family === 6 ? `[${s.address}]` : s.address}:${s.port}`;
}

/** Our Contact for dialogs over `proto` through socket `s`. */
export function contactFor(s: ListenSocket, proto: Proto): string {
  return `<sip:${hostPort(s)}${proto === 'udp' ? '' : `;transport=${proto}`}>`;
}
