/**
 * KSR.tmx.t_suspend / t_continue through the script harness: the suspended INVITE waits, a later
 * MESSAGE continues it by $T(id_index) / $T(id_label), and the continue function relays or answers
 * it; never continued, it is answered 408 at fr_timer; left unanswered by the function, 500.
 * (Next to Kamailio: test/e2e/async-diff.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptHarness, type ScriptHarness, type Step } from '../../src/testing/index.js';

let h: ScriptHarness;

beforeAll(async () => {
  h = await scriptHarness({
    script: 'test/testing/scripts/async.lua',
    modules: ['pv', 'hdr', 'kx', 'sl', 'tm', 'tmx', 'xlog'],
    modparams: { tm: { fr_timer: 2000 } },
  });
});

afterAll(async () => {
  await h.close();
});

function ids(step: Step): { index: number; label: number } {
  const line = step.logs.find((l) => /suspended \d+:\d+/.test(l.text));
  if (!line) throw new Error(`no suspend log in:\n${step}`);
  const m = /suspended (\d+):(\d+)/.exec(line.text)!;
  return { index: Number(m[1]), label: Number(m[2]) };
}

async function park(callId: string): Promise<{ index: number; label: number; step: Step }> {
  const step = await h.request({ method: 'INVITE', ruri: 'sip:park@example.org', callId });
  return { ...ids(step), step };
}

function resume(id: { index: number; label: number }, cb = 'ksr_resumed'): Promise<Step> {
  return h.request({ method: 'MESSAGE', ruri: 'sip:resume@example.org', headers: { 'X-Tindex': id.index, 'X-Tlabel': id.label, 'X-Cb': cb } });
}

describe('t_suspend / t_continue', () => {
  it('suspends: only the 100 Trying goes out (as tm for an INVITE), the ids are set', async () => {
    const p = await park('susp-1');
    expect(p.step.replies.map((x) => x.code)).toEqual([100]);
    expect(p.step.relayed('INVITE')).toEqual([]);
    expect(p.index).toBeGreaterThanOrEqual(0);
    expect(p.index).toBeLessThan(65536);
    expect(p.label).toBeGreaterThan(0);
    const other = await park('susp-1b');
    expect(other.label).not.toBe(p.label);
  });

  it('continues in the named function: the request (flags kept) is relayed', async () => {
    const p = await park('susp-2');
    const r = await resume(p);
    expect(r.finalReply?.reason).toBe('Continue 1');
    const [inv] = r.relayed('INVITE');
    expect(inv?.ruri).toBe('sip:park@example.org');
    expect(inv?.destination).toEqual({ proto: 'udp', address: '192.0.2.40', port: 5070 });
    expect(r.logs.some((l) => l.text.includes('resumed flag4=true rU=park'))).toBe(true);
    // The relayed INVITE's answer goes upstream through the resumed transaction.
    const up = await h.reply(inv!, 200, { headers: { Contact: '<sip:b@192.0.2.40:5070>' } });
    expect(up.replies.map((x) => x.code)).toContain(200);
    // A second continue finds nothing suspended.
    const again = await resume(p);
    expect(again.finalReply?.reason).toBe('Continue -1');
  });

  it('t_reply in the continue function answers the suspended request', async () => {
    const p = await park('susp-3');
    const r = await resume(p, 'ksr_resumed_reply');
    const codes = r.replies.map((x) => `${x.code} ${x.reason}`);
    expect(codes).toContain('486 Busy Here Later');
  });

  it('a function that neither relays nor replies: 500 as kill_transaction', async () => {
    const p = await park('susp-4');
    const r = await resume(p, 'ksr_resumed_nothing');
    expect(r.replies.map((x) => x.code)).toContain(500);
  });

  it('unknown ids: -1', async () => {
    const r = await resume({ index: 1, label: 1 });
    expect(r.finalReply?.reason).toBe('Continue -1');
  });

  it('never continued: 408 at fr_timer', async () => {
    const p = await park('susp-5');
    const early = await h.advance(1500);
    expect(early.replies).toEqual([]);
    const late = await h.advance(600);
    expect(late.replies.map((x) => `${x.code} ${x.reason}`)).toContain('408 Request Timeout');
    const r = await resume(p);
    expect(r.finalReply?.reason).toBe('Continue -1');
  });
});

function raw(method: string, callId: string): string {
  return [
    `${method} sip:park@example.org SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsuspcancel1',
    'Max-Forwards: 70',
    'From: <sip:a@example.org>;tag=c1',
    'To: <sip:park@example.org>',
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
    'Contact: <sip:a@192.0.2.10:5060>',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('t_suspend and CANCEL', () => {
  it('a CANCEL answers the suspended INVITE 487; t_continue then runs nothing and returns 1', async () => {
    const id = ids(await h.receive(raw('INVITE', 'susp-c')));
    const c = await h.receive(raw('CANCEL', 'susp-c'));
    expect(c.replies.map((x) => `${x.code} ${x.method ?? ''}`.trim()).sort()).toEqual(['200 CANCEL', '487 INVITE']);
    const r = await resume(id);
    expect(r.finalReply?.reason).toBe('Continue 1');
    expect(r.relayed('INVITE')).toEqual([]);
    expect(r.logs.some((l) => l.text.includes('resumed'))).toBe(false);
  });
});
