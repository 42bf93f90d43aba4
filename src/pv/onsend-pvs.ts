/**
 * $snd / $sndto / $sndfrom (Kamailio's pv_get_sndto / pv_get_sndfrom, pv_branch.c): where the
 * request that ksr_onsend_route sees is going (ip, port), from which socket, over what (af: 2 or
 * 10, proto: 1 udp .. 6 wss, sproto), and its bytes (buf, len). $null outside the onsend route.
 */
import type { MsgContext, PvValue } from '../context/msg-context.js';
import { PROTO_IDS, type ListenSocket, type Proto } from '../transport/types.js';
import type { PvRegistry } from './registry.js';

export interface OnSendInfo {
  to: { proto: Proto; address: string; port: number };
  from: ListenSocket;
  buf: Buffer;
}

const KEY = 'core:onsend';

/** Gives the onsend route's context what it is about to send. */
export function setOnSendInfo(ctx: MsgContext, info: OnSendInfo): void {
  ctx.moduleData.set(KEY, info);
}

const NAMES = new Set(['ip', 'af', 'port', 'proto', 'buf', 'len', 'sproto']);

function value(info: OnSendInfo, name: string, to: boolean): PvValue | null {
  switch (name) {
    case 'af':
      return info.from.family === 6 ? 10 : 2;
    case 'port':
      return to ? info.to.port : info.from.port;
    case 'proto':
      return PROTO_IDS[info.from.proto] ?? null;
    case 'sproto':
      return info.from.proto;
    case 'buf':
      return info.buf.toString('latin1');
    case 'len':
      return info.buf.length;
    default:
      return to ? info.to.address.replace(/^\[(.*)\]$/, '$1') : info.from.address.replace(/^\[(.*)\]$/, '$1');
  }
}

export function registerOnSendPvs(reg: PvRegistry): void {
  for (const [name, to] of [['snd', true], ['sndto', true], ['sndfrom', false]] as const) {
    reg.register(name, {
      get: (c, arg) => {
        if (!NAMES.has(arg)) {
          if (reg.firstReport(`$${name}(${arg})`)) c.proxy.log(c, 'err', `unknown PV snd name $${name}(${arg})`);
          return null;
        }
        const info = c.moduleData.get(KEY) as OnSendInfo | undefined;
        return info ? value(info, arg, to) : null;
      },
    });
  }
}
