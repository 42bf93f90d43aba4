/**
 * RFC 4028 session timers on apps' dialogs, run by the bridge as drachtio-server runs them: the
 * 2xx that sets up or refreshes a session says its interval and who refreshes. When the peer
 * refreshes and does not in time, the session ends with a BYE (Reason "Session timer expired");
 * when we refresh, we send an UPDATE halfway through the interval.
 */
import type { Dialog } from './dialogs.js';

export interface SessionExpires {
  /** Seconds. */
  interval: number;
  refresher?: 'uac' | 'uas';
}

/** `Session-Expires: 1800;refresher=uac` (or its compact form `x`); null when absent or unusable. */
export function parseSessionExpires(v: string | undefined): SessionExpires | null {
  if (!v) return null;
  const m = /^\s*(\d+)\s*(.*)$/.exec(v);
  if (!m) return null;
  const interval = Number(m[1]);
  if (!Number.isSafeInteger(interval) || interval < 1) return null;
  const r = /;\s*refresher\s*=\s*(uac|uas)\b/i.exec(m[2]!)?.[1]?.toLowerCase();
  return r === 'uac' || r === 'uas' ? { interval, refresher: r } : { interval };
}

export interface SessionTimerActions {
  /** We refresh: time to send the refreshing request. */
  refresh(d: Dialog): void;
  /** The peer did not refresh in time. */
  expire(d: Dialog): void;
}

/** Arms (or re-arms) `d`'s session timer. */
export function armSessionTimer(d: Dialog, interval: number, weRefresh: boolean, act: SessionTimerActions): void {
  d.stopSessionTimer();
  d.sessionInterval = interval;
  const ms = interval * 1000;
  // Refresher: at half the interval. Peer: BYE at interval - min(32 s, interval / 3) (RFC 4028 10).
  const due = weRefresh ? ms / 2 : ms - Math.min(32_000, ms / 3);
  d.session = {
    interval, weRefresh,
    timer: setTimeout(() => {
      d.session = null;
      if (d.terminated) return;
      if (weRefresh) act.refresh(d);
      else act.expire(d);
    }, due),
  };
}

/**
 * After a 2xx to INVITE or UPDATE within an app's dialog: the timer its Session-Expires sets, or
 * none. `weAreUac`: we sent the request (refresher=uac, or no refresher, means us, as
 * drachtio-server reads it).
 */
export function applySessionExpires(d: Dialog, se: SessionExpires | null, weAreUac: boolean, act: SessionTimerActions): void {
  if (!se) {
    d.stopSessionTimer();
    return;
  }
  const refresher = se.refresher ?? 'uac';
  armSessionTimer(d, se.interval, (refresher === 'uac') === weAreUac, act);
}
