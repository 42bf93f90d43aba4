/**
 * Via branch values. RFC 3261 8.1.1.7: every branch starts with the magic cookie. A stateless proxy
 * (16.11) must give a retransmission the same branch as the original, and a CANCEL or non-2xx ACK
 * the branch of its INVITE, so the stateless branch is a hash of what those share.
 */
import { createHash, randomBytes } from 'node:crypto';

export const MAGIC_COOKIE = 'z9hG4bK';

/**
 * What every branch this process makes starts with: the cookie and a process-unique salt, so
 * branches of different processes never collide (and with workers, tell whose a reply is).
 */
export const PROCESS_BRANCH_PREFIX = `${MAGIC_COOKIE}${randomBytes(4).toString('hex')}`;
let counter = 0;

/** A fresh branch for a new client transaction (stateful forwarding). */
export function newBranch(): string {
  counter = (counter + 1) >>> 0;
  return `${PROCESS_BRANCH_PREFIX}${counter.toString(36)}`;
}

/**
 * Stateless branch: the same inputs give the same branch. `topBranch` is the received top Via branch
 * (shared by an INVITE, its retransmissions, its CANCEL and its non-2xx ACK); the others disambiguate
 * requests from RFC 2543 clients whose branches are not unique.
 */
export function statelessBranch(topBranch: string, callId: string, cseqNum: number, ruri: string, dest: string): string {
  const h = createHash('md5').update(topBranch).update('\0').update(callId).update('\0').update(String(cseqNum))
    .update('\0').update(ruri).update('\0').update(dest).digest('hex');
  return `${MAGIC_COOKIE}sl${h.slice(0, 20)}`;
}
