/**
 * The operator's SIP message trace: every message in and out with time, transport and addresses,
 * to the log or appended to a file. Switched at run time (RPC core.sip_trace, `--sip-trace`);
 * when off it costs one boolean test per message.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Logger } from '../lib/log.js';
import type { ReceiveInfo, SendTarget } from '../transport/types.js';

export type TraceMode = 'off' | 'log' | { file: string };

export class MessageTrace {
  enabled = false;
  private file: WriteStream | null = null;
  private where = 'off';

  constructor(private readonly logger: Logger) {}

  /** Switches the trace; a file is appended to (created when missing). */
  set(mode: TraceMode): void {
    this.file?.end();
    this.file = null;
    if (mode === 'off') {
      this.enabled = false;
      this.where = 'off';
      return;
    }
    if (mode !== 'log') {
      const f = createWriteStream(mode.file, { flags: 'a' });
      f.on('error', (e) => {
        this.logger.err(`sip trace file ${mode.file}: ${e.message}; trace off`);
        this.set('off');
      });
      this.file = f;
    }
    this.enabled = true;
    this.where = mode === 'log' ? 'log' : mode.file;
  }

  status(): { enabled: boolean; to: string } {
    return { enabled: this.enabled, to: this.where };
  }

  in(data: Buffer, rcv: ReceiveInfo): void {
    this.write(`IN ${rcv.proto} ${fmt(rcv.localAddress, rcv.localPort)} <- ${fmt(rcv.srcAddress, rcv.srcPort)}`, data);
  }

  out(t: SendTarget, data: Buffer, ok: boolean): void {
    this.write(`OUT ${t.proto} -> ${fmt(t.address, t.port)}${t.connId !== undefined ? ` conn ${t.connId}` : ''}${ok ? '' : ' (send failed)'}`, data);
  }

  private write(head: string, data: Buffer): void {
    const text = `${new Date().toISOString()} ${head} ${data.length} bytes\n${data.toString('latin1')}${data.length > 0 && data[data.length - 1] === 10 ? '' : '\n'}`;
    if (this.file) this.file.write(text + '\n');
    else this.logger.info(`sip trace: ${text}`);
  }

  close(): void {
    this.set('off');
  }
}

const fmt = (a: string, p: number): string => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);

/** `--sip-trace` / config `sipTrace`: "off", "log" or a file path. */
export function parseTraceMode(s: string): TraceMode {
  return s === 'off' || s === '' ? 'off' : s === 'log' ? 'log' : { file: s };
}
