/**
 * Control RPC: JSON-RPC 2.0 over HTTP POST, like Kamailio's jsonrpcs (loopback only by default).
 * Methods are registered by name; `kemi-proxy ctl <method> [params]` calls them from the shell.
 */
import { createServer, type Server } from 'node:http';

export type RpcParams = readonly (string | number)[];
export type RpcHandler = (params: RpcParams) => unknown;

export class RpcError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

interface JsonRpcRequest {
  jsonrpc?: string;
  method?: unknown;
  params?: unknown;
  id?: unknown;
}

export class RpcServer {
  private readonly methods = new Map<string, RpcHandler>();
  private server: Server | null = null;
  /** Answers methods not registered here (the cluster primary forwards them to its workers). */
  fallback: ((method: string, params: RpcParams) => Promise<unknown>) | null = null;

  register(name: string, fn: RpcHandler): void {
    this.methods.set(name, fn);
  }

  names(): string[] {
    return [...this.methods.keys()].sort();
  }

  /** Runs one JSON-RPC request object and returns the response object (null for notifications). */
  async call(req: JsonRpcRequest): Promise<Record<string, unknown> | null> {
    const id = req.id === undefined ? null : req.id;
    const fail = (code: number, message: string): Record<string, unknown> => ({ jsonrpc: '2.0', error: { code, message }, id });
    if (typeof req.method !== 'string') return fail(-32600, 'Invalid Request');
    const method = req.method;
    const fallback = this.fallback;
    const fn = this.methods.get(method) ?? (fallback ? (p: RpcParams) => fallback(method, p) : undefined);
    if (!fn) return fail(-32601, `Method not found: ${method}`);
    let params: RpcParams = [];
    if (Array.isArray(req.params)) params = req.params.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
    else if (req.params !== undefined) return fail(-32602, 'params must be an array');
    try {
      const result = await fn(params);
      return req.id === undefined ? null : { jsonrpc: '2.0', result: result ?? null, id };
    } catch (e) {
      if (e instanceof RpcError) return fail(e.code, e.message);
      // Modules (which do not import ops) throw errors carrying a numeric code, as Kamailio's rpc->fault.
      const code = (e as { code?: unknown } | null)?.code;
      return fail(typeof code === 'number' ? code : 500, e instanceof Error ? e.message : String(e));
    }
  }

  async listen(addr: string): Promise<number> {
    const i = addr.lastIndexOf(':');
    const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(addr.slice(i + 1));
    this.server = createServer((req, res) => {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 1 << 20) req.destroy();
        else chunks.push(c);
      });
      req.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }));
          return;
        }
        const reqs = Array.isArray(body) ? body : [body];
        Promise.all(reqs.map((r) => this.call((r ?? {}) as JsonRpcRequest))).then((out) => {
          const replies = out.filter((o) => o !== null);
          const payload = Array.isArray(body) ? replies : replies[0] ?? null;
          res.writeHead(200, { 'content-type': 'application/json' }).end(payload === null ? '' : JSON.stringify(payload));
        }, (e: unknown) => res.writeHead(500).end(String(e)));
      });
    });
    await new Promise<void>((res, rej) => {
      this.server!.once('error', rej);
      this.server!.listen(port, host, () => res());
    });
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
