// The two RFC 8538 decisions as tables: which Cease subcodes travel as Hard Reset once both sides
// set the N bit (RFC 8538 §5.1, FRR's bgp_notify_send_hard_reset makes the same split), and when
// a session that went down leaves the peer's routes to graceful restart (RFC 4724 §4.2, RFC 8538 §4).
import { describe, expect, it } from 'vitest';
import { keepsRoutes, sentAsHardReset } from '../../../src/bgp/fsm/graceful-notification.js';

describe('sentAsHardReset (RFC 8538 §5.1)', () => {
  it.each([
    [6, 1, true], // Maximum Number of Prefixes Reached
    [6, 2, true], // Administrative Shutdown
    [6, 3, true], // Peer De-configured
    [6, 4, false], // Administrative Reset: "provide user control"; Kite keeps it graceful
    [6, 5, false], // Connection Rejected
    [6, 6, false], // Other Configuration Change
    [6, 7, false], // Connection Collision Resolution
    [6, 8, false], // Out of Resources
    [6, 9, true], // Hard Reset
    [6, 10, true], // BFD Down
    [4, 0, false], // Hold Timer Expired is no Cease
    [3, 1, false], // UPDATE Message Error
  ])('code %i subcode %i → %s', (code, subcode, want) => {
    expect(sentAsHardReset(code, subcode)).toBe(want);
  });
});

describe('keepsRoutes (RFC 4724 §4.2, RFC 8538 §4)', () => {
  it.each([
    // notification, nBit, hardReset → keep
    [false, false, false, true], // TCP lost, no NOTIFICATION: RFC 4724 graceful restart
    [false, true, false, true],
    [true, false, false, false], // any NOTIFICATION without the N bit: flush (RFC 4724)
    [true, true, false, true], // N bit, NOTIFICATION other than Hard Reset (hold timer too): graceful
    [true, true, true, false], // N bit, Hard Reset: flush at once
  ])('notification %s, N bit %s, hard reset %s → keep %s', (notification, nBit, hardReset, want) => {
    expect(keepsRoutes({ notification, nBit, hardReset })).toBe(want);
  });
});
