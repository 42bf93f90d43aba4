/**
 * The overload guard in the proxy: a new dialog it refuses gets 503 + Retry-After before the
 * script runs, and a retransmission of that request (same Call-ID and CSeq number) gets the same
 * answer once the guard admits everyone again, instead of being relayed for a UAC that took the
 * first 503 as the call's end. A new attempt (the next CSeq number) is decided afresh.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptHarness, type ScriptHarness } from '../../src/testing/index.js';

let h: ScriptHarness;

beforeAll(async () => {
  const script = join(mkdtempSync(join(tmpdir(), 'kemi-ovl-')), 'answer.lua');
  writeFileSync(script, 'function ksr_request_route()\n  KSR.sl.sl_send_reply(200, "Answered")\nend\n');
  h = await scriptHarness({ script, modules: ['sl'] });
});

afterAll(async () => {
  await h.close();
});

const invite = (cseq: number): string =>
  [
    'INVITE sip:bob@127.0.0.1 SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKrefused' + cseq,
    'Max-Forwards: 70',
    'From: <sip:alice@kemi.test>;tag=a1',
    'To: <sip:bob@kemi.test>',
    'Call-ID: refused-1@192.0.2.10',
    `CSeq: ${cseq} INVITE`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

describe('overload refusals', () => {
  it('answers a refused request\'s retransmission with the same 503, a new attempt afresh', async () => {
    const guard = h.proxy.overload;
    guard.admitted = 0.1;
    const first = await h.receive(invite(1));
    expect(first.finalReply?.code).toBe(503);
    expect(first.finalReply?.header('retry-after')).toBe('1');
    expect(first.route('ksr_request_route')).toBeUndefined();
    expect(guard.rejected).toBe(1);

    guard.admitted = 1;
    expect(guard.active).toBe(false);
    const again = await h.receive(invite(1));
    // The same bytes as the first 503 (the harness marks a repeat as a retransmission).
    expect(again.sent.map((m) => `${m.code} ${m.retransmission}`)).toEqual(['503 true']);
    expect(again.route('ksr_request_route')).toBeUndefined();
    expect(guard.rejected).toBe(1);

    const retry = await h.receive(invite(2));
    expect(retry.finalReply?.code).toBe(200);
    expect(retry.finalReply?.reason).toBe('Answered');
  });
});
