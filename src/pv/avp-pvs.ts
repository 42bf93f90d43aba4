/**
 * $avp(name) (a stack of values per message, newest first) and $xavp(name[i]=>field[j]) (lists
 * of items with fields), with Kamailio's index, [*] and $null rules (pv_get_avp, pv_get_xavp).
 */
import type { MsgContext, PvValue } from '../context/msg-context.js';
import { PV_IDX_ALL, type PvRegistry } from './registry.js';

function avpValues(ctx: MsgContext, name: string): PvValue[] | undefined {
  return ctx.avps.get(name);
}

/** `name[idx]=>field[idx]` of $xavp(...): indexes are numbers (negative from the end) or `*`. */
interface XavpRef {
  root: string;
  rootIdx: number | '*' | null;
  field: string | null;
  fieldIdx: number | '*' | null;
}

function splitIndex(s: string): [string, number | '*' | null] {
  const m = /^(.*)\[(-?\d+|\*)\]$/.exec(s);
  if (!m) return [s, null];
  return [m[1]!, m[2] === '*' ? '*' : Number(m[2])];
}

function xavpRef(arg: string): XavpRef {
  const i = arg.indexOf('=>');
  const [root, rootIdx] = splitIndex(i < 0 ? arg : arg.slice(0, i));
  if (i < 0) return { root, rootIdx, field: null, fieldIdx: null };
  const [field, fieldIdx] = splitIndex(arg.slice(i + 2));
  return { root, rootIdx, field, fieldIdx };
}

const at = <T>(list: T[], idx: number): T | undefined => list[idx < 0 ? list.length + idx : idx];

export function registerAvpPvs(reg: PvRegistry): void {
  const registerPv = reg.register.bind(reg);
  registerPv('avp', {
    get: (c, name, index) => {
      const vs = avpValues(c, name);
      if (!vs || vs.length === 0) return null;
      // As Kamailio: [*] joins every value with ", "; a negative index finds nothing.
      if (index === PV_IDX_ALL) return vs.join(', ');
      if (index !== null && index < 0) return null;
      return vs[index ?? 0] ?? null;
    },
    set: (c, name, v, index) => {
      if (v === null) {
        // As Kamailio: $avp(x) = $null removes the newest value; $(avp(x)[i]) the i-th.
        const vs = c.avps.get(name);
        if (!vs) return;
        if (index === PV_IDX_ALL) {
          c.avps.delete(name);
          return;
        }
        vs.splice(index === null ? 0 : index < 0 ? vs.length + index : index, 1);
        if (vs.length === 0) c.avps.delete(name);
        return;
      }
      const vs = c.avps.get(name);
      if (index === PV_IDX_ALL) c.avps.set(name, [v]);
      else if (index !== null && vs && vs[index] !== undefined) vs[index] = v;
      else if (vs) vs.unshift(v);
      else c.avps.set(name, [v]);
    },
  });
  // Kamailio's pv_get_xavp / pv_set_xavp: `$xavp(x=>f) = v` adds a new x item at the head,
  // `$xavp(x[i]=>f) = v` adds a value to field f of the i-th item (nothing when it does not exist).
  registerPv('xavp', {
    get: (c, arg) => {
      const r = xavpRef(arg);
      const items = c.xavps.get(r.root);
      if (!items || r.rootIdx === '*') return null;
      const item = at(items, r.rootIdx ?? 0);
      if (!item) return null;
      if (r.field === null) return `<<xavp:${r.root}>>`;
      const values = item.get(r.field);
      if (!values || r.fieldIdx === '*') return null;
      return at(values, r.fieldIdx ?? 0) ?? null;
    },
    set: (c, arg, v) => {
      const r = xavpRef(arg);
      const items = c.xavps.get(r.root);
      if (v === null) {
        if (!items) return;
        if (r.field === null) {
          if (r.rootIdx === '*') c.xavps.delete(r.root);
          else {
            const idx = r.rootIdx ?? 0;
            items.splice(idx < 0 ? items.length + idx : idx, 1);
            if (items.length === 0) c.xavps.delete(r.root);
          }
          return;
        }
        const targets = r.rootIdx === '*' ? items : [at(items, r.rootIdx ?? 0)].filter((x) => x !== undefined);
        for (const item of targets) {
          const values = item.get(r.field);
          if (!values) continue;
          if (r.fieldIdx === '*') item.delete(r.field);
          else {
            const idx = r.fieldIdx ?? 0;
            values.splice(idx < 0 ? values.length + idx : idx, 1);
            if (values.length === 0) item.delete(r.field);
          }
        }
        return;
      }
      if (r.field === null) throw new Error(`$xavp(${arg}): single-value xavps (no =>field) are not supported by kemi-proxy`);
      if (r.rootIdx === null) {
        // A new item at the head of the list.
        const list = items ?? [];
        list.unshift(new Map([[r.field, [v]]]));
        c.xavps.set(r.root, list);
        return;
      }
      if (r.rootIdx === '*' || !items) return;
      const item = at(items, r.rootIdx);
      if (!item || r.fieldIdx === '*') return;
      const values = item.get(r.field);
      if (r.fieldIdx === null) item.set(r.field, [v, ...(values ?? [])]);
      else if (values) {
        const idx = r.fieldIdx < 0 ? values.length + r.fieldIdx : r.fieldIdx;
        if (values[idx] !== undefined) values[idx] = v;
      }
    },
  });
}
