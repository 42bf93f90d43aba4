/**
 * Test helpers around the real drachtio-srf (node_modules, unmodified): an app connected to a
 * kemi-proxy drachtio port, typed loosely here (its bundled typings do not match its API).
 */
import { createRequire } from 'node:module';

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface SrfApp {
  connect(opts: { host: string; port: number; secret: string; tags?: string[] }): void;
  disconnect(): void;
  on(ev: string, fn: (...a: any[]) => void): SrfApp;
  invite(fn: (req: any, res: any) => void): void;
  options(fn: (req: any, res: any) => void): void;
  register(fn: (req: any, res: any) => void): void;
  prack(fn: (req: any, res: any) => void): void;
  use(fn: (req: any, res: any, next: () => void) => void): void;
  use(method: string, fn: (req: any, res: any, next: () => void) => void): void;
  createUAS(req: any, res: any, opts: Record<string, unknown>): Promise<any>;
  createUAC(uri: string, opts: Record<string, unknown>, progress?: { cbRequest?: (err: Error | null, req: any) => void; cbProvisional?: (res: any) => void }): Promise<any>;
  createB2BUA(req: any, res: any, uri: string, opts: Record<string, unknown>): Promise<{ uas: any; uac: any }>;
  proxyRequest(req: any, dest: string | string[], opts?: Record<string, unknown>): Promise<any>;
  request(uri: string, opts: Record<string, unknown>, cb?: (err: Error | null, req: any) => void): Promise<any>;
  locals: Record<string, unknown>;
}

const require = createRequire(import.meta.url);
const SrfCtor = require('drachtio-srf') as new () => SrfApp;

export function newSrf(): SrfApp {
  return new SrfCtor();
}

/** Connects and resolves with what the server reported (host ports, version) or rejects. */
export function connectSrf(srf: SrfApp, port: number, secret: string, tags?: string[], timeoutMs = 5000): Promise<{ hostport: string; version: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('srf connect timed out')), timeoutMs);
    srf.on('connect', (err: Error | null, hostport: string, version: string) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve({ hostport, version });
    });
    srf.on('error', () => undefined);
    srf.connect({ host: '127.0.0.1', port, secret, tags });
  });
}

export const SDP_ANSWER = [
  'v=0', 'o=app 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', '',
].join('\r\n');
