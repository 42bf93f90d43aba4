/**
 * The received / rport parameters a reply's top Via gets (RFC 3261 18.2.1, RFC 3581), as
 * Kamailio's received_test and rport_test decide them.
 */
import type { SipMessage } from './message.js';
import type { Via } from './via.js';

/** Kamailio's received_test: the Via has received or rport, or its host is not the source address. */
export function receivedTest(via: Via, src: string): boolean {
  if (via.received !== undefined || via.rport !== undefined) return true;
  const host = via.host.startsWith('[') ? via.host.slice(1, -1) : via.host;
  return host !== src;
}

/**
 * received / rport for the top Via of a local reply to `req` (Kamailio's received_test and
 * rport_test): received when the Via has rport or received, or its host is not the source
 * address; rport when the Via has one or force_rport() was called. Undefined when neither.
 */
export function replyVia1(req: SipMessage, src: { readonly srcAddress: string; readonly srcPort: number }, forceRport: boolean): { received: string | null; rport: number | null } | undefined {
  let via;
  try {
    via = req.topVia;
  } catch {
    return undefined;
  }
  const received = receivedTest(via, src.srcAddress) ? src.srcAddress : null;
  const rport = via.rport !== undefined || forceRport ? src.srcPort : null;
  return received === null && rport === null ? undefined : { received, rport };
}
