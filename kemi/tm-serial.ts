/**
 * Serial forking by q-value: tm's t_load_contacts / t_next_contacts (Kamailio
 * src/modules/tm/t_serial.c, standard mode). Part of KSR.tm; kept apart because it is its own
 * algorithm.
 *
 * t_load_contacts() takes the R-URI (when it is new) and the additional branches, orders them by
 * increasing q (a contact without Path goes after others of the same q, one with a Path before),
 * marks the first of each higher q class, and stores them as records of the xavp named by tm's
 * `contacts_avp` modparam, highest q first; the branches are cleared. t_next_contacts() takes
 * the first record into the R-URI ($du, Path, branch flags) and appends the rest of its q class
 * as branches: the caller then t_relays, and in the failure route calls t_next_contacts again
 * for the next class. Contacts of an +sip.instance already used in this step go to the
 * `contact_flows_avp` xavp instead (RFC 5626 flows; t_next_contact_flow is not provided).
 *
 * Return codes as Kamailio's: load 1 (also when there is nothing to order), -1 without
 * contacts_avp; next 1, -2 no contacts left, -1 without contacts_avp.
 */
import type { Branch, MsgContext, PvValue } from '../src/context/msg-context.js';

interface SerialContact {
  uri: string;
  dst: string | null;
  path: string | null;
  flags: number;
  /** Kamailio's integer q: 0..1000, -1 unspecified. */
  q: number;
  instance: string | null;
  ruid: string | null;
  ua: string | null;
  qFlag: number;
}

type Item = Map<string, PvValue[]>;

const kq = (q: number): number => (q < 0 ? -1 : Math.round(q * 1000));

function fromBranch(b: Branch): SerialContact {
  return { uri: b.uri, dst: b.dstUri, path: b.path, flags: b.flags, q: kq(b.q), instance: b.instance, ruid: b.ruid, ua: b.location_ua, qFlag: 0 };
}

function record(c: SerialContact): Item {
  const m: Item = new Map([['uri', [c.uri]]]);
  if (c.dst) m.set('dst_uri', [c.dst]);
  if (c.path) m.set('path', [c.path]);
  m.set('flags', [c.flags]);
  m.set('q_flag', [c.qFlag]);
  if (c.instance) m.set('instance', [c.instance]);
  if (c.ruid) m.set('ruid', [c.ruid]);
  if (c.ua) m.set('ua', [c.ua]);
  return m;
}

const field = (m: Item, k: string): PvValue | undefined => m.get(k)?.[0];
const text = (m: Item, k: string): string | null => {
  const v = field(m, k);
  return v === undefined ? null : String(v);
};

export function loadContacts(ctx: MsgContext, contactsAvp: string, mode: number): number {
  if (!contactsAvp) {
    ctx.proxy.log(ctx, 'err', 'tm: t_load_contacts: feature has been disabled - to enable define contacts_avp module parameter');
    return -1;
  }
  if (mode !== 0) throw new Error(`KSR.tm.t_load_contacts_mode(${mode}): only the standard mode (0) is implemented in kemi-proxy`);
  const isNew = ctx.ruriIsNew;
  const nb = ctx.branches.length;
  if (nb === 0 || (nb === 1 && !isNew)) return 1;
  const reg = ctx.moduleData.get('registrar:ruri') as { ruid?: string; instance?: string | null; ua?: string | null; q?: number } | undefined;
  const first: SerialContact = isNew
    ? {
        uri: ctx.msg.ruri, dst: ctx.dstUri, path: ctx.ruriPath, flags: ctx.bflags[0] ?? 0, q: kq(reg?.q ?? -1),
        instance: reg?.instance ?? null, ruid: reg?.ruid ?? null, ua: reg?.ua ?? null, qFlag: 0,
      }
    : fromBranch(ctx.branches[0]!);
  const list: SerialContact[] = [first];
  for (const b of ctx.branches.slice(isNew ? 0 : 1)) {
    const c = fromBranch(b);
    let i = 0;
    while (i < list.length && (list[i]!.q < c.q || (list[i]!.q === c.q && !c.path))) i++;
    list.splice(i, 0, c);
  }
  for (let k = 1; k < list.length; k++) list[k]!.qFlag = list[k - 1]!.q < list[k]!.q ? 1 : 0;
  // xavp_add_value adds at the head: the last added (highest q) ends up first.
  const items = ctx.xavps.get(contactsAvp) ?? [];
  for (const c of list) items.unshift(record(c));
  ctx.xavps.set(contactsAvp, items);
  ctx.branches = [];
  return 1;
}

export function nextContacts(ctx: MsgContext, contactsAvp: string, flowsAvp: string): number {
  if (!contactsAvp) {
    ctx.proxy.log(ctx, 'err', 'tm: t_next_contacts: feature has been disabled - to enable define contacts_avp module parameter');
    return -1;
  }
  const items = ctx.xavps.get(contactsAvp);
  if (!items || items.length === 0) return -2;
  const head = items.shift()!;
  const done = (): number => {
    if (items.length === 0) ctx.xavps.delete(contactsAvp);
    return 1;
  };
  ctx.msg.ruri = text(head, 'uri') ?? ctx.msg.ruri;
  ctx.markRuriNew();
  ctx.dstUri = text(head, 'dst_uri');
  ctx.ruriPath = text(head, 'path');
  ctx.bflags[0] = Number(field(head, 'flags') ?? 0);
  const headInstance = text(head, 'instance');
  ctx.moduleData.set('registrar:ruri', { ruid: text(head, 'ruid'), instance: headInstance, ua: text(head, 'ua'), q: -1 });
  if (Number(field(head, 'q_flag') ?? 0)) return done();
  const seen = new Set<string>();
  if (headInstance) seen.add(headInstance);
  if (flowsAvp) ctx.xavps.delete(flowsAvp);
  while (items.length > 0) {
    const x = items.shift()!;
    const qFlag = Number(field(x, 'q_flag') ?? 0);
    const instance = text(x, 'instance');
    if (instance && seen.has(instance)) {
      // Another flow of a UA instance already being tried.
      if (flowsAvp) ctx.xavps.set(flowsAvp, [...(ctx.xavps.get(flowsAvp) ?? []), x]);
    } else {
      if (instance && !qFlag) seen.add(instance);
      ctx.branches.push({
        uri: text(x, 'uri') ?? '', dstUri: text(x, 'dst_uri'), path: text(x, 'path'), q: -1, flags: Number(field(x, 'flags') ?? 0),
        socket: null, instance, ruid: text(x, 'ruid'), location_ua: text(x, 'ua'),
      });
    }
    if (qFlag) break;
  }
  return done();
}
