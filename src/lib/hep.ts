/**
 * HEP version 3 (the Homer encapsulation protocol) packets as Kamailio's siptrace builds them
 * (HEP3_PACK_* in sipcapture/hep.h): "HEP3", the total length, then chunks of
 * vendor id (0), type id and length (both including the 6-byte chunk header), network byte order.
 */
import { isIPv4 } from 'node:net';
import { ipBytes } from './ip.js';

export interface HepEndpoint {
  address: string;
  port: number;
}

export interface Hep3Packet {
  /** IP protocol of the traced message: 17 UDP, 6 TCP, 22 (Kamailio's stand-in) for TLS/WS, 132 SCTP. */
  ipProto: number;
  src: HepEndpoint;
  dst: HepEndpoint;
  /** Capture time in microseconds since the epoch. */
  timeUs: number;
  /** 1 SIP, 100 log. */
  protoType: number;
  captureId: number;
  correlationId?: string;
  authKey?: string;
  payload: Buffer;
  /** hlog writes the destination port before the source port. */
  dstPortFirst?: boolean;
}

/** The chunk type ids of HEP3. */
export const HEP = {
  FAMILY: 1, IP_PROTO: 2, SRC_IP4: 3, DST_IP4: 4, SRC_IP6: 5, DST_IP6: 6, SRC_PORT: 7, DST_PORT: 8,
  TIME_SEC: 9, TIME_USEC: 10, PROTO_TYPE: 11, CAPTURE_ID: 12, AUTH_KEY: 14, PAYLOAD: 15, CORRELATION_ID: 17,
} as const;

function addr(ip: string): Buffer {
  const b = ipBytes(ip);
  if (!b) throw new Error(`HEP: '${ip}' is not an IP address`);
  return Buffer.from(b);
}

function chunk(type: number, data: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt16BE(0, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt16BE(6 + data.length, 4);
  return Buffer.concat([h, data]);
}

const u8 = (v: number): Buffer => Buffer.from([v & 0xff]);
const u16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v & 0xffff);
  return b;
};
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};

/** Encodes one packet; throws when the two addresses are not of one family. */
export function encodeHep3(p: Hep3Packet): Buffer {
  const v4 = isIPv4(p.src.address);
  if (v4 !== isIPv4(p.dst.address)) throw new Error('HEP: source and destination of different address families');
  const parts: Buffer[] = [
    chunk(HEP.FAMILY, u8(v4 ? 2 : 10)),
    chunk(HEP.IP_PROTO, u8(p.ipProto)),
    chunk(v4 ? HEP.SRC_IP4 : HEP.SRC_IP6, addr(p.src.address)),
    chunk(v4 ? HEP.DST_IP4 : HEP.DST_IP6, addr(p.dst.address)),
  ];
  const ports = [chunk(HEP.SRC_PORT, u16(p.src.port)), chunk(HEP.DST_PORT, u16(p.dst.port))];
  parts.push(...(p.dstPortFirst ? ports.reverse() : ports));
  parts.push(
    chunk(HEP.TIME_SEC, u32(Math.floor(p.timeUs / 1e6))),
    chunk(HEP.TIME_USEC, u32(p.timeUs % 1e6)),
    chunk(HEP.PROTO_TYPE, u8(p.protoType)),
    chunk(HEP.CAPTURE_ID, u32(p.captureId)),
  );
  if (p.correlationId) parts.push(chunk(HEP.CORRELATION_ID, Buffer.from(p.correlationId, 'latin1')));
  if (p.authKey) parts.push(chunk(HEP.AUTH_KEY, Buffer.from(p.authKey, 'latin1')));
  parts.push(chunk(HEP.PAYLOAD, p.payload));
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(6);
  head.write('HEP3', 0, 'latin1');
  head.writeUInt16BE(6 + body.length, 4);
  return Buffer.concat([head, body]);
}

/** The chunks of a HEP3 packet in order (for tests and tools); throws on a malformed one. */
export function decodeHep3(b: Buffer): Array<{ type: number; data: Buffer }> {
  if (b.length < 6 || b.toString('latin1', 0, 4) !== 'HEP3') throw new Error('not a HEP3 packet');
  const total = b.readUInt16BE(4);
  if (total !== b.length) throw new Error(`HEP3 length ${total} != packet length ${b.length}`);
  const out: Array<{ type: number; data: Buffer }> = [];
  let p = 6;
  while (p < total) {
    if (p + 6 > total) throw new Error('truncated HEP3 chunk header');
    const len = b.readUInt16BE(p + 4);
    if (len < 6 || p + len > total) throw new Error('bad HEP3 chunk length');
    out.push({ type: b.readUInt16BE(p + 2), data: b.subarray(p + 6, p + len) });
    p += len;
  }
  return out;
}
