/**
 * One line per event, with Kamailio's level names (as KSR.log uses them), as plain text or JSON.
 * Writes synchronously to stderr so lines of crashing paths are never lost; the level filter runs
 * before any string is built, so disabled levels cost one comparison.
 */

/** Kamailio's log level names, as KSR.log uses them. */
export type LogLevel = 'dbg' | 'info' | 'notice' | 'warn' | 'err' | 'crit' | 'alert';

export type LogFormat = 'plain' | 'json';

/** Severity: lower is more severe (Kamailio's L_ALERT..L_DBG order). */
const SEVERITY: Record<LogLevel, number> = { alert: -5, crit: -2, err: -1, warn: 0, notice: 1, info: 2, dbg: 3 };

export function parseLogLevel(s: string): LogLevel {
  const l = s.toLowerCase();
  switch (l) {
    case 'dbg':
    case 'debug':
      return 'dbg';
    case 'info':
      return 'info';
    case 'notice':
      return 'notice';
    case 'warn':
    case 'warning':
      return 'warn';
    case 'err':
    case 'error':
      return 'err';
    case 'crit':
      return 'crit';
    case 'alert':
      return 'alert';
    default:
      throw new Error(`unknown log level '${s}' (dbg info notice warn err crit alert)`);
  }
}

export interface LogFields {
  callId?: string;
  [key: string]: string | number | boolean | undefined;
}

export class Logger {
  private maxSeverity: number;

  constructor(
    level: LogLevel = 'info',
    private readonly format: LogFormat = 'plain',
    private readonly out: (line: string) => void = (line) => process.stderr.write(line),
    private readonly component = 'kemi-proxy',
  ) {
    this.maxSeverity = SEVERITY[level];
  }

  setLevel(level: LogLevel): void {
    this.maxSeverity = SEVERITY[level];
  }

  /** Kamailio's numeric debug level for the current threshold (get_debug). */
  get debugLevel(): number {
    return this.maxSeverity;
  }

  enabled(level: LogLevel): boolean {
    return SEVERITY[level] <= this.maxSeverity;
  }

  log(level: LogLevel, text: string, fields?: LogFields): void {
    if (SEVERITY[level] > this.maxSeverity) return;
    const ts = new Date().toISOString();
    if (this.format === 'json') {
      this.out(JSON.stringify({ ts, level, pid: process.pid, msg: text, ...fields }) + '\n');
      return;
    }
    let extra = '';
    if (fields) {
      for (const k in fields) {
        const v = fields[k];
        if (v !== undefined) extra += ` ${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`;
      }
    }
    // Script text may end with its own newline (KSR.info does not add one): keep one line per event.
    const body = text.endsWith('\n') ? text.slice(0, -1) : text;
    this.out(`${ts} ${this.component}[${process.pid}] ${level.toUpperCase()}: ${body}${extra}\n`);
  }

  dbg(text: string, fields?: LogFields): void { this.log('dbg', text, fields); }
  info(text: string, fields?: LogFields): void { this.log('info', text, fields); }
  warn(text: string, fields?: LogFields): void { this.log('warn', text, fields); }
  err(text: string, fields?: LogFields): void { this.log('err', text, fields); }
}
