import { describe, expect, it } from 'vitest';
import { bencode } from '../../src/media/bencode.js';
import { buildNgRequest, NgFlagError, splitFlags, type NgMsgInfo } from '../../src/media/ng-request.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

function info(over: Partial<NgMsgInfo> = {}): NgMsgInfo {
  return {
    isRequest: true,
    callId: 'cid-1',
    fromTag: 'ft',
    toTag: '',
    srcIp: '192.0.2.1',
    family: 4,
    sdp: SDP,
    viaBranch: (n) => (n === 1 ? 'z9hG4bK-top' : 'z9hG4bK-second'),
    ...over,
  };
}

const keys = (m: Map<string, unknown>): string[] => [...m.keys()];

describe('flags string parsing (Kamailio parse_flags)', () => {
  it('splits on spaces, values after =, repeated blanks ignored', () => {
    expect(splitFlags('  trust-address  replace-origin direction=external ICE=remove ')).toEqual([
      ['trust-address', null], ['replace-origin', null], ['direction', 'external'], ['ICE', 'remove'],
    ]);
    expect(splitFlags('')).toEqual([]);
    expect(splitFlags('a=')).toEqual([['a', '']]);
  });

  it('builds an offer as Kamailio does: keys, order and lists', () => {
    const r = buildNgRequest('offer', 'replace-origin replace-session-connection ICE=remove RTP/AVP trust-address direction=external direction=internal', info());
    expect(keys(r.dict)).toEqual(['supports', 'sdp', 'ICE', 'direction', 'flags', 'replace', 'transport-protocol', 'call-id', 'received-from', 'from-tag', 'command']);
    expect(r.dict.get('supports')).toEqual(['load limit']);
    expect(r.dict.get('ICE')).toBe('remove');
    expect(r.dict.get('flags')).toEqual(['trust-address']);
    expect(r.dict.get('replace')).toEqual(['origin', 'session-connection']);
    expect(r.dict.get('direction')).toEqual(['external', 'internal']);
    expect(r.dict.get('transport-protocol')).toBe('RTP/AVP');
    expect(r.dict.get('received-from')).toEqual(['IP4', '192.0.2.1']);
    expect(r.dict.get('from-tag')).toBe('ft');
    expect(r.dict.get('command')).toBe('offer');
    expect(r.viaBranch).toBe('');
  });

  it('transport combinations (RTP, AVP, SRTP, AVPF, DTLS)', () => {
    const tp = (f: string): unknown => buildNgRequest('offer', f, info()).dict.get('transport-protocol');
    expect(tp('SRTP')).toBe('RTP/SAVP');
    expect(tp('AVPF')).toBe('RTP/AVPF');
    expect(tp('SRTP AVPF')).toBe('RTP/SAVPF');
    expect(tp('RTP/SAVPF RTP')).toBe('RTP/AVPF');
    expect(tp('RTP/SAVPF AVP')).toBe('RTP/SAVP');
    expect(tp('DTLS AVPF')).toBe('UDP/TLS/RTP/SAVPF');
    expect(tp('UDP/TLS/RTP/SAVP')).toBe('UDP/TLS/RTP/SAVP');
    expect(tp('trust-address')).toBeUndefined();
  });

  it('sub-lists: SDES, T38, rtcp-mux, codec-*; both key=value and key-value forms', () => {
    const r = buildNgRequest('offer', 'SDES-off SDES=no-AES_CM_128_HMAC_SHA1_32 T.38=decode rtcp-mux-demux codec-strip=all codec-offer-PCMA transcode-G722 codec-mask=opus', info());
    expect(r.dict.get('SDES')).toEqual(['off', 'no-AES_CM_128_HMAC_SHA1_32']);
    expect(r.dict.get('T.38')).toEqual(['decode']);
    expect(r.dict.get('rtcp-mux')).toEqual(['demux']);
    expect(r.dict.get('codec')).toEqual(new Map([['strip', ['all']], ['offer', ['PCMA']], ['transcode', ['G722']], ['mask', ['opus']]]));
    expect(bencode(r.dict).toString('latin1')).toContain('5:codecd5:stripl3:alle5:offerl4:PCMAe9:transcodel4:G722e4:maskl4:opusee');
  });

  it('special values: TOS, delete-delay, repacketize, generic key=value', () => {
    const r = buildNgRequest('offer', 'TOS=184 delete-delay=5 repacketize=20ms label=caller', info());
    expect(r.dict.get('TOS')).toBe(184);
    expect(r.dict.get('delete delay')).toBe(5);
    // ... and, as Kamailio falls through to the generic case, the key=value entry as well
    expect(r.dict.get('delete-delay')).toBe('5');
    expect(r.dict.get('repacketize')).toBe(20);
    expect(r.dict.get('label')).toBe('caller');
    expect(() => buildNgRequest('offer', 'repacketize=x', info())).toThrow(/invalid value/);
    expect(() => buildNgRequest('offer', 'repacketize', info())).toThrow(/missing value/);
    // delete-delay without a value is a plain flag
    expect(buildNgRequest('delete', 'delete-delay', info()).dict.get('flags')).toEqual(['delete-delay']);
  });

  it('via-branch=1|2|auto|extra picks the Via branch, or fails as Kamailio does', () => {
    expect(buildNgRequest('offer', 'via-branch=1', info()).dict.get('via-branch')).toBe('z9hG4bK-top');
    expect(buildNgRequest('offer', 'via-branch=2', info()).viaBranch).toBe('z9hG4bK-second');
    expect(buildNgRequest('offer', 'via-branch=auto', info()).viaBranch).toBe('z9hG4bK-top');
    const reply = info({ isRequest: false, toTag: 'tt' });
    expect(buildNgRequest('answer', 'via-branch=auto', reply).viaBranch).toBe('z9hG4bK-second');
    expect(buildNgRequest('offer', 'via-branch=extra', info({ extraId: () => 'xid' })).viaBranch).toBe('xid');
    expect(() => buildNgRequest('offer', 'via-branch=extra', info())).toThrow(/can't get Via branch/);
    expect(() => buildNgRequest('offer', 'via-branch=9', info())).toThrow(NgFlagError);
    expect(() => buildNgRequest('offer', 'via-branch', info())).toThrow(/missing value/);
  });

  it('tags: answer on a reply swaps nothing; offer on a reply swaps From/To; to-tag needed', () => {
    const reply = info({ isRequest: false, toTag: 'tt' });
    const a = buildNgRequest('answer', null, reply);
    expect([a.dict.get('from-tag'), a.dict.get('to-tag')]).toEqual(['ft', 'tt']);
    // late offer in a 200 (offer on a reply): tags swapped
    const o = buildNgRequest('offer', null, reply);
    expect([o.dict.get('from-tag'), o.dict.get('to-tag')]).toEqual(['tt', 'ft']);
    // an answer in a request (ACK): swapped
    const ack = buildNgRequest('answer', null, info({ toTag: 'tt' }));
    expect([ack.dict.get('from-tag'), ack.dict.get('to-tag')]).toEqual(['tt', 'ft']);
    expect(() => buildNgRequest('answer', null, info())).toThrow(/No to-tag present/);
    // delete: no to-tag unless asked
    const del = buildNgRequest('delete', null, info({ toTag: 'tt' }));
    expect(del.dict.has('to-tag')).toBe(false);
    expect(buildNgRequest('delete', 'to-tag', info({ toTag: 'tt' })).dict.get('to-tag')).toBe('tt');
    expect(del.dict.has('sdp')).toBe(false);
    // from-tag= makes the request directional, call-id= replaces the Call-ID
    const d = buildNgRequest('answer', 'from-tag=xx call-id=other', info({ toTag: 'tt' }));
    expect([d.dict.get('from-tag'), d.dict.get('to-tag'), d.dict.get('call-id')]).toEqual(['xx', 'tt', 'other']);
  });

  it('force-answer turns an offer into an answer, and only an offer', () => {
    const r = buildNgRequest('offer', 'force-answer', info({ isRequest: false, toTag: 'tt' }));
    expect(r.op).toBe('answer');
    expect(r.dict.get('command')).toBe('answer');
    expect(() => buildNgRequest('answer', 'force-answer', info({ toTag: 't' }))).toThrow(/cannot force answer/);
  });

  it('media ops send from-tag only when directional; list flags are dropped outside offer/answer', () => {
    const b = buildNgRequest('block media', null, info({ toTag: 'tt' }));
    expect(b.dict.has('from-tag')).toBe(false);
    expect(buildNgRequest('block media', 'directional', info()).dict.get('from-tag')).toBe('ft');
    const q = buildNgRequest('query', 'replace-origin direction=external', info());
    expect(q.dict.has('replace')).toBe(false);
    expect(q.dict.has('direction')).toBe(false);
    expect(q.dict.get('command')).toBe('query');
  });

  it('an offer without SDP fails; IPv6 sources are IP6; sdpfrag adds the fragment flag', () => {
    expect(() => buildNgRequest('offer', null, info({ sdp: null }))).toThrow(/can't extract body/);
    expect(buildNgRequest('offer', null, info({ srcIp: '::1', family: 6 })).dict.get('received-from')).toEqual(['IP6', '::1']);
    expect(buildNgRequest('offer', 'trust-address', info({ sdpFragment: true })).dict.get('flags')).toEqual(['trust-address', 'fragment']);
  });
});
