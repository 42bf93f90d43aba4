/**
 * Scenario files for `kemi-proxy test` (JSON): a config, a state fixture and steps. Each step feeds
 * a message in (or a reply to a relayed request, or moves the clock) and checks what the proxy
 * did; a mismatch is reported as expected/actual lines, and the scenario goes on to its end.
 *
 *   {
 *     "name": "bob is reachable",
 *     "config": { "script": "../../routes/route.lua", "aliases": ["example.org"], "modules": [...] },
 *     "state": { "contacts": { "bob": ["sip:bob@192.0.2.20:5062"] } },
 *     "steps": [
 *       { "send": { "method": "INVITE", "ruri": "sip:bob@example.org", "from": "sip:alice@example.org" },
 *         "from": "udp:192.0.2.10:5060",
 *         "expect": { "replies": [{ "code": 100 }], "relay": [{ "ruri": "sip:bob@192.0.2.20:5062", "to": "udp:192.0.2.20:5062" }] } },
 *       { "reply": 486, "expect": { "routes": ["ksr_failure_manage"], "reply": { "code": 486 } } },
 *       { "advance": 30000, "expect": { "replies": [] } }
 *     ]
 *   }
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { checkFixture } from './fixture.js';
import { scriptHarness, type HarnessOptions, type SentMessage, type Step, type ScriptHarness } from './harness.js';
import { formatAddress, type HeaderLines, type RequestSpec } from './sip-builder.js';

/** A header's expected value: a string (exact), `/regex/`, or null (absent). */
type HeaderExpect = Record<string, string | null>;

export interface MessageExpect {
  code?: number;
  reason?: string;
  method?: string;
  ruri?: string;
  /** Destination, `udp:192.0.2.20:5062`. */
  to?: string;
  headers?: HeaderExpect;
  body?: string;
}

export interface StepExpect {
  /** The one final reply of the step (>= 200); null: none. */
  reply?: MessageExpect | null;
  /** Every reply sent (retransmissions left out), in order. */
  replies?: MessageExpect[];
  /** Every request sent (relayed, ACK, CANCEL; retransmissions left out), in order. */
  relay?: MessageExpect[];
  /** Script callbacks that ran, in the order they finished (branch routes before the request route that relayed). */
  routes?: string[];
  /** PVs on the request route's context after it ran. */
  pv?: Record<string, string | number | null>;
  /** setflag() flags after the request route: flag number -> set or not. */
  flags?: Record<string, boolean>;
  /** Each must match a log line of the step (substring, or `/regex/`). */
  logs?: string[];
}

export interface ScenarioStep {
  /** A request (raw text, or a builder spec) or any raw message. */
  send?: string | RequestSpec;
  /** Source of `send`, `udp:192.0.2.10:5060`. */
  from?: string;
  /** Listen socket that receives it. */
  on?: string;
  /** Answer a relayed request with this code (from where it went). */
  reply?: number;
  reason?: string;
  headers?: HeaderLines;
  body?: string;
  /** Which request `reply` answers: the n-th (0-based) of the requests sent by the last step that sent any (ACK and CANCEL left out). */
  branch?: number;
  /** Move tm's clock on (ms). */
  advance?: number;
  expect?: StepExpect;
  /** A label for the report. */
  name?: string;
}

export interface ScenarioSpec {
  name?: string;
  config: Omit<HarnessOptions, 'state'>;
  state?: HarnessOptions['state'];
  steps: ScenarioStep[];
}

export interface SpecResult {
  name: string;
  ok: boolean;
  /** Readable report lines: one header per failed step, then `- expected` / `+ actual` lines. */
  report: string[];
}

const q = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));

function matches(expected: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  const re = /^\/(.*)\/([a-z]*)$/s.exec(expected);
  return re ? new RegExp(re[1]!, re[2]).test(actual) : expected === actual;
}

function compareMessage(label: string, e: MessageExpect, a: SentMessage | undefined, out: string[]): void {
  if (!a) {
    out.push(`  ${label}: - ${q(e)}`, `  ${label}: + (nothing sent)`);
    return;
  }
  const diff = (what: string, exp: unknown, act: unknown): void => {
    out.push(`  ${label} ${what}: - ${q(exp)}`, `  ${label} ${what}: + ${q(act)}`);
  };
  if (e.code !== undefined && e.code !== a.code) diff('code', e.code, a.isRequest ? `request ${a.method}` : a.code);
  if (e.reason !== undefined && !matches(e.reason, a.reason)) diff('reason', e.reason, a.reason);
  if (e.method !== undefined && e.method.toUpperCase() !== a.method) diff('method', e.method, a.method);
  if (e.ruri !== undefined && !matches(e.ruri, a.ruri)) diff('R-URI', e.ruri, a.ruri);
  if (e.to !== undefined && e.to !== formatAddress(a.destination)) diff('destination', e.to, formatAddress(a.destination));
  for (const [name, v] of Object.entries(e.headers ?? {})) {
    const got = a.headers(name);
    const act = got.length === 0 ? undefined : got.join(', ');
    if (v === null ? act !== undefined : !matches(v, act)) diff(`header ${name}`, v ?? '(absent)', act);
  }
  if (e.body !== undefined && !matches(e.body, a.body)) diff('body', e.body, a.body);
}

function compareList(label: string, exp: MessageExpect[], act: SentMessage[], out: string[]): void {
  if (exp.length !== act.length) {
    out.push(`  ${label} count: - ${exp.length}`, `  ${label} count: + ${act.length}${act.length ? ` (${act.map(String).join('; ')})` : ''}`);
  }
  exp.forEach((e, i) => compareMessage(`${label}[${i}]`, e, act[i], out));
}

/** Checks one step against its expectations; returns the difference lines (none: it passed). */
export function checkStep(step: Step, e: StepExpect): string[] {
  const out: string[] = [];
  if (e.reply !== undefined) {
    let fin: SentMessage | undefined;
    try {
      fin = step.finalReply;
    } catch (err) {
      out.push(`  reply: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (e.reply === null) {
      if (fin) out.push('  reply: - (none)', `  reply: + ${fin}`);
    } else compareMessage('reply', e.reply, fin, out);
  }
  if (e.replies) compareList('replies', e.replies, step.replies, out);
  if (e.relay) compareList('relay', e.relay, step.requests, out);
  if (e.routes) {
    const ran = step.routes.map((r) => r.fn);
    if (JSON.stringify(ran) !== JSON.stringify(e.routes)) out.push(`  routes: - ${q(e.routes)}`, `  routes: + ${q(ran)}`);
  }
  const req = step.route('ksr_request_route');
  for (const [spec, v] of Object.entries(e.pv ?? {})) {
    if (!req) {
      out.push(`  pv ${spec}: no request route ran in this step`);
      continue;
    }
    let got: unknown;
    try {
      got = req.pv(spec);
    } catch (err) {
      got = `error: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (got !== v) out.push(`  pv ${spec}: - ${q(v)}`, `  pv ${spec}: + ${q(got)}`);
  }
  for (const [n, v] of Object.entries(e.flags ?? {})) {
    const got = req ? req.isFlagSet(Number(n)) : undefined;
    if (got !== v) out.push(`  flag ${n}: - ${q(v)}`, `  flag ${n}: + ${q(got)}`);
  }
  for (const l of e.logs ?? []) {
    if (!step.logs.some((line) => matches(l, line.text) || (!l.startsWith('/') && line.text.includes(l)))) {
      out.push(`  log: - ${q(l)}`, `  log: + (no such line; the step logged ${step.logs.length})`);
    }
  }
  return out;
}

function describeStep(s: ScenarioStep, i: number): string {
  if (s.name) return `step ${i + 1} (${s.name})`;
  if (s.send !== undefined) {
    const what = typeof s.send === 'string' ? s.send.split(/\r?\n/)[0]! : `${s.send.method} ${s.send.ruri}`;
    return `step ${i + 1} (${what}${s.from ? ` from ${s.from}` : ''})`;
  }
  if (s.reply !== undefined) return `step ${i + 1} (reply ${s.reply})`;
  return `step ${i + 1} (advance ${s.advance} ms)`;
}

const SPEC_KEYS = ['name', 'config', 'state', 'steps'];
const CONFIG_KEYS = ['script', 'modules', 'modparams', 'aliases', 'defines', 'listen', 'serverHeader', 'dns', 'logLevel', 'echoLog'];
const STEP_KEYS = ['name', 'send', 'from', 'on', 'reply', 'reason', 'headers', 'body', 'branch', 'advance', 'expect'];
const EXPECT_KEYS = ['reply', 'replies', 'relay', 'routes', 'pv', 'flags', 'logs'];

/** A typo in a scenario file must not pass as a check that holds: unknown keys are an error. */
function onlyKeys(o: unknown, allowed: readonly string[], where: string): void {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error(`${where}: expected an object`);
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new Error(`${where}: unknown key '${k}' (${allowed.join(', ')})`);
}

/** Runs a scenario; relative paths in its config are taken from `baseDir`. */
export async function runSpec(spec: ScenarioSpec, baseDir = process.cwd()): Promise<SpecResult> {
  const name = spec.name ?? 'scenario';
  onlyKeys(spec, SPEC_KEYS, name);
  onlyKeys(spec.config, CONFIG_KEYS, `${name}: config`);
  if (!spec.config.script) throw new Error(`${name}: config.script is required`);
  if (!Array.isArray(spec.steps)) throw new Error(`${name}: steps must be a list`);
  spec.steps.forEach((s, i) => {
    onlyKeys(s, STEP_KEYS, `${name}: step ${i + 1}`);
    if (s.expect !== undefined) onlyKeys(s.expect, EXPECT_KEYS, `${name}: step ${i + 1} expect`);
  });
  const script = isAbsolute(spec.config.script) ? spec.config.script : resolve(baseDir, spec.config.script);
  const h: ScriptHarness = await scriptHarness({ ...spec.config, script, state: checkFixture(spec.state) });
  const report: string[] = [];
  let lastSent: SentMessage[] = [];
  try {
    for (const [i, s] of spec.steps.entries()) {
      let step: Step;
      const kinds = [s.send !== undefined, s.reply !== undefined, s.advance !== undefined].filter(Boolean).length;
      if (kinds !== 1) {
        report.push(`${describeStep(s, i)}: a step has exactly one of send, reply, advance`);
        break;
      }
      if (s.send !== undefined) {
        step = await h.request(s.send, { from: s.from, to: s.on });
      } else if (s.reply !== undefined) {
        const target = lastSent[s.branch ?? 0];
        if (!target) {
          report.push(`${describeStep(s, i)}: no relayed request #${s.branch ?? 0} to answer`);
          break;
        }
        step = await h.reply(target, s.reply, { reason: s.reason, headers: s.headers, body: s.body });
      } else {
        step = await h.advance(s.advance!);
      }
      const sentNow = step.requests.filter((r) => r.method !== 'ACK' && r.method !== 'CANCEL');
      if (sentNow.length > 0) lastSent = sentNow;
      const diff = s.expect ? checkStep(step, s.expect) : [];
      if (diff.length > 0) {
        report.push(`${describeStep(s, i)}:`, ...diff, '  what the step did:', ...step.toString().split('\n').map((l) => `    ${l}`));
      }
    }
  } finally {
    await h.close();
  }
  return { name, ok: report.length === 0, report };
}

/** Reads and runs a JSON scenario file. */
export async function runSpecFile(path: string): Promise<SpecResult> {
  let spec: ScenarioSpec;
  try {
    spec = JSON.parse(readFileSync(path, 'utf8')) as ScenarioSpec;
  } catch (e) {
    throw new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  spec.name ??= path;
  return runSpec(spec, dirname(resolve(path)));
}
