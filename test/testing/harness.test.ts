/**
 * The harness itself: state fixtures reach the modules (htable, permissions, auth_db, dispatcher,
 * usrloc in route-lua.test.ts), PVs, flags and log lines are readable after a route, replies drive
 * ksr_reply_route, onreply, branch, branch-failure and failure routes, names resolve from the
 * harness's DNS table only, and the manual clock runs wake-ups in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, scriptHarness, type ScriptHarness } from '../../src/testing/index.js';

let h: ScriptHarness;

beforeAll(async () => {
  h = await scriptHarness({
    script: 'test/testing/scripts/features.lua',
    modules: ['pv', 'hdr', 'kx', 'sl', 'tm', 'tmx', 'rr', 'siputils', 'corex', 'xlog', 'htable', 'permissions', 'auth', 'auth_db', 'dispatcher', 'usrloc', 'registrar'],
    modparams: { htable: { htable: 'ipban=>size=8;\nseen=>size=8;initval=0;' }, dispatcher: { flags: 2 } },
    listen: ['udp:127.0.0.1:5060', 'tcp:127.0.0.1:5060'],
    dns: { 'gw.example.net': '192.0.2.50' },
    state: {
      htable: { ipban: { '192.0.2.66': 1 } },
      addresses: { 1: ['192.0.2.0/24'] },
      subscribers: { 'alice@example.org': 'secret' },
      dispatcher: { 1: ['sip:192.0.2.40:5070'] },
    },
  });
});

afterAll(async () => {
  await h.close();
});

describe('state fixtures', () => {
  it('an htable item bans a source address', async () => {
    const step = await h.request({ method: 'OPTIONS', ruri: 'sip:any@example.org' }, { from: 'udp:192.0.2.66:5060' });
    expect(step.finalReply?.code).toBe(403);
    expect(step.finalReply?.reason).toBe('Banned');
  });

  it('an address group sets a flag; a source outside it does not', async () => {
    const inside = await h.request({ method: 'MESSAGE', ruri: 'sip:sub@example.org', from: 'sip:alice@example.org' }, { from: 'udp:192.0.2.10:5060' });
    expect(inside.route('ksr_request_route')?.isFlagSet(3)).toBe(true);
    const outside = await h.request({ method: 'MESSAGE', ruri: 'sip:sub@example.org', from: 'sip:alice@example.org' }, { from: 'udp:198.51.100.7:5060' });
    expect(outside.route('ksr_request_route')?.isFlagSet(3)).toBe(false);
  });

  it('a subscriber is known to auth_db, another user is not', async () => {
    const yes = await h.request({ method: 'MESSAGE', ruri: 'sip:sub@example.org', from: 'sip:alice@example.org' });
    expect(yes.finalReply?.reason).toBe('Subscriber');
    const no = await h.request({ method: 'MESSAGE', ruri: 'sip:sub@example.org', from: 'sip:bob@example.org' });
    expect(no.finalReply?.code).toBe(404);
  });

  it('a dispatcher set gives the destination ($du), the R-URI unchanged', async () => {
    const step = await h.request({ method: 'INVITE', ruri: 'sip:ds@example.org' });
    const [out] = step.relayed('INVITE');
    expect(out?.ruri).toBe('sip:ds@example.org');
    expect(out?.destination).toEqual({ proto: 'udp', address: '192.0.2.40', port: 5070 });
    expect(step.pv('$du')).toBe('sip:192.0.2.40:5070');
    expect(step.pv('$avp(user)')).toBe('ds');
  });
});

describe('state the script writes', () => {
  it('reads htable and usrloc writes back', async () => {
    const before = (await h.htable('seen', '192.0.2.77')) ?? 0;
    const step = await h.request({ method: 'REGISTER', ruri: 'sip:example.org', from: 'sip:carol@example.org', to: 'sip:carol@example.org', contact: 'sip:carol@192.0.2.77:5080', headers: { Expires: 600 } }, { from: 'udp:192.0.2.77:5080' });
    expect(step.finalReply?.code).toBe(200);
    expect(await h.htable('seen', '192.0.2.77')).toBe(Number(before) + 1);
    const [c] = await h.contacts('carol');
    expect(c?.contact).toBe('sip:carol@192.0.2.77:5080');
    expect(c!.expires - Math.floor(Date.now() / 1000)).toBeGreaterThan(590);
  });
});

describe('names, transports and logs', () => {
  it('resolves names from the DNS table only', async () => {
    const known = await h.request({ method: 'MESSAGE', ruri: 'sip:x@gw.example.net' });
    expect(known.relayed('MESSAGE')[0]?.destination).toEqual({ proto: 'udp', address: '192.0.2.50', port: 5060 });
    const unknown = await h.request({ method: 'MESSAGE', ruri: 'sip:x@nowhere.invalid' });
    expect(unknown.relayed()).toEqual([]);
    expect(unknown.finalReply?.code).toBeGreaterThanOrEqual(400);
  });

  it('takes a request over TCP and answers on its connection', async () => {
    const step = await h.request({ method: 'OPTIONS', ruri: 'sip:x@example.org' }, { from: 'tcp:192.0.2.66:40000' });
    expect(step.finalReply?.destination).toEqual({ proto: 'tcp', address: '192.0.2.66', port: 40000 });
    expect(step.finalReply?.target.connId).toBeGreaterThan(0);
  });

  it('keeps the script log lines of each step', async () => {
    const step = await h.request({ method: 'OPTIONS', ruri: 'sip:x@example.org' }, { from: 'udp:192.0.2.66:5070' });
    expect(step.logs.map((l) => `${l.level} ${l.text}`)).toContain('info request OPTIONS sip:x@example.org from 192.0.2.66');
    expect(h.logged(/^request OPTIONS/).length).toBeGreaterThan(0);
  });
});

describe('replies drive the reply, onreply, branch, branch-failure and failure routes', () => {
  it('forks to two branches and goes on from the failure route when both fail', async () => {
    const step = await h.request({ method: 'INVITE', ruri: 'sip:fork@192.0.2.41:5060', from: 'sip:alice@example.org' });
    const branches = step.relayed('INVITE');
    expect(branches.map((b) => b.destination.address)).toEqual(['192.0.2.41', '192.0.2.42']);
    expect(branches.map((b) => b.header('X-Branch'))).toEqual(['0', '1']);
    // In the order they finished: branch routes run inside t_relay, before the request route ends.
    expect(step.routes.map((r) => r.fn)).toEqual(['ksr_branch_mark', 'ksr_branch_mark', 'ksr_request_route']);

    const ringing = await h.reply(branches[0]!, 180);
    expect(ringing.routes.map((r) => r.fn)).toEqual(['ksr_reply_route', 'ksr_onreply_log']);
    expect(ringing.logs.map((l) => l.text)).toEqual(['reply 180', 'onreply 180']);
    expect(ringing.replies.map((r) => r.code)).toEqual([180]);

    const busy = await h.reply(branches[0]!, 486);
    expect(busy.routes.map((r) => r.fn)).toEqual(['ksr_reply_route', 'ksr_onreply_log', 'ksr_branch_failed']);
    expect(busy.finalReply).toBeUndefined();

    const gone = await h.reply(branches[1]!, 404);
    expect(gone.routes.map((r) => r.fn)).toContain('ksr_failure_next');
    const [next] = gone.relayed('INVITE');
    expect(next?.destination.address).toBe('192.0.2.60');
    expect(next?.header('X-Failed')).toBe('404');
    expect(gone.finalReply).toBeUndefined();

    // The new branch answers 200: it goes upstream.
    const ok = await h.reply(next!, 200);
    expect(ok.finalReply?.code).toBe(200);
    expect(ok.finalReply?.destination.address).toBe('192.0.2.10');
  });
});

describe('after a 2xx', () => {
  it('absorbs a late reply of the answered branch for wait_timer, on the manual clock', async () => {
    const [out] = (await h.request({ method: 'INVITE', ruri: 'sip:x@192.0.2.45:5060', from: 'sip:alice@example.org' })).relayed('INVITE');
    const ok = await h.reply(out!, 200, { toTag: 'b1' });
    expect(ok.finalReply?.code).toBe(200);
    const late = await h.reply(out!, 183, { toTag: 'b1' });
    expect(late.sent).toEqual([]);
    // Two wait_timer periods (5 s each) later the branch is forgotten: a late reply goes on by Via.
    await h.advance(10_001);
    const later = await h.reply(out!, 183, { toTag: 'b1' });
    expect(later.replies.map((r) => r.code)).toEqual([183]);
  });
});

describe('ManualClock', () => {
  it('runs wake-ups in deadline order, each at its time, and only those due', async () => {
    const c = new ManualClock();
    const seen: string[] = [];
    c.setTimer(() => seen.push(`b@${c.now()}`), 200);
    const x = c.setTimer(() => seen.push('never'), 150);
    c.setTimer(() => {
      seen.push(`a@${c.now()}`);
      c.setTimer(() => seen.push(`c@${c.now()}`), 50);
    }, 100);
    c.clearTimer(x);
    await c.advance(160);
    expect(seen).toEqual(['a@100', 'c@150']);
    expect(c.now()).toBe(160);
    await c.advance(100);
    expect(seen).toEqual(['a@100', 'c@150', 'b@200']);
    expect(c.armed).toBe(0);
  });
});
