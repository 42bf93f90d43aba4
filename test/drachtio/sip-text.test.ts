/** The app's SIP text as the bridge writes it out: header spelling, @localhost, bracketed Contact. */
import { describe, expect, it } from 'vitest';
import { extraHeaderLines, localizeAppHeaders, parseAppSip } from '../../src/drachtio/sip-text.js';

describe('drachtio app SIP text', () => {
  it('writes standard header names in their usual spelling, others as the app wrote them', () => {
    const p = parseAppSip('INVITE sip:a@b SIP/2.0\r\nrequire: 100rel\r\nrack: 1 1 INVITE\r\nsession-expires: 90\r\nx-Custom: 1\r\n\r\n');
    expect(extraHeaderLines(p, new Set())).toBe('Require: 100rel\r\nRAck: 1 1 INVITE\r\nSession-Expires: 90\r\nx-Custom: 1\r\n');
  });

  it('puts our host:port for @localhost in From, To, Contact, P-Asserted-Identity only', () => {
    const p = parseAppSip('INVITE sip:a@b SIP/2.0\r\nFrom: <sip:app@localhost>;tag=1\r\nContact: sip:app@localhost:5080;expires=60\r\n' +
      'P-Asserted-Identity: <sip:pai@localhost>\r\nX-Other: sip:x@localhost\r\nTo: sip:bob@localhost.example\r\n\r\n');
    localizeAppHeaders(p, '10.0.0.1:5060');
    const v = Object.fromEntries(p.headers.map((h) => [h.name, h.value]));
    expect(v.From).toBe('<sip:app@10.0.0.1:5060>;tag=1');
    expect(v.Contact).toBe('<sip:app@10.0.0.1:5060>;expires=60');
    expect(v['P-Asserted-Identity']).toBe('<sip:pai@10.0.0.1:5060>');
    expect(v['X-Other']).toBe('sip:x@localhost');
    expect(v.To).toBe('sip:bob@localhost.example');
  });

  it('leaves a Contact that is already a name-addr, a list or * as it is', () => {
    for (const c of ['"A" <sip:a@b>;q=1', '*', '<sip:a@b>, <sip:c@d>']) {
      const p = parseAppSip(`REGISTER sip:b SIP/2.0\r\nContact: ${c}\r\n\r\n`);
      localizeAppHeaders(p, 'h:1');
      expect(p.headers[0]!.value).toBe(c);
    }
  });
});
