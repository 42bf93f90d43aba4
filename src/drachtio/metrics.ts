/** Counters of the drachtio bridge (plain numbers; the metrics endpoint reads them). */
export class DrachtioMetrics {
  /** Apps connected and authenticated now. */
  connectedApps = 0;
  /** Requests the script handed to an app (send_to_app returned 1). */
  handedOver = 0;
  /** send_to_app found no app for the request (-1). */
  noApp = 0;
  /** Handed-over requests an app answered 2xx. */
  answered = 0;
  /** Handed-over requests answered >= 300 (by the app, or by us when it left). */
  failed = 0;
  /** Connections closed for a protocol error, a wrong secret or no authentication in time. */
  badConnections = 0;
  /** Requests apps originated (createUAC, in-dialog requests, CANCEL, ACK). */
  appRequests = 0;
}
