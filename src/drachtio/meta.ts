/**
 * The metadata drachtio-server puts before every SIP message it passes to an app
 * (SipMsgData_t::toMessageFormat): `source|bytes|protocol|address|port|time`.
 */
export interface MsgMeta {
  source: 'network' | 'application';
  bytes: number;
  proto: string;
  address: string;
  port: number;
}

/** `HH:MM:SS.uuuuuu` (UTC), as drachtio-server stamps messages. */
export function stackTime(now = Date.now()): string {
  const d = new Date(now);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds() * 1000, 6)}`;
}

export function formatMeta(m: MsgMeta): string {
  return `${m.source}|${m.bytes}|${m.proto}|${m.address.replace(/^\[|\]$/g, '')}|${m.port}|${stackTime()}`;
}
