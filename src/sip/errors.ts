/**
 * A message that cannot be accepted. `status` is the response code a request with this defect
 * gets (400, 505, 416...), or 0 when the message must be dropped without an answer.
 */
export class SipParseError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'SipParseError';
  }
}

export const bad = (reason: string, status = 400): SipParseError => new SipParseError(status, reason);
