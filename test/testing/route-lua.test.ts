/**
 * The worked example of issue 16: routes/route.lua through the offline harness (real engine,
 * bindings and tm; no sockets; tm's clock advanced by hand). It relays to a registered user, answers
 * 404 for unknown users, 403 to relaying for foreign domains, 483 when Max-Forwards is used up, and
 * runs its failure route after a 486 and after a timeout.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scriptHarness, type ScriptHarness } from '../../src/testing/index.js';

const ALICE = 'udp:192.0.2.10:5060';
const BOB = 'sip:bob@192.0.2.20:5062';

let h: ScriptHarness;

beforeEach(async () => {
  h = await scriptHarness({
    script: 'routes/route.lua',
    modules: ['pv', 'hdr', 'kx', 'sl', 'tm', 'tmx', 'rr', 'maxfwd', 'siputils', 'sanity', 'textops', 'textopsx', 'corex', 'xlog', 'usrloc', 'registrar'],
    aliases: ['example.org'],
    listen: ['udp:127.0.0.1:5060'],
    state: { contacts: { bob: [BOB] } },
  });
});

afterEach(async () => {
  await h.close();
});

const invite = (ruri: string, from = 'sip:alice@example.org', extra: Record<string, string | number> = {}) =>
  h.request({ method: 'INVITE', ruri, from, headers: extra, body: 'v=0\r\n' }, { from: ALICE });

describe('routes/route.lua through the harness', () => {
  it('relays an INVITE for a registered user to its contact, record-routed and tagged', async () => {
    const step = await invite('sip:bob@example.org');
    const [out] = step.relayed('INVITE');
    expect(out, step.toString()).toBeDefined();
    expect(out!.ruri).toBe(BOB);
    expect(out!.destination).toEqual({ proto: 'udp', address: '192.0.2.20', port: 5062 });
    expect(out!.header('X-Kemi-Script')).toBe('route.lua/1');
    const rr = out!.header('Record-Route');
    expect(rr).toMatch(/^<sip:127\.0\.0\.1:5060;lr;ftag=[^>]+>$/);
    expect(out!.header('Max-Forwards')).toBe('69');
    expect(out!.headers('Via')).toHaveLength(2);
    expect(out!.headers('Via')[0]).toMatch(/^SIP\/2\.0\/UDP 127\.0\.0\.1:5060;branch=z9hG4bK/);
    expect(out!.body).toBe('v=0\r\n');
    // tm's automatic 100 went back to Alice; no final reply yet.
    expect(step.replies.map((r) => `${r.code} -> ${r.destination.address}:${r.destination.port}`)).toEqual(['100 -> 192.0.2.10:5060']);
    expect(step.finalReply).toBeUndefined();
    expect(step.route('ksr_request_route')?.status).toBe('exit');

    // Bob answers 200: relayed to Alice without our Via.
    const ok = await h.reply(out!, 200, { headers: { Contact: `<${BOB}>` } });
    expect(ok.finalReply?.code).toBe(200);
    expect(ok.finalReply?.destination.address).toBe('192.0.2.10');
    expect(ok.finalReply?.headers('Via')).toHaveLength(1);
    expect(ok.finalReply?.header('Record-Route')).toBe(rr);
  });

  it('answers 404 for a user of our domain that is not registered', async () => {
    const step = await invite('sip:carol@example.org');
    expect(step.finalReply?.code).toBe(404);
    expect(step.finalReply?.reason).toBe('Not Found');
    expect(step.relayed()).toEqual([]);
  });

  it('answers 403 to relaying between two foreign domains', async () => {
    const step = await invite('sip:bob@elsewhere.net', 'sip:mallory@other.net');
    expect(step.finalReply?.code).toBe(403);
    expect(step.finalReply?.reason).toBe('Not relaying');
    expect(step.relayed()).toEqual([]);
  });

  it('answers 483 when Max-Forwards is 0', async () => {
    const step = await h.request({ method: 'INVITE', ruri: 'sip:bob@example.org', from: 'sip:alice@example.org', maxForwards: 0 }, { from: ALICE });
    expect(step.finalReply?.code).toBe(483);
    expect(step.finalReply?.reason).toBe('Too Many Hops');
    expect(step.relayed()).toEqual([]);
  });

  it('runs the failure route after a 486 and relays the 486 upstream', async () => {
    const [out] = (await invite('sip:bob@example.org')).relayed('INVITE');
    const step = await h.reply(out!, 486);
    expect(step.routes.map((r) => r.fn)).toContain('ksr_failure_manage');
    expect(step.route('ksr_failure_manage')?.pv('$T_reply_code')).toBe(486);
    // tm ACKs the 486 hop by hop and relays it to Alice.
    const [ack] = step.relayed('ACK');
    expect(ack?.destination).toEqual({ proto: 'udp', address: '192.0.2.20', port: 5062 });
    expect(step.finalReply?.code).toBe(486);
    expect(step.finalReply?.destination.address).toBe('192.0.2.10');
  });

  it('runs the failure route after a timeout and answers 408', async () => {
    const [out] = (await invite('sip:bob@example.org')).relayed('INVITE');
    // No answer at all: tm retransmits the INVITE, then fr_timer (30 s) ends the branch.
    const before = await h.advance(29_000);
    expect(before.finalReply).toBeUndefined();
    expect(before.sent.filter((s) => s.retransmission && s.method === 'INVITE').length).toBeGreaterThan(0);
    const step = await h.advance(1_001);
    expect(step.routes.map((r) => r.fn)).toContain('ksr_failure_manage');
    expect(step.route('ksr_failure_manage')?.pv('$T_reply_code')).toBe(408);
    expect(step.finalReply?.code).toBe(408);
    expect(out).toBeDefined();
  });
});
