/** Session-Expires parsing and who refreshes (RFC 4028), as the bridge reads them. */
import { describe, expect, it } from 'vitest';
import { Dialog } from '../../src/drachtio/dialogs.js';
import { applySessionExpires, parseSessionExpires } from '../../src/drachtio/session-timer.js';

function dialog(): Dialog {
  return new Dialog({
    role: 'uas', app: null, callId: 'c', localTag: 'l', remoteTag: 'r', localUri: '<sip:a@b>', remoteUri: '<sip:c@d>',
    remoteTarget: 'sip:c@d', routeSet: [], localSeq: 1, remoteSeq: 1, localContact: '', inviteSeq: 1,
  });
}

describe('session timers', () => {
  it('parses Session-Expires', () => {
    expect(parseSessionExpires('1800;refresher=uac')).toEqual({ interval: 1800, refresher: 'uac' });
    expect(parseSessionExpires(' 90 ; refresher = UAS')).toEqual({ interval: 90, refresher: 'uas' });
    expect(parseSessionExpires('600')).toEqual({ interval: 600 });
    for (const bad of [undefined, '', 'x', '0', '-5', '99999999999999999999']) expect(parseSessionExpires(bad)).toBeNull();
  });

  it('refresher uac (or none) is whoever sent the request; no Session-Expires clears the timer', () => {
    const act = { refresh: () => undefined, expire: () => undefined };
    const d = dialog();
    applySessionExpires(d, { interval: 100, refresher: 'uac' }, false, act);
    expect(d.session?.weRefresh).toBe(false);
    applySessionExpires(d, { interval: 100 }, true, act);
    expect(d.session?.weRefresh).toBe(true);
    applySessionExpires(d, { interval: 100, refresher: 'uas' }, false, act);
    expect(d.session?.weRefresh).toBe(true);
    expect(d.sessionInterval).toBe(100);
    applySessionExpires(d, null, false, act);
    expect(d.session).toBeNull();
  });
});
