/**
 * `kemi-proxy/testing`: run a KEMI script offline against the real engine, bindings and tm.
 * See README, "Testing your script".
 */
export { scriptHarness, ScriptHarness, Step, SentMessage, RouteRun, DEFAULT_SOURCE, type HarnessOptions, type LogLine, type SendOptions } from './harness.js';
export { buildRequest, buildResponse, parseAddress, formatAddress, type Address, type RequestSpec, type ReplySpec, type HeaderLines } from './sip-builder.js';
export type { StateFixture, ContactFixture } from './fixture.js';
export { ManualClock } from './clock.js';
export { runSpec, runSpecFile, checkStep, type ScenarioSpec, type ScenarioStep, type StepExpect, type MessageExpect, type SpecResult } from './spec.js';
