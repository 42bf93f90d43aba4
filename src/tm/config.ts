/**
 * tm parameters with Kamailio's names and defaults (src/modules/tm/config.c), settable through the
 * config's `modparams.tm`.
 */
export interface TmConfig {
  /** Final-response timeout of a branch until a provisional reply (ms). */
  fr_timer: number;
  /** Final-response timeout of an INVITE branch after a provisional reply (ms). */
  fr_inv_timer: number;
  /** RFC 3261 T1, T2, T4 (ms). */
  retr_timer1: number;
  retr_timer2: number;
  retr_timer4: number;
  /** How long a completed transaction lingers to absorb retransmissions (ms). */
  wait_timer: number;
  max_inv_lifetime: number;
  max_noninv_lifetime: number;
  auto_inv_100: boolean;
  auto_inv_100_reason: string;
  restart_fr_on_each_reply: boolean;
  remap_503_500: boolean;
  reply_408_reason: string;
  /** Upper bound of live transactions; beyond it new requests are refused with 503. */
  max_transactions: number;
  /** xavp names for t_load_contacts / t_next_contacts ('' disables them, as in Kamailio). */
  contacts_avp: string;
  contact_flows_avp: string;
}

export function tmConfig(params: Record<string, string | number> | undefined): TmConfig {
  const p = params ?? {};
  const num = (k: string, d: number): number => (p[k] !== undefined ? Number(p[k]) : d);
  const bool = (k: string, d: boolean): boolean => (p[k] !== undefined ? Number(p[k]) !== 0 : d);
  const str = (k: string, d: string): string => (p[k] !== undefined ? String(p[k]) : d);
  return {
    fr_timer: num('fr_timer', 30_000),
    fr_inv_timer: num('fr_inv_timer', 120_000),
    retr_timer1: num('retr_timer1', 500),
    retr_timer2: num('retr_timer2', 4000),
    retr_timer4: num('retr_timer4', 5000),
    wait_timer: num('wait_timer', 5000),
    max_inv_lifetime: num('max_inv_lifetime', 180_000),
    max_noninv_lifetime: num('max_noninv_lifetime', 32_000),
    auto_inv_100: bool('auto_inv_100', true),
    auto_inv_100_reason: str('auto_inv_100_reason', 'trying -- your call is important to us'),
    restart_fr_on_each_reply: bool('restart_fr_on_each_reply', true),
    remap_503_500: bool('remap_503_500', true),
    reply_408_reason: str('reply_408_reason', 'Request Timeout'),
    max_transactions: num('max_transactions', 200_000),
    contacts_avp: str('contacts_avp', ''),
    contact_flows_avp: str('contact_flows_avp', ''),
  };
}
