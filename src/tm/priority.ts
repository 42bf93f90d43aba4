/**
 * Best-reply selection (RFC 3261 16.7 step 6, with Kamailio's `get_prio` order): the lowest value
 * wins, ties go to the lowest branch index.
 */

/** Authentication and negotiation 4xx that a UAC can act on rank before other 4xx. */
const PREFERRED_4XX = new Set([401, 407, 415, 420, 484]);

export const NO_REPLY_PRIO = 32_000;

export function replyPriority(code: number): number {
  if (code < 100) return NO_REPLY_PRIO;
  const xx = code % 100;
  if (code < 200) return 11_000 + xx;
  if (code < 300) return xx;
  if (code < 400) return 3000 + xx;
  if (code < 500) return (PREFERRED_4XX.has(code) ? 4000 : 4100) + xx;
  if (code < 600) return 5000 + xx;
  if (code < 700) return 1000 + xx;
  return 10_000 + code;
}
