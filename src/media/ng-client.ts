/**
 * rtpengine ng-protocol client with Kamailio's balancing (rtpengine.c): sets of instances with
 * weights, a node picked by a hash of the Call-ID, kept per Call-ID (+ via-branch) so that an
 * answer or a delete goes where the offer went, an instance that does not answer disabled for
 * `disableTimeoutS` and probed again afterwards, requests over UDP with a cookie each, resent
 * `retr` times every `toutMs`. Nothing blocks: every wait is a Promise.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { bdecode, bencode, dictStr, type BDecoded, type BValue } from './bencode.js';
import type { NgRequest } from './ng-request.js';

export interface NgClientConfig {
  /** rtpengine_disable_tout: seconds a dead instance stays disabled (60). */
  disableTimeoutS: number;
  /** rtpengine_tout_ms: wait per try (1000). */
  toutMs: number;
  /** rtpengine_retr: tries per request (5). */
  retr: number;
  /** queried_nodes_limit (30). */
  queriedNodesLimit: number;
  /** aggressive_redetection (1): with every node disabled, probe them all once more. */
  aggressiveRedetection: boolean;
  /** rtpengine_allow_op (0): 1 lets a disabled node keep its calls. */
  allowOp: number;
  /** hash_table_tout: seconds a Call-ID stays bound to its node (3600). */
  hashTableToutS: number;
  /** setid_default (0). */
  setidDefault: number;
}

export const NG_DEFAULTS: NgClientConfig = {
  disableTimeoutS: 60,
  toutMs: 1000,
  retr: 5,
  queriedNodesLimit: 30,
  aggressiveRedetection: true,
  allowOp: 0,
  hashTableToutS: 3600,
  setidDefault: 0,
};

export type NgLog = (level: 'dbg' | 'info' | 'warn' | 'err', text: string) => void;

export class NgNode {
  disabled = false;
  /** Seconds (client clock) after which a disabled node is probed again; Infinity: disabled by hand. */
  recheckAt = 0;
  socket: Socket | null = null;
  constructor(
    /** Overall index, in the order the nodes were added (Kamailio's idx). */
    readonly idx: number,
    readonly url: string,
    readonly host: string,
    readonly port: number,
    readonly family: 4 | 6,
    public weight: number,
  ) {}
}

export interface NgSet {
  readonly id: number;
  readonly nodes: NgNode[];
}

/** What a call ends with: the reply dictionary and the node, or an error already logged. */
export type NgCallResult = { ok: true; reply: Map<string, BDecoded>; node: NgNode } | { ok: false; error: string };

interface Binding {
  node: NgNode;
  expires: number;
}

interface Pending {
  resolve(v: Buffer | null): void;
}

/** Parses one rtpengine URL: udp:host:port, udp6:[addr]:port (22222 when the port is missing). */
export function parseNodeUrl(url: string): { host: string; port: number; family: 4 | 6 } | null {
  const lower = url.toLowerCase();
  if (lower.startsWith('udp6:')) {
    const rest = url.slice(5);
    const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(rest.includes(']') ? rest : `[${rest}]`);
    if (!m) return null;
    const port = m[2] ? Number(m[2]) : 22222;
    return port > 0xffff ? null : { host: m[1]!, port, family: 6 };
  }
  if (lower.startsWith('udp:')) {
    const rest = url.slice(4);
    const i = rest.lastIndexOf(':');
    const host = i >= 0 ? rest.slice(0, i) : rest;
    const ps = i >= 0 ? rest.slice(i + 1) : '';
    if (ps && !/^\d+$/.test(ps)) return null;
    const port = ps ? Number(ps) : 22222;
    if (!host || port > 0xffff) return null;
    return { host, port, family: 4 };
  }
  return null;
}

export class NgClient {
  readonly sets = new Map<number, NgSet>();
  private readonly pending = new Map<string, Pending>();
  private readonly bindings = new Map<string, Map<string, Binding>>();
  private readonly cookiePrefix = `${randomBytes(3).toString('hex')}_${process.pid}`;
  private seq = 0;
  private nodeCount = 0;
  private sweeper: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly cfg: NgClientConfig,
    private readonly log: NgLog,
    /** Seconds, monotonic (Kamailio's ticks). */
    private readonly now: () => number = () => performance.now() / 1000,
  ) {}

  /**
   * One rtpengine_sock value (rtpengine_add_rtpengine_set): `[setid ==] url[=weight] url...`.
   * Throws on a malformed set id or an empty list; skips (with a warning) a bad URL.
   */
  addSocks(spec: string): void {
    let p = spec.trim();
    if (!p) return;
    let setId = this.cfg.setidDefault;
    const eq = p.indexOf('==');
    if (eq >= 0) {
      const idText = p.slice(0, eq).trim();
      if (!/^\d+$/.test(idText)) throw new Error(`rtpengine: invalid set_id value in '${spec}'`);
      setId = Number(idText);
      p = p.slice(eq + 2).trim();
      if (!p) throw new Error(`rtpengine: invalid rtpengine list '${spec}'`);
    }
    let set = this.sets.get(setId);
    if (!set) this.sets.set(setId, (set = { id: setId, nodes: [] }));
    for (const word of p.split(/\s+/)) {
      if (!word) continue;
      let url = word;
      let weight = 1;
      const w = word.indexOf('=');
      if (w >= 0) {
        url = word.slice(0, w);
        weight = Number.parseInt(word.slice(w + 1), 10) || 0;
      }
      const addr = parseNodeUrl(url);
      if (!addr) {
        this.log('warn', `Node address must start with 'udp:' or 'udp6:' and end with a valid port number (unix: and ws:// are not supported here). Ignore '${url}'.`);
        continue;
      }
      const known = set.nodes.find((n) => n.url === url);
      if (known) {
        known.weight = weight;
        continue;
      }
      set.nodes.push(new NgNode(this.nodeCount++, url, addr.host, addr.port, addr.family, weight));
    }
  }

  /** Every node once: the ping Kamailio's first worker sends at start-up (build_rtpp_socks). */
  async probeAll(): Promise<void> {
    const all = [...this.sets.values()].flatMap((s) => s.nodes);
    await Promise.all(all.map(async (n) => (n.disabled = !(await this.test(n, false, true)))));
  }

  // ---- transport ---------------------------------------------------------------------------

  private socketFor(node: NgNode): Socket {
    if (node.socket) return node.socket;
    const s = createSocket(node.family === 6 ? 'udp6' : 'udp4');
    s.on('message', (buf) => this.onMessage(buf));
    s.on('error', (e) => this.log('err', `socket for ${node.url}: ${e.message}`));
    s.unref();
    node.socket = s;
    return s;
  }

  private onMessage(buf: Buffer): void {
    const sp = buf.indexOf(0x20);
    if (sp <= 0) return;
    const cookie = buf.toString('latin1', 0, sp);
    const p = this.pending.get(cookie);
    if (!p) return; // a late answer to a request given up on, or not ours
    this.pending.delete(cookie);
    p.resolve(buf.subarray(sp + 1));
  }

  /**
   * send_rtpp_command: the request with a fresh cookie, sent up to `retr` times, each time
   * waiting `toutMs` for the answer carrying that cookie. null: no answer (or a send error).
   */
  send(node: NgNode, dict: Map<string, BValue> | Record<string, BValue>): Promise<Buffer | null> {
    if (this.closed) return Promise.resolve(null);
    const cookie = `${this.cookiePrefix}_${this.seq++}`;
    const payload = Buffer.concat([Buffer.from(`${cookie} `, 'latin1'), bencode(dict)]);
    const command = dict instanceof Map ? dict.get('command') : dict['command'];
    const sock = this.socketFor(node);
    return new Promise<Buffer | null>((resolve) => {
      let tries = 0;
      let timer: NodeJS.Timeout | null = null;
      const finish = (v: Buffer | null): void => {
        if (timer) clearTimeout(timer);
        this.pending.delete(cookie);
        resolve(v);
      };
      this.pending.set(cookie, { resolve: finish });
      const attempt = (): void => {
        if (this.closed) return finish(null);
        if (tries >= this.cfg.retr) {
          this.log('err', `timeout waiting reply for command "${String(command)}" from RTPEngine <${node.url}>`);
          return finish(null);
        }
        tries++;
        sock.send(payload, node.port, node.host, (err) => {
          if (err) {
            this.log('err', `can't send command "${String(command)}" to RTPEngine <${node.url}>: ${err.message}`);
            finish(null);
          }
        });
        timer = setTimeout(attempt, this.cfg.toutMs);
      };
      attempt();
    });
  }

  /** One ping; true on "pong" (rtpp_test_ping). */
  private async pong(node: NgNode): Promise<boolean> {
    const raw = await this.send(node, { command: 'ping' });
    if (!raw) {
      this.log('err', `proxy did not respond to ping (${node.url})`);
      return false;
    }
    let reply: BDecoded;
    try {
      reply = bdecode(raw);
    } catch {
      reply = '';
    }
    if (dictStr(reply, 'result') !== 'pong') {
      this.log('err', 'proxy responded with invalid response');
      return false;
    }
    return true;
  }

  /** rtpp_test: true when the node is usable (answered "pong", or need not be probed now). */
  async test(node: NgNode, isDisabled: boolean, force: boolean): Promise<boolean> {
    if (node.recheckAt === Infinity) return false; // disabled by hand (rtpengine.enable url 0)
    if (!force) {
      if (!isDisabled) return true;
      if (node.recheckAt > this.now()) return false;
    }
    if (!(await this.pong(node))) {
      node.recheckAt = this.now() + this.cfg.disableTimeoutS;
      return false;
    }
    this.log('info', `rtpengine instance <${node.url}> found, support for it ${force ? '' : 're-'}enabled`);
    return true;
  }

  // ---- selection ---------------------------------------------------------------------------

  private binding(callId: string, viaBranch: string, op: string): Binding | undefined {
    const m = this.bindings.get(callId);
    if (!m) return undefined;
    const now = this.now();
    for (const [vb, b] of m) {
      if (b.expires < now) {
        m.delete(vb);
        continue;
      }
      if (vb === viaBranch || (viaBranch === '' && op === 'delete')) return b;
    }
    if (m.size === 0) this.bindings.delete(callId);
    return undefined;
  }

  private bind(callId: string, viaBranch: string, node: NgNode): void {
    let m = this.bindings.get(callId);
    if (!m) this.bindings.set(callId, (m = new Map()));
    m.set(viaBranch, { node, expires: this.now() + this.cfg.hashTableToutS });
    this.sweeper ??= setInterval(() => this.sweep(), 60_000).unref();
  }

  private unbind(callId: string, viaBranch: string): void {
    const m = this.bindings.get(callId);
    if (!m) return;
    if (viaBranch === '') this.bindings.delete(callId);
    else {
      m.delete(viaBranch);
      if (m.size === 0) this.bindings.delete(callId);
    }
  }

  private sweep(): void {
    const now = this.now();
    for (const [cid, m] of this.bindings) {
      for (const [vb, b] of m) if (b.expires < now) m.delete(vb);
      if (m.size === 0) this.bindings.delete(cid);
    }
  }

  /** Kamailio's hash (RTP_HASH_CALLID): the sum of the Call-ID's bytes as signed chars, & 0xff. */
  static callIdHash(callId: string): number {
    let sum = 0;
    const b = Buffer.from(callId, 'latin1');
    for (const c of b) sum = (sum + (c > 127 ? c - 256 : c)) >>> 0;
    return sum & 0xff;
  }

  /** select_rtpp_node_new: a weighted pick by the Call-ID hash among enabled, unqueried nodes. */
  private async selectNew(set: NgSet, callId: string, queried: ReadonlySet<NgNode>): Promise<NgNode | null> {
    const sum = NgClient.callIdHash(callId);
    let forced = false;
    for (let round = 0; round < 4; round++) {
      let weightSum = 0;
      for (const n of set.nodes) {
        if (n.disabled && n.recheckAt <= this.now()) n.disabled = !(await this.test(n, true, false));
        if (!n.disabled && !queried.has(n)) weightSum += n.weight;
      }
      if (weightSum === 0) {
        if (!this.cfg.aggressiveRedetection || forced) return null;
        forced = true;
        for (const n of set.nodes) n.disabled = !(await this.test(n, true, true));
        continue;
      }
      let cut = sum % weightSum;
      for (const n of set.nodes) {
        if (n.disabled || queried.has(n)) continue;
        if (cut < n.weight) return n;
        cut -= n.weight;
      }
      return null;
    }
    return null;
  }

  /** select_rtpp_node: the node bound to the Call-ID when it is in the set, else a new pick. */
  private async select(set: NgSet, callId: string, viaBranch: string, queried: ReadonlySet<NgNode>, op: string): Promise<NgNode | null> {
    let node: NgNode | null = this.binding(callId, viaBranch, op)?.node ?? null;
    if (!node || !set.nodes.includes(node)) {
      node = await this.selectNew(set, callId, queried);
      if (!node) {
        this.log('err', `rtpengine failed to select new for calllen=${callId.length} callid=${callId}`);
        return null;
      }
    }
    if (!node.disabled) return node;
    // rtpengine_allow_op: keep the calls of a node disabled by hand (any value) or by a timeout (1).
    if (this.cfg.allowOp && (node.recheckAt === Infinity || this.cfg.allowOp === 1)) return node;
    return null;
  }

  /**
   * rtpp_function_call's sending part: pick a node, send, move on to the next node when one does
   * not answer (disabling it), is at its load limit, or is out of sessions or ports.
   */
  async call(set: NgSet, req: NgRequest): Promise<NgCallResult> {
    const queried = new Set<NgNode>();
    for (;;) {
      if (queried.size >= this.cfg.queriedNodesLimit) return this.fail('queried nodes limit reached');
      const node = await this.select(set, req.callId, req.viaBranch, queried, req.op);
      if (!node) return this.fail('no available proxies');
      const raw = await this.send(node, req.dict);
      queried.add(node);
      if (!raw) {
        node.disabled = true;
        node.recheckAt = this.now() + this.cfg.disableTimeoutS;
        continue;
      }
      let reply: BDecoded;
      try {
        reply = bdecode(raw);
      } catch {
        return this.fail(`failed to decode bencoded reply from proxy: ${raw.toString('latin1', 0, 200)}`);
      }
      if (!(reply instanceof Map)) return this.fail(`failed to decode bencoded reply from proxy: ${raw.toString('latin1', 0, 200)}`);
      const result = dictStr(reply, 'result');
      if (result === undefined) return this.fail(`No 'result' dictionary entry in response from proxy ${node.url}`);
      if (result === 'load limit') {
        const m = dictStr(reply, 'message');
        this.log('info', `proxy ${node.url} has reached its load limit${m ? ` (${m})` : ''} - trying next one`);
        continue;
      }
      if (result === 'error') {
        const why = dictStr(reply, 'error-reason');
        if (why === undefined) return this.fail(`proxy return error but didn't give an error reason: ${raw.toString('latin1', 0, 200)}`);
        if (why === 'Parallel session limit reached' || why === 'Ran out of ports') {
          this.log('warn', `proxy ${node.url}: ${why}`);
          continue;
        }
        return this.fail(`proxy replied with error: ${why}`);
      }
      if (!this.binding(req.callId, req.viaBranch, req.op)) this.bind(req.callId, req.viaBranch, node);
      if (req.op === 'delete') this.unbind(req.callId, req.viaBranch);
      return { ok: true, reply, node };
    }
  }

  // ---- control (Kamailio's rtpengine.* RPC) ----------------------------------------------------

  /** Nodes matching `url` ("all": every one), with their set. */
  matching(url: string): { node: NgNode; set: NgSet }[] {
    const out: { node: NgNode; set: NgSet }[] = [];
    for (const set of this.sets.values()) for (const node of set.nodes) if (url.startsWith('all') || node.url === url) out.push({ node, set });
    return out;
  }

  /** rtpengine.show's entry for a node. */
  describe(node: NgNode, set: NgSet): Record<string, string | number> {
    return {
      url: node.url,
      set: set.id,
      index: node.idx,
      weight: node.weight,
      disabled: node.disabled && node.recheckAt === Infinity ? '1(permanent)' : node.disabled ? 1 : 0,
      recheck_ticks: node.recheckAt === Infinity ? 'N/A' : Math.max(0, Math.floor(node.recheckAt - this.now())),
    };
  }

  /** rtpengine.ping: pings; a node that does not answer is disabled for disableTimeoutS. */
  async ping(node: NgNode): Promise<boolean> {
    if (await this.pong(node)) return true;
    node.disabled = true;
    node.recheckAt = this.now() + this.cfg.disableTimeoutS;
    return false;
  }

  /** rtpengine.enable: 1 pings and enables (or disables for a while on failure); 0 disables for good. */
  async enable(node: NgNode, on: boolean): Promise<boolean> {
    if (!on) {
      node.disabled = true;
      node.recheckAt = Infinity;
      return true;
    }
    if (await this.pong(node)) {
      node.disabled = false;
      node.recheckAt = 0;
      return true;
    }
    node.disabled = true;
    node.recheckAt = this.now() + this.cfg.disableTimeoutS;
    return false;
  }

  /** rtpengine.get_hash_total: Call-ID bindings held. */
  bindingCount(): number {
    let n = 0;
    for (const m of this.bindings.values()) n += m.size;
    return n;
  }

  private fail(error: string): NgCallResult {
    this.log('err', error);
    return { ok: false, error };
  }

  close(): void {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    for (const p of [...this.pending.values()]) p.resolve(null);
    this.pending.clear();
    for (const s of this.sets.values()) {
      for (const n of s.nodes) {
        n.socket?.close();
        n.socket = null;
      }
    }
  }
}
