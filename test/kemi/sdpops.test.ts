/**
 * KSR.sdpops on a parsed INVITE: the expectations are what Kamailio 5.6.3 returned and relayed for
 * the same SDP and calls (test/e2e/sdpops-diff.test.ts runs them side by side).
 */
import { describe, expect, it } from 'vitest';
import sdpops from '../../kemi/sdpops.js';
import { call, context, INVITE } from './helpers.js';

const SDP = [
  'v=0', 'o=- 123 456 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 4000 RTP/AVP 0 8 18 13 101',
  'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:18 G729/8000', 'a=fmtp:18 annexb=no',
  'a=rtpmap:13 CN/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv', 'a=rtcp:4001',
  'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'a=inactive',
  'a=candidate:1 1 UDP 2130706431 127.0.0.1 4000 typ host', '',
].join('\r\n');

const withSdp = (sdp = SDP): string => INVITE.replace('Content-Length: 5', `Content-Length: ${sdp.length}`).replace(/v=0\r\n$/, sdp);
const bodyOf = (ctx: ReturnType<typeof context>['ctx']): string => ctx.msg.body.toString('latin1');

describe('KSR.sdpops', () => {
  it('tests media, codecs, transport and ICE with Kamailio\'s codes', () => {
    const { ctx } = context(withSdp());
    const c = (name: string, ...a: (string | number)[]): unknown => call(sdpops, name, ctx, ...a);
    expect([c('sdp_with_codecs_by_name', 'PCMU,G729'), c('sdp_with_codecs_by_name', 'nope'), c('sdp_with_codecs_by_id', '0,99'), c('sdp_with_codecs_by_id', '98')]).toEqual([2, -1, 2, 0]);
    expect([c('sdp_with_media', 'AUDIO'), c('sdp_with_media', 'image'), c('sdp_with_active_media', 'video'), c('sdp_with_active_media', 'audio')]).toEqual([1, 0, 0, 1]);
    expect([c('sdp_with_transport', 'RTP/AVP'), c('sdp_with_transport', 'RTP/SAVP'), c('sdp_with_transport_like', 'AVP'), c('sdp_with_ice'), c('sdp_content'), c('sdp_content_flags', 1)]).toEqual([1, -1, 1, 1, 1, 1]);
  });

  it('keep_codecs_by_name stops after CN (its static entry is "13" followed by NULs, as in 5.6.3)', () => {
    const { ctx } = context(withSdp());
    expect(call(sdpops, 'keep_codecs_by_name', ctx, 'PCMU,CN,PCMA', '')).toBe(0);
    expect(bodyOf(ctx)).toContain('m=audio 4000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20');
    expect(bodyOf(ctx)).toContain('m=video 0 RTP/AVP\r\na=inactive');
  });

  it('removes codecs with their attribute lines, media sections and lines by prefix', () => {
    const a = context(withSdp()).ctx;
    expect(call(sdpops, 'remove_codecs_by_name', a, 'PCMA,telephone-event', '')).toBe(0);
    expect(bodyOf(a)).toContain('m=audio 4000 RTP/AVP 0 18 13\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\na=rtpmap:13 CN/8000\r\na=ptime:20');
    const b = context(withSdp()).ctx;
    expect(call(sdpops, 'remove_media', b, 'video')).toBe(1);
    expect(call(sdpops, 'remove_line_by_prefix', b, 'a=rtcp', 'audio')).toBe(1);
    expect(call(sdpops, 'remove_line_by_prefix', b, 'a=rtpmap', '')).toBe(6);
    expect(bodyOf(b).endsWith('m=audio 4000 RTP/AVP 0 8 18 13 101\r\na=fmtp:18 annexb=no\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n')).toBe(true);
    expect(b.msg.serialize().toString('latin1')).toContain(`Content-Length: ${bodyOf(b).length}`);
  });

  it('puts lines and the SDP in AVPs; answers without a body as Kamailio', () => {
    const { ctx } = context(withSdp());
    expect(call(sdpops, 'sdp_get_line_startswith', ctx, '$avp(l)', 'a=rtpmap:101')).toBe(1);
    expect(ctx.avps.get('l')).toEqual(['a=rtpmap:101 telephone-event/8000']);
    expect(call(sdpops, 'sdp_transport', ctx, '$avp(t)')).toBe(1);
    expect(ctx.avps.get('t')).toEqual(['RTP/AVP']);
    expect(call(sdpops, 'sdp_get', ctx, '$var(x)')).toBe(-1);
    const none = context(INVITE.replace('Content-Type: application/sdp\r\n', '').replace('Content-Length: 5', 'Content-Length: 0').replace(/v=0\r\n$/, '')).ctx;
    expect([call(sdpops, 'sdp_with_media', none, 'audio'), call(sdpops, 'sdp_content', none), call(sdpops, 'remove_codecs_by_id', none, '0', ''), call(sdpops, 'sdp_get', none, '$avp(x)'), call(sdpops, 'sdp_transport', none, '$avp(t)')]).toEqual([0, -1, -1, -2, 1]);
  });
});
