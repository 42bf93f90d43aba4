/**
 * A message that cannot be accepted. `status` is the response code a request with this defect
 * gets (400, 505, 416...), or 0 when the message must be dropped without an answer.
 */
export class SipParseError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    /** The reason phrase of the reply, when not `reason` (Kamailio sanity's text for the same check). */
    readonly phrase?: string,
  ) {
    super(reason);
    this.name = 'SipParseError';
  }
}

export const bad = (reason: string, status = 400, phrase?: string): SipParseError => new SipParseError(status, reason, phrase);
