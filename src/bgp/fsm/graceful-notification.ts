// RFC 8538 (Notification Message support for BGP Graceful Restart) as two pure decisions: which
// NOTIFICATIONs go out wrapped in Cease/Hard Reset, and whether a session that went down leaves
// the peer's routes to graceful restart (RFC 4724 §4.2) or flushes them. The session applies them.
import { CeaseSub, ErrCode } from '../wire/errors.js';

/**
 * RFC 8538 §5.1, once both sides announced the N bit: the Cease subcodes that mean "forget my
 * routes" go out as Hard Reset: Maximum Number of Prefixes Reached, Administrative Shutdown, Peer
 * De-configured, Hard Reset itself, BFD Down. Administrative Reset is left to the operator by the
 * RFC; Kite sends it as a plain Cease (graceful): it is what `kite peer reset` and a restart stop
 * send, and both want the peer to keep the routes. FRR's bgpd makes the same split by default.
 */
export function sentAsHardReset(code: number, subcode: number): boolean {
  if (code !== ErrCode.Cease) return false;
  switch (subcode) {
    case CeaseSub.MaxPrefixes: case CeaseSub.AdministrativeShutdown: case CeaseSub.PeerDeconfigured:
    case CeaseSub.HardReset: case CeaseSub.BfdDown:
      return true;
    default:
      return false;
  }
}

/** How an Established period ended, as far as RFC 4724/8538 care. */
export interface DownFacts {
  /** A NOTIFICATION was sent or received (a hold-timer expiry sends one). */
  readonly notification: boolean;
  /** Both OPENs carried the N bit (RFC 8538 §2). */
  readonly nBit: boolean;
  /** The NOTIFICATION was a Cease/Hard Reset, sent or received. */
  readonly hardReset: boolean;
}

/**
 * May the receiving side keep the peer's routes as stale? RFC 4724 §4.2: only when the session
 * ended without a NOTIFICATION. RFC 8538 §4: with the N bit on both sides, also after any
 * NOTIFICATION (hold-timer expiry included) other than Cease/Hard Reset, which flushes at once.
 */
export function keepsRoutes(f: DownFacts): boolean {
  if (!f.notification) return true;
  return f.nBit && !f.hardReset;
}
