/**
 * Issue 5: Kamailio's own basic KEMI example (Debian's kamailio package,
 * /usr/share/doc/kamailio/examples/kemi/kamailio-basic-kemi-lua.lua), unmodified, on kemi-proxy
 * with routes/kamailio-basic-kemi.json (the equivalent of kamailio-basic-kemi.cfg with WITH_AUTH
 * and WITH_ANTIFLOOD; the database served by the embedded state), and on Kamailio 5.6 with that
 * .cfg (db_text instead of MySQL; NAT, IP auth and accounting to a database off, as the example
 * allows). The same SIPp scenarios run against both: OPTIONS keepalive, REGISTER with digest
 * (401, then 200), calls from a local user that must authenticate (407, then 200) to the
 * registered user, a call to an unknown user (404). Each SIPp endpoint must receive the same
 * messages from both (run-specific values masked).
 *
 * A second run adds WITH_IPAUTH on both sides (permissions: address group 1 holds 127.0.0.1, from
 * Kamailio's db_text address table and from kemi-proxy's address_file): calls from 127.0.0.1 pass
 * without a challenge, a call from 127.0.0.2 is still challenged (407), and a MESSAGE to bob, whose
 * REGISTER allowed only INVITE, ACK, CANCEL, BYE and OPTIONS, gets 405 (registrar method_filtering).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rpcCall } from '../../src/ops/ctl.js';
import { freePort, REPO, startProxy, startSipp, type SippHandle } from './harness.js';
import { startKamailioCfg } from './kamailio.js';
import { normalize, receivedMessages } from './sipp-trace.js';
import { request, udpRequest } from './udp-client.js';

const EXAMPLE = '/usr/share/doc/kamailio/examples/kemi/kamailio-basic-kemi-lua.lua';
const EXAMPLE_CFG = '/usr/share/doc/kamailio/examples/kemi/kamailio-basic-kemi.cfg';

let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});
const track = <T extends { stop(): Promise<void> }>(h: T): T => (running.push(h), h);
const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** kamailio-basic-kemi.cfg with WITH_AUTH and WITH_ANTIFLOOD (and WITH_IPAUTH), db_text for its tables. */
function kamailioCfg(dir: string, port: number, ipauth: boolean): string {
  const db = join(dir, 'db');
  mkdirSync(db);
  writeFileSync(join(db, 'version'), 'table_name(string) table_version(int)\nsubscriber:7\naddress:6\ntrusted:6\n');
  writeFileSync(join(db, 'trusted'), 'id(int,auto) src_ip(string) proto(string) from_pattern(string,null) ruri_pattern(string,null) tag(string,null) priority(int)\n');
  writeFileSync(join(db, 'address'), 'id(int,auto) grp(int) ip_addr(string) mask(int) port(int) tag(string,null)\n1:1:127.0.0.1:32:0:\n');
  writeFileSync(join(db, 'subscriber'), 'id(int,auto) username(string) domain(string) password(string) ha1(string,null) ha1b(string,null)\n1:alice:kemi.test:apw::\n2:bob:kemi.test:bpw::\n3:carol:kemi.test:cpw::\n');
  let cfg = readFileSync(EXAMPLE_CFG, 'utf8');
  const off = ['WITH_MYSQL', 'WITH_USRLOCDB', 'WITH_NAT', 'WITH_ACCDB'];
  if (!ipauth) off.push('WITH_IPAUTH');
  for (const d of off) cfg = cfg.replace(`#!define ${d}\n`, '');
  cfg = cfg.replace('#!define WITH_ANTIFLOOD\n', `#!define WITH_ANTIFLOOD\n#!define WITH_CFGLUA\n#!define DBURL "text://${db}"\n`);
  cfg = cfg.replace('#listen=udp:10.0.0.10:5060', `listen=udp:127.0.0.1:${port}\nalias="kemi.test"`);
  cfg = cfg.replace('loadmodule "jsonrpcs.so"', 'loadmodule "db_text.so"\nloadmodule "jsonrpcs.so"');
  cfg = cfg.replace('modparam("jsonrpcs", "pretty_format", 1)', `modparam("jsonrpcs", "pretty_format", 1)\nmodparam("jsonrpcs", "fifo_name", "${dir}/rpc.fifo")\nmodparam("jsonrpcs", "dgram_socket", "${dir}/rpc.sock")\nmodparam("ctl", "binrpc", "unix:${dir}/ctl")`);
  cfg = cfg.replace('"/usr/local/etc/kamailio/kamailio-basic-kemi-lua.lua"', `"${EXAMPLE}"`);
  return cfg;
}

interface Seen {
  uas: string[];
  codes: Record<string, number[]>;
  /** acc's log lines ("ACC: transaction answered: ...", "ACC: call missed: ..."), run-specific values masked. */
  acc: string[];
}

/** acc records in a proxy's log, with timestamps, tags and Call-IDs masked. */
function accRecords(log: string): string[] {
  return (log.match(/ACC: [^\n]*/g) ?? []).map((l) => l
    .replace(/timestamp=\d+/, 'timestamp=T').replace(/(from_tag|to_tag|call_id)=[^;]*/g, '$1=X')
    .replace(/ callId=\S+\s*$/, '').replace(/\s+$/, '')).sort(); // kemi-proxy's log lines end with the Call-ID
}

/** routes/kamailio-basic-kemi.json plus permissions with an address_file allowing 127.0.0.1 (group 1). */
function kemiIpauthConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kemi-ipauth-'));
  const base = JSON.parse(readFileSync(join(REPO, 'routes/kamailio-basic-kemi.json'), 'utf8')) as {
    modules: string[];
    modparams: Record<string, Record<string, unknown>>;
  };
  writeFileSync(join(dir, 'address.list'), '1 127.0.0.1 32 0\n');
  base.modules.push('permissions');
  base.modparams.permissions = { address_file: join(dir, 'address.list') };
  writeFileSync(join(dir, 'kemi.json'), JSON.stringify(base));
  return join(dir, 'kemi.json');
}

async function scenarios(target: 'kemi' | 'kamailio', ipauth = false): Promise<Seen> {
  const port = await freePort();
  const uasPort = await freePort();
  const uas = track(startSipp({ scenario: 'uas.xml', port: uasPort, timeoutS: 60, traceMsg: true, calls: 3 }));
  const busyPort = await freePort();
  track(startSipp({ scenario: 'uas-486.xml', port: busyPort, timeoutS: 60 }));
  let proxyLog: () => string;
  if (target === 'kemi') {
    const rpc = `127.0.0.1:${await freePort()}`;
    proxyLog = track(await startProxy({ script: EXAMPLE, port, protos: ['udp'], extraArgs: ['-c', ipauth ? kemiIpauthConfig() : join(REPO, 'routes/kamailio-basic-kemi.json'), '--rpc', rpc] })).output;
    for (const [u, p] of [['alice', 'apw'], ['bob', 'bpw'], ['carol', 'cpw']]) expect((await rpcCall(rpc, 'subscriber.add', [`${u}@kemi.test`, p])).error).toBeUndefined();
  } else {
    proxyLog = track(await startKamailioCfg((dir) => kamailioCfg(dir, port, ipauth), port)).output;
  }
  await settle(300);
  const codes: Record<string, number[]> = {};
  const ka = await udpRequest(port, request('OPTIONS', `sip:127.0.0.1:${port}`));
  codes.options = ka.replies.map((r) => Number(r.slice(8, 11)));
  const run = async (name: string, h: SippHandle): Promise<void> => {
    const r = await h.done;
    codes[name] = [r.successful, r.failed];
  };
  const regPort = await freePort();
  await run('register', track(startSipp({
    scenario: 'reg-register.xml', port: regPort, remote: `127.0.0.1:${port}`, calls: 1, rate: 1, service: 'bob', timeoutS: 20,
    extra: ['-au', 'bob', '-ap', 'bpw', '-set', 'contact', `sip:bob@127.0.0.1:${uasPort};transport=UDP`],
  })));
  await run('calls', track(startSipp({
    scenario: ipauth ? 'uac.xml' : 'reg-uac-auth.xml', port: await freePort(), remote: `127.0.0.1:${port}`, rsa: `127.0.0.1:${port}`, calls: 3, rate: 3, limit: 3, service: 'bob', timeoutS: 20,
    extra: ['-au', 'alice', '-ap', 'apw'],
  })));
  // carol's phone is busy: the INVITE's 486 is a missed call for acc.
  await run('registerBusy', track(startSipp({
    scenario: 'reg-register.xml', port: await freePort(), remote: `127.0.0.1:${port}`, calls: 1, rate: 1, service: 'carol', timeoutS: 20,
    extra: ['-au', 'carol', '-ap', 'cpw', '-set', 'contact', `sip:carol@127.0.0.1:${busyPort};transport=UDP`],
  })));
  const busy = track(startSipp({
    scenario: ipauth ? 'uac.xml' : 'reg-uac-auth.xml', port: await freePort(), remote: `127.0.0.1:${port}`, rsa: `127.0.0.1:${port}`, calls: 1, rate: 1, service: 'carol', timeoutS: 10,
    extra: ['-au', 'alice', '-ap', 'apw'],
  }));
  codes.busy = [Number(/received 'SIP\/2\.0 (\d{3})/.exec((await busy.done).output)?.[1] ?? 0)];
  // bob registered with Allow: INVITE, ACK, CANCEL, BYE, OPTIONS; registrar method_filtering is on.
  const msg = await udpRequest(port, request('MESSAGE', `sip:bob@127.0.0.1:${port}`));
  codes.message = msg.replies.map((r) => Number(r.slice(8, 11)));
  if (ipauth) {
    // From an address outside group 1 the call is challenged as before: uac.xml then sees the 407.
    const foreign = track(startSipp({
      scenario: 'uac.xml', port: await freePort(), localIp: '127.0.0.2', remote: `127.0.0.1:${port}`, rsa: `127.0.0.1:${port}`, calls: 1, rate: 1, service: 'bob', timeoutS: 10,
    }));
    const f = await foreign.done;
    codes.foreign = [Number(/received 'SIP\/2\.0 (\d{3})/.exec(f.output)?.[1] ?? 0)];
  }
  const lost = track(startSipp({
    scenario: ipauth ? 'uac.xml' : 'reg-uac-auth.xml', port: await freePort(), remote: `127.0.0.1:${port}`, rsa: `127.0.0.1:${port}`, calls: 1, rate: 1, service: 'nobody', timeoutS: 10,
    extra: ['-au', 'alice', '-ap', 'apw'],
  }));
  const l = await lost.done;
  codes.unknown = [Number(/received 'SIP\/2\.0 (\d{3})/.exec(l.output)?.[1] ?? 0)];
  await settle(1200);
  await uas.stop();
  const ports = new Map<number, string>([[port, 'PROXY'], [uasPort, 'UAS'], [regPort, 'REG']]);
  const seenAtUas = receivedMessages(readFileSync(join(uas.dir, 'msg.log'), 'utf8'))
    .map((m) => normalize(m, ports).replace(/(:|rport=)(\d{4,5})\b/g, (all, sep: string, p: string) => (Number(p) > 1024 && !ports.has(Number(p)) ? `${sep}UAC` : all)));
  return { uas: [...new Set(seenAtUas)].sort(), codes, acc: accRecords(proxyLog()) };
}

describe("Kamailio's basic KEMI example, unmodified", () => {
  it('passes the same scenarios on kemi-proxy and on Kamailio 5.6, with the same messages at the UAS', async () => {
    const kemi = await scenarios('kemi');
    expect(kemi.codes).toEqual({ options: [200], register: [1, 0], calls: [3, 0], registerBusy: [1, 0], busy: [486], message: [407], unknown: [404] });
    const kam = await scenarios('kamailio');
    expect(kam.codes).toEqual(kemi.codes);
    expect(kemi.uas).toEqual(kam.uas);
    // 3 INVITEs and 3 BYEs answered, 1 missed call (486), written alike by both.
    expect(kemi.acc.filter((l) => l.startsWith('ACC: transaction answered')).length).toBe(6);
    expect(kemi.acc.filter((l) => l.startsWith('ACC: call missed')).length).toBe(1);
    expect(kemi.acc).toEqual(kam.acc);
  }, 120_000);

  it('with WITH_IPAUTH (permissions, address group 1 = 127.0.0.1): the same on both, calls from 127.0.0.1 need no credentials', async () => {
    const kemi = await scenarios('kemi', true);
    expect(kemi.codes).toEqual({ options: [200], register: [1, 0], calls: [3, 0], registerBusy: [1, 0], busy: [486], message: [405], foreign: [407], unknown: [404] });
    const kam = await scenarios('kamailio', true);
    expect(kam.codes).toEqual(kemi.codes);
    expect(kemi.uas).toEqual(kam.uas);
    expect(kemi.acc.length).toBe(7);
    expect(kemi.acc).toEqual(kam.acc);
  }, 120_000);
});
