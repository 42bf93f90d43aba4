/**
 * `kemi-proxy ctl <method> [params...]`: calls the control RPC of a running proxy and prints the
 * result as JSON. Numeric-looking params are sent as numbers, like kamcmd does.
 */
import { request } from 'node:http';
import type { ProxyConfig } from './config.js';

export async function rpcCall(addr: string, method: string, params: readonly (string | number)[]): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(addr.slice(i + 1));
  const body = JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 });
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method: 'POST', path: '/RPC', headers: { 'content-type': 'application/json' }, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        if (parsed === null || typeof parsed !== 'object' || (parsed as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
          reject(new Error(`${addr} answered, but not as kemi-proxy's control RPC (HTTP ${res.statusCode ?? '?'}: ${text.slice(0, 80).replace(/\s+/g, ' ')})`));
          return;
        }
        resolve(parsed as { result?: unknown; error?: { code: number; message: string } });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${addr} within 5 s`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') reject(new Error(`nothing answers at ${addr} (is kemi-proxy running with --rpc ${addr}?)`));
      else reject(e);
    });
    req.end(body);
  });
}

export async function runCtl(cfg: ProxyConfig, method: string, params: readonly string[]): Promise<number> {
  if (!cfg.rpc) {
    process.stderr.write('ctl: the control RPC is off in this config\n');
    return 2;
  }
  const args = params.map((p) => (/^-?\d+$/.test(p) ? Number(p) : p));
  try {
    const res = await rpcCall(cfg.rpc, method, args);
    if (res.error) {
      process.stderr.write(`error ${res.error.code}: ${res.error.message}\n`);
      return 1;
    }
    process.stdout.write(JSON.stringify(res.result, null, 2) + '\n');
    return 0;
  } catch (e) {
    process.stderr.write(`ctl: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
