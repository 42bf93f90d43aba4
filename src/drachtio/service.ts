/** The drachtio bridge and its control port, as one unit a proxy starts and stops. */
import type { ReceiveInfo } from '../context/msg-context.js';
import type { SipMessage } from '../sip/index.js';
import { DrachtioBridge } from './bridge.js';
import type { DrachtioHost } from './host.js';
import type { DrachtioMetrics } from './metrics.js';
import { DrachtioServer, type DrachtioServerOptions } from './server.js';

export class DrachtioService {
  readonly bridge: DrachtioBridge;
  readonly server: DrachtioServer;
  port = 0;

  constructor(host: DrachtioHost, private readonly opts: DrachtioServerOptions) {
    this.bridge = new DrachtioBridge(host);
    this.server = new DrachtioServer(this.bridge, opts);
  }

  async start(): Promise<number> {
    this.port = await this.server.listen();
    return this.port;
  }

  /** `address:port` as the config names it, with the port actually bound. */
  listenAddress(port: number): string {
    return `${(this.opts.listen ?? '127.0.0.1:9022').replace(/:\d+$/, '')}:${port}`;
  }

  get metrics(): DrachtioMetrics {
    return this.bridge.metrics;
  }

  sendToApp(msg: SipMessage, rcv: ReceiveInfo, tag: string): number {
    return this.bridge.sendToApp(msg, rcv, tag);
  }

  /** Hands the request to the app listening at `addr` (drachtio's outbound connections). */
  sendToAppAt(msg: SipMessage, rcv: ReceiveInfo, addr: string): number | Promise<number> {
    return this.bridge.sendToAppAt(msg, rcv, addr, (a) => this.server.connectOut(a));
  }

  async close(): Promise<void> {
    await this.server.close();
    this.bridge.close();
  }
}
