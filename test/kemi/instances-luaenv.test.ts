/** Two proxy instances with different modparams share no cfgutils or auth_xkeys state. */
import { describe, expect, it } from 'vitest';
import cfgutils from '../../kemi/cfgutils.js';
import authXkeys from '../../kemi/auth_xkeys.js';
import type { KemiModule } from '../../kemi/types.js';
import { MsgContext } from '../../src/context/msg-context.js';
import { SipMessage } from '../../src/sip/index.js';
import { call, INVITE, newInstance, RCV, services, testEnv } from './helpers.js';

/** An instance with these modules initialised with their params; makes its message contexts. */
async function instance(mods: Array<[KemiModule, Record<string, string | number>]>): Promise<() => MsgContext> {
  const modules = newInstance();
  const proxy = services({ replies: [], forwards: [], logs: [] }, modules);
  for (const [m, params] of mods) modules.set(m.key!, await m.init!(testEnv({ params, proxy })));
  return () => new MsgContext(SipMessage.parse(Buffer.from(INVITE, 'latin1')), RCV, proxy);
}

describe('per-instance state', () => {
  it('cfgutils: probabilities and lock sets are separate', async () => {
    const a = await instance([[cfgutils, { initial_probability: 20, lock_set_size: 2 }]]);
    const b = await instance([[cfgutils, { initial_probability: 70 }]]);
    call(cfgutils, 'rand_set_prob', a(), 5);
    expect(call(cfgutils, 'rand_get_prob', a())).toBe(5);
    expect(call(cfgutils, 'rand_get_prob', b())).toBe(70);
    expect(call(cfgutils, 'lock', a(), 'x')).toBe(1);
    // b has no lock set; a's held lock does not block another instance with one.
    expect(call(cfgutils, 'trylock', b(), 'x')).toBe(-1);
    const c = await instance([[cfgutils, { lock_set_size: 2 }]]);
    expect(call(cfgutils, 'trylock', c(), 'x')).toBe(1);
  });

  it('auth_xkeys: each instance checks with its own keys', async () => {
    const a = await instance([[authXkeys, { xkey: 'id=g;name=n;value=alpha' }]]);
    const b = await instance([[authXkeys, { xkey: 'id=g;name=n;value=beta' }]]);
    const ca = a();
    expect(call(authXkeys, 'auth_xkeys_add', ca, 'X-T', 'g', 'sha256', 'd')).toBe(1);
    const token = /X-T: ([0-9a-f]+)/.exec(ca.msg.serialize().toString('latin1'))![1]!;
    const withToken = (mk: () => MsgContext): MsgContext => {
      const c = mk();
      c.msg.appendHeader(`X-T: ${token}\r\n`);
      return new MsgContext(SipMessage.parse(c.msg.serialize()), RCV, c.proxy);
    };
    expect(call(authXkeys, 'auth_xkeys_check', withToken(a), 'X-T', 'g', 'sha256', 'd')).toBe(1);
    expect(call(authXkeys, 'auth_xkeys_check', withToken(b), 'X-T', 'g', 'sha256', 'd')).toBe(-1);
    await expect(instance([[authXkeys, { xkey: 'id=g;name=n' }]])).rejects.toThrow('invalid parameters');
  });
});
