/**
 * Configuration: one JSON file (documented in the README) whose settings the command line can
 * override. Every setting has a default so `kemi-proxy` alone runs routes/route.lua on loopback.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { LogLevel } from '../lib/log.js';
import { parseLogLevel, type LogFormat } from '../lib/log.js';
import { checkTcpSettings, checkTlsSettings, checkWsSettings, type TcpSettings, type TlsSettings, type WsSettings } from '../transport/settings.js';

export interface ProxyConfig {
  /** Listen sockets, `proto:address:port` (`udp:127.0.0.1:5060`, `tcp:[::1]:5060`). */
  listen: string[];
  /** The KEMI Lua routing script. */
  script: string;
  /** Loaded KSR modules (Kamailio's loadmodule): a module not listed is nil in KSR. */
  modules: string[];
  /** Host names and addresses that are this proxy besides the listen addresses (Kamailio's alias=). */
  aliases: string[];
  /** Module parameters (Kamailio's modparam), by module then parameter name. */
  modparams: Record<string, Record<string, string | number>>;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** Reload the script when its file changes. */
  watch: boolean;
  /** Worker processes sharing the listen sockets. */
  workers: number;
  /** Prometheus endpoint `address:port`, or null for none. */
  metrics: string | null;
  /** JSON-RPC control endpoint `address:port`, or null for none. */
  rpc: string | null;
  /** State backend: `memory` (default) or a Redis URL (`redis://127.0.0.1:6379/0`). */
  state: string;
  /** Server header / User-Agent of local replies. */
  serverHeader: string;
  /**
   * How long (ms) the UDP receive backlog must stay full (no read finds the socket empty) before
   * the overload guard answers part of the new dialogs 503 + Retry-After (src/core/overload.ts);
   * 0 turns it off.
   */
  overloadBacklogMs: number;
  /** The operator's SIP message trace at start: "off", "log" or a file path (RPC core.sip_trace switches it). */
  sipTrace: string;
  /** Kamailio's `#!define NAME value` (and `-A NAME=value`): what KSR.kx.get_def and ifdef read. */
  defines: Record<string, string | number>;
  /** Transport sections (src/transport/settings.ts): stream limits, TLS, WebSocket. */
  tcp: TcpSettings;
  tls: TlsSettings;
  ws: WsSettings;
  /** drachtio control port for drachtio-srf apps (src/drachtio/), or null for none. */
  drachtio: DrachtioConfig | null;
}

export interface DrachtioConfig {
  /** `address:port` apps connect to. */
  listen: string;
  secret: string;
  /** A connection that has not authenticated after this long is closed (ms, default 5000). */
  authTimeoutMs?: number;
}

/**
 * The overload guard's default: a proxy that keeps up, even a slow or CPU-starved one, empties
 * its UDP socket many times a second; one that has not for T1 (500 ms) is past capacity, and every
 * request still queued then is being retransmitted by its sender (README "Overload"). Measured at
 * twice one process's clean rate (issue 14): with 500 ms no run collapsed (7 of 7 completed at
 * least the clean rate), with 1000 ms 5 of 10 completed under 80% of it.
 */
export const DEFAULT_OVERLOAD_BACKLOG_MS = 500;
/**
 * With --workers the default stays 1 s: there the worker reading a source's datagrams sheds for
 * the calls others own, and 500 ms completed a quarter fewer calls at twice the clean rate than 1 s.
 */
export const DEFAULT_OVERLOAD_BACKLOG_MS_WORKERS = 1000;

/** Modules loaded when the config does not say: what a Kamailio edge script loads. */
export const DEFAULT_MODULES = [
  'pv', 'hdr', 'kx', 'sl', 'tm', 'tmx', 'rr', 'maxfwd', 'siputils', 'sanity', 'textops', 'textopsx',
  'corex', 'app_lua', 'xlog',
];

export function defaultConfig(): ProxyConfig {
  return {
    listen: ['udp:127.0.0.1:5060', 'tcp:127.0.0.1:5060'],
    script: 'routes/route.lua',
    modules: [...DEFAULT_MODULES],
    aliases: [],
    modparams: {},
    logLevel: 'info',
    logFormat: 'plain',
    watch: true,
    workers: 1,
    metrics: '127.0.0.1:9090',
    rpc: '127.0.0.1:5064',
    state: 'memory',
    serverHeader: 'kemi-proxy',
    overloadBacklogMs: DEFAULT_OVERLOAD_BACKLOG_MS,
    sipTrace: 'off',
    defines: {},
    tcp: {},
    tls: {},
    ws: {},
    drachtio: null,
  };
}

const KEYS = new Set(Object.keys(defaultConfig()));

/** Reads a JSON config file over the defaults; unknown keys are an error (typos must not pass). */
export function loadConfigFile(path: string, base: ProxyConfig = defaultConfig(), keysSet?: Set<string>): ProxyConfig {
  const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${path}: expected a JSON object`);
  const cfg: ProxyConfig = { ...base };
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!KEYS.has(k)) throw new Error(`${path}: unknown setting '${k}'`);
    assign(cfg, k as keyof ProxyConfig, v, path);
    keysSet?.add(k);
  }
  return withDrachtioModule(cfg);
}

function assign(cfg: ProxyConfig, key: keyof ProxyConfig, v: unknown, where: string): void {
  const bad = (): never => {
    throw new Error(`${where}: bad value for '${key}'`);
  };
  switch (key) {
    case 'listen':
    case 'modules':
    case 'aliases':
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) bad();
      cfg[key] = v as string[];
      break;
    case 'script':
    case 'state':
    case 'serverHeader':
    case 'sipTrace':
      if (typeof v !== 'string') bad();
      cfg[key] = v as string;
      break;
    case 'metrics':
    case 'rpc':
      if (v !== null && typeof v !== 'string') bad();
      cfg[key] = v === 'off' ? null : (v as string | null);
      break;
    case 'logLevel':
      if (typeof v !== 'string') bad();
      cfg.logLevel = parseLogLevel(v as string);
      break;
    case 'logFormat':
      if (v !== 'plain' && v !== 'json') bad();
      cfg.logFormat = v as LogFormat;
      break;
    case 'watch':
      if (typeof v !== 'boolean') bad();
      cfg.watch = v as boolean;
      break;
    case 'workers':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad();
      cfg.workers = v as number;
      break;
    case 'overloadBacklogMs':
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad();
      cfg.overloadBacklogMs = v as number;
      break;
    case 'tcp':
      cfg.tcp = checkTcpSettings(v, `${where}: tcp`);
      break;
    case 'tls':
      cfg.tls = checkTlsSettings(v, `${where}: tls`);
      break;
    case 'ws':
      cfg.ws = checkWsSettings(v, `${where}: ws`);
      break;
    case 'drachtio': {
      if (v === null) {
        cfg.drachtio = null;
        break;
      }
      const d = v as Partial<DrachtioConfig>;
      if (typeof v !== 'object' || Array.isArray(v) || typeof d.listen !== 'string' || typeof d.secret !== 'string') bad();
      if (d.authTimeoutMs !== undefined && (typeof d.authTimeoutMs !== 'number' || d.authTimeoutMs <= 0)) bad();
      cfg.drachtio = { listen: d.listen!, secret: d.secret!, authTimeoutMs: d.authTimeoutMs };
      break;
    }
    case 'modparams':
      if (v === null || typeof v !== 'object' || Array.isArray(v)) bad();
      cfg.modparams = v as ProxyConfig['modparams'];
      break;
    case 'defines':
      if (v === null || typeof v !== 'object' || Array.isArray(v)) bad();
      if (!Object.values(v as object).every((x) => typeof x === 'string' || typeof x === 'number')) bad();
      cfg.defines = v as ProxyConfig['defines'];
      break;
  }
}

/** A drachtio port needs the drachtio module (KSR.drachtio) loaded. */
function withDrachtioModule(cfg: ProxyConfig): ProxyConfig {
  return cfg.drachtio && !cfg.modules.includes('drachtio') ? { ...cfg, modules: [...cfg.modules, 'drachtio'] } : cfg;
}

export interface CliResult {
  config: ProxyConfig;
  /** `ctl` subcommand: method and params. */
  ctl?: { method: string; params: string[] };
}

export const USAGE = `usage: kemi-proxy [options]
       kemi-proxy ctl <method> [params...]

options (override the config file):
  -c, --config FILE        JSON config file (see README)
  -l, --listen SPEC        listen socket proto:address:port, repeatable (udp:127.0.0.1:5060)
  -s, --script FILE        KEMI Lua routing script (routes/route.lua)
  -m, --module NAME        load a KSR module, repeatable (replaces the default list)
  -a, --alias HOST         a host name that is this proxy, repeatable
  -D, --define NAME[=VAL]  a #!define for KSR.kx.get_def / ifdef, repeatable
      --sip-trace log|FILE every SIP message in and out, to the log or a file (ctl core.sip_trace on|off)
      --log-level LEVEL    dbg info notice warn err crit
      --log-format FORMAT  plain | json
      --watch / --no-watch reload (or not) the script when its file changes
  -w, --workers N          worker processes
      --metrics ADDR|off   Prometheus endpoint (127.0.0.1:9090)
      --rpc ADDR|off       JSON-RPC control endpoint (127.0.0.1:5064)
      --state URL|memory   state backend (memory or redis://...)
      --overload MS|off    shed new dialogs (503 + Retry-After) once the UDP backlog has not
                           drained for MS (500, 1000 with --workers; off: never)
      --tls-cert FILE      TLS certificate (PEM) for tls: and wss: listeners (config: tls.cert)
      --tls-key FILE       its private key (tls.key)
      --tls-ca FILE        CA bundle for client and server verification (tls.ca)
      --drachtio ADDR      drachtio control port for drachtio-srf apps (e.g. 127.0.0.1:9022)
      --drachtio-secret S  the secret apps authenticate with
  -h, --help`;

export function parseCli(argv: readonly string[]): CliResult {
  if (argv[0] === 'ctl') {
    // ctl takes --rpc ADDR and -c FILE (before or after the method) to find the endpoint; the
    // first other word is the method, the rest are its parameters.
    let cfg = defaultConfig();
    let rpc: string | undefined;
    const words: string[] = [];
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '--config' || a === '-c') {
        if (!argv[i + 1]) throw new Error(`ctl: ${a} needs a file`);
        cfg = loadConfigFile(argv[++i]!);
      } else if (a === '--rpc') {
        if (!argv[i + 1]) throw new Error('ctl: --rpc needs an address (127.0.0.1:5064)');
        rpc = argv[++i]!;
      } else if (a.startsWith('--rpc=')) rpc = a.slice('--rpc='.length);
      else words.push(a);
    }
    if (rpc) cfg = { ...cfg, rpc };
    const [method, ...params] = words;
    if (!method) throw new Error('ctl needs a method name (kemi-proxy ctl system.listMethods lists them)');
    return { config: cfg, ctl: { method, params } };
  }
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', short: 'c' },
      listen: { type: 'string', short: 'l', multiple: true },
      script: { type: 'string', short: 's' },
      module: { type: 'string', short: 'm', multiple: true },
      alias: { type: 'string', short: 'a', multiple: true },
      define: { type: 'string', short: 'D', multiple: true },
      'sip-trace': { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      watch: { type: 'boolean' },
      'no-watch': { type: 'boolean' },
      workers: { type: 'string', short: 'w' },
      metrics: { type: 'string' },
      rpc: { type: 'string' },
      state: { type: 'string' },
      overload: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      drachtio: { type: 'string' },
      'drachtio-secret': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const fileKeys = new Set<string>();
  let cfg = values.config ? loadConfigFile(values.config, defaultConfig(), fileKeys) : defaultConfig();
  cfg = { ...cfg };
  if (values.listen) cfg.listen = values.listen;
  if (values.script) cfg.script = values.script;
  if (values.module) cfg.modules = values.module.flatMap((m) => m.split(',')).filter(Boolean);
  if (values.alias) cfg.aliases = values.alias;
  if (values['sip-trace']) cfg.sipTrace = values['sip-trace'];
  if (values.define) {
    // NAME=value, or NAME alone (defined, empty), as Kamailio's -A.
    cfg.defines = { ...cfg.defines };
    for (const d of values.define) {
      const eq = d.indexOf('=');
      cfg.defines[eq < 0 ? d : d.slice(0, eq)] = eq < 0 ? '' : d.slice(eq + 1);
    }
  }
  if (values['log-level']) cfg.logLevel = parseLogLevel(values['log-level']);
  if (values['log-format']) assign(cfg, 'logFormat', values['log-format'], '--log-format');
  if (values.watch) cfg.watch = true;
  if (values['no-watch']) cfg.watch = false;
  if (values.workers) assign(cfg, 'workers', Number(values.workers), '--workers');
  if (values.metrics) cfg.metrics = values.metrics === 'off' ? null : values.metrics;
  if (values.rpc) cfg.rpc = values.rpc === 'off' ? null : values.rpc;
  if (values.state) cfg.state = values.state;
  if (values.overload) assign(cfg, 'overloadBacklogMs', values.overload === 'off' ? 0 : Number(values.overload), '--overload');
  else if (!fileKeys.has('overloadBacklogMs') && cfg.workers > 1) cfg.overloadBacklogMs = DEFAULT_OVERLOAD_BACKLOG_MS_WORKERS;
  if (values['tls-cert'] || values['tls-key'] || values['tls-ca']) {
    cfg.tls = { ...cfg.tls, ...(values['tls-cert'] ? { cert: values['tls-cert'] } : {}), ...(values['tls-key'] ? { key: values['tls-key'] } : {}), ...(values['tls-ca'] ? { ca: values['tls-ca'] } : {}) };
  }
  if (values.drachtio || values['drachtio-secret']) {
    const listen = values.drachtio ?? cfg.drachtio?.listen;
    const secret = values['drachtio-secret'] ?? cfg.drachtio?.secret;
    if (!listen || !secret) throw new Error('--drachtio needs --drachtio-secret (and the other way round)');
    assign(cfg, 'drachtio', { ...cfg.drachtio, listen, secret }, '--drachtio');
  }
  cfg = withDrachtioModule(cfg);
  return { config: cfg };
}
