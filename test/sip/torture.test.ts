/**
 * Every RFC 4475 / RFC 5118 torture message of test/fixtures/sip-torture: valid ones parse with the
 * facts the manifest lists, invalid ones are rejected with the status it names (0 = dropped).
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SipMessage, SipParseError, parseUri, unescape, validateRequest, validateReply } from '../../src/sip/index.js';

const DIR = fileURLToPath(new URL('../fixtures/sip-torture/', import.meta.url));

interface Entry {
  name: string;
  file: string;
  verdict: 'valid' | 'invalid';
  expected?: Record<string, unknown>;
  handling?: { response?: number | string | null; also_acceptable?: number; [k: string]: unknown };
  sha256: string;
}

const manifest = JSON.parse(readFileSync(DIR + 'manifest.json', 'utf8')) as { messages: Entry[] };

/** Manifest prose sometimes follows the value: "x (after unfolding...)". */
const valuePart = (v: unknown): unknown => (typeof v === 'string' ? v.replace(/ \((?:after|i\.e\.).*\)$/, '') : v);

function paramsObject(m: ReadonlyMap<string, string | null>): Record<string, string | null> {
  return Object.fromEntries(m);
}

function parseAndValidate(buf: Buffer): SipMessage {
  const msg = SipMessage.parse(buf, { datagram: true });
  if (msg.isRequest) validateRequest(msg);
  else validateReply(msg);
  return msg;
}

/** How each fact of the manifest is read from a parsed message. */
const FACTS: Record<string, (m: SipMessage, buf: Buffer) => unknown> = {
  method: (m) => m.method,
  request_uri: (m) => m.ruri,
  request_uri_params: (m) => paramsObject(m.parsedRuri().params),
  request_uri_user_unescaped: (m) => unescape(m.parsedRuri().user ?? ''),
  request_uri_host: (m) => m.parsedRuri().host,
  request_uri_port: (m) => m.parsedRuri().port ?? null,
  request_uri_scheme: (m) => m.ruri.slice(0, m.ruri.indexOf(':')),
  call_id: (m) => m.callId,
  cseq_number: (m) => m.cseq.seq,
  cseq_method: (m) => m.cseq.method,
  max_forwards: (m) => m.maxForwards ?? null,
  via_count: (m) => m.vias().length,
  via_branch: (m) => m.topVia.branch ?? null,
  via_transports: (m) => m.vias().map((v) => v.transport),
  via_received: (m) => m.topVia.received,
  top_via_host: (m) => m.topVia.host,
  bottom_via_host: (m) => m.vias().at(-1)!.host,
  second_via_host: (m) => m.vias()[1]!.host,
  content_length: (m) => (m.hasHeader('content-length') ? Number(m.header('content-length')) : null),
  content_length_declared: (_m, buf) => Number(/\r?\n(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec(buf.toString('latin1'))?.[1]),
  content_type: (m) => m.contentType,
  to_uri: (m) => m.to.uri,
  to_uri_port: (m) => parseUri(m.to.uri).port,
  to_tag: (m) => m.to.tag ?? null,
  to_display_name: (m) => m.to.displayName,
  to_user_unescaped: (m) => unescape(parseUri(m.to.uri).user ?? ''),
  to_user_unescaped_hex: (m) => Buffer.from(unescape(parseUri(m.to.uri).user ?? ''), 'latin1').toString('hex').toUpperCase(),
  from_display_name: (m) => m.from.displayName,
  from_uri: (m) => m.from.uri,
  from_tag: (m) => m.from.tag ?? null,
  from_user_unescaped: (m) => unescape(parseUri(m.from.uri).user ?? ''),
  from_params: (m) => Object.keys(paramsObject(m.from.params)).filter((k) => k !== 'tag'),
  subject: (m) => m.header('subject'),
  contact_display_name: (m) => m.contacts()[0]!.displayName,
  contact_uri: (m) => m.contacts()[0]!.uri,
  contact_params: (m) => Object.fromEntries([...m.contacts()[0]!.params].filter(([k]) => k !== 'tag')),
  contact_uri_params: (m) => paramsObject(parseUri(m.contacts()[0]!.uri).params),
  contact_uri_params_unescaped: (m) => Object.fromEntries([...parseUri(m.contacts()[0]!.uri).params].map(([k, v]) => [unescape(k), v === null ? null : unescape(v)])),
  contact_user_unescaped: (m) => unescape(parseUri(m.contacts()[0]!.uri).user ?? ''),
  contact_count: (m) => m.contacts().length,
  contacts: (m) => m.contacts().map((c) => `<${c.uri}>`),
  route: (m) => m.headerList('route'),
  require: (m) => m.headerList('require'),
  proxy_require: (m) => m.headerList('proxy-require'),
  authorization: (m) => m.header('authorization'),
  accept: (m) => m.header('accept'),
  status: (m) => m.status,
  reason_phrase: (m) => m.reason,
  body_length: (m) => m.body.length,
  body_length_used: (m) => m.body.length,
  trailing_octets_ignored: (m, buf) => buf.length - m.serialize().length,
  body_contains_nul: (m) => m.body.includes(0),
  body_parts: (m) => {
    const b = /boundary=("?)([^";]+)\1/.exec(m.contentType ?? '')?.[2];
    return b ? m.body.toString('latin1').split(`--${b}`).length - 2 : 0;
  },
  sdp_connection: (m) => /c=([^\r\n]+)/.exec(m.body.toString('latin1'))?.[1],
  sdp_media_connections: (m) => [...m.body.toString('latin1').matchAll(/m=[^\r\n]+\r?\n(?:[^\r\n]+\r?\n)*?c=([^\r\n]+)/g)].map((x) => x[1]),
};

/** Facts that are objects checked field by field. */
function checkFact(msg: SipMessage, buf: Buffer, key: string, want: unknown): void {
  if (key === 'vias') {
    const vias = msg.vias();
    (want as Record<string, unknown>[]).forEach((w, i) => {
      const v = vias[i]!;
      for (const [k, val] of Object.entries(w)) expect((v as unknown as Record<string, unknown>)[k], `${key}[${i}].${k}`).toEqual(val);
    });
    return;
  }
  if (key === 'unknown_headers') {
    for (const [h, val] of Object.entries(want as Record<string, string>)) expect(msg.header(h), h).toBe(valuePart(val));
    return;
  }
  if (key === 'extension_header') {
    const w = want as { name: string; value?: string; value_utf8_hex?: string };
    const got = msg.header(w.name);
    expect(got, w.name).toBeDefined();
    if (w.value !== undefined) expect(got).toBe(w.value);
    if (w.value_utf8_hex !== undefined) expect(Buffer.from(got!, 'latin1').toString('hex').toUpperCase()).toBe(w.value_utf8_hex);
    return;
  }
  if (key === 'from_params') {
    const names = FACTS.from_params!(msg, buf) as string[];
    for (const k of Object.keys(want as object)) expect(names).toContain(k.toLowerCase());
    return;
  }
  const read = FACTS[key];
  if (!read) throw new Error(`torture test has no reader for fact '${key}'`);
  let got = read(msg, buf);
  let exp = valuePart(want);
  // Display names compare as the raw text between the quotes.
  if (typeof got === 'string' && typeof exp === 'string' && key.endsWith('display_name')) {
    got = got.trim();
    exp = exp.trim();
  }
  // Text facts are UTF-8 in the manifest; the parser keeps raw bytes (latin1 strings).
  if (typeof got === 'string' && typeof exp === 'string' && got !== exp) got = Buffer.from(got, 'latin1').toString('utf8');
  expect(got, key).toEqual(exp);
}

/**
 * The RFC 5118 messages with SDP were rebuilt from printed text and declare a Content-Length that
 * does not match their body (see the corpus README): fix it before parsing, as the README says.
 */
function fixDeclaredLength(e: Entry, buf: Buffer): Buffer {
  if (e.expected?.content_length_declared === undefined) return buf;
  const text = buf.toString('latin1');
  const sep = text.indexOf('\r\n\r\n');
  const bodyLen = buf.length - (sep + 4);
  return Buffer.from(text.replace(/(\r\nContent-Length:[ \t]*)\d+/i, `$1${bodyLen}`), 'latin1');
}

describe('RFC 4475 / RFC 5118 torture messages', () => {
  it('has all 61 messages, byte-exact', () => {
    expect(manifest.messages.length).toBe(61);
    for (const e of manifest.messages) {
      const buf = readFileSync(DIR + e.file);
      expect(createHash('sha256').update(buf).digest('hex'), e.file).toBe(e.sha256);
    }
  });

  for (const e of manifest.messages) {
    it(`${e.name}: ${e.verdict}`, () => {
      const buf = readFileSync(DIR + e.file);
      if (e.verdict === 'valid') {
        const msg = parseAndValidate(fixDeclaredLength(e, buf));
        for (const [k, v] of Object.entries(e.expected ?? {})) checkFact(msg, buf, k, v);
        // The serialized message parses again to the same facts.
        const again = SipMessage.parse(msg.serialize());
        expect(again.callId).toBe(msg.callId);
        return;
      }
      let err: unknown;
      try {
        parseAndValidate(buf);
      } catch (x) {
        err = x;
      }
      expect(err, `${e.name} must be rejected`).toBeInstanceOf(SipParseError);
      const pe = err as SipParseError;
      expect(pe.reason.length).toBeGreaterThan(3);
      const want = e.handling?.response;
      if (want === null) expect(pe.status, `${e.name}: a bad response is dropped`).toBe(0);
      else if (typeof want === 'number') expect([want, e.handling?.also_acceptable]).toContain(pe.status);
      else expect(pe.status, `${e.name}: ${String(want)}`).toBe(400);
    });
  }
});
