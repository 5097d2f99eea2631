// Semantic checks of a received OPEN (RFC 4271 §6.2, RFC 6793 §4) and capability negotiation
// (RFC 4760, RFC 7911 §4, RFC 8654, RFC 2918/7313, RFC 4724). Needs session context, unlike open.ts.
import { ErrCode, OpenSub, WireError, sessionReset } from './errors.js';
import { IPV4_UNICAST, type Capabilities, type CodecContext, type FamilyKey, type OpenMessage } from './types.js';

export const AS_TRANS = 23456;
export const BGP_VERSION = 4;

/** The real AS of the speaker that sent open: the 4-octet AS capability when present (RFC 6793 §4.1). */
export const openAs = (open: OpenMessage): number => open.capabilities.fourOctetAs ?? open.myAs;

export function validateOpen(open: OpenMessage, expect: { peerAs: number; localBgpId: number; ibgp?: boolean }): WireError | null {
  if (open.version !== BGP_VERSION) {
    // §6.2: data is the largest locally supported version number, 2 octets.
    return sessionReset(ErrCode.OpenMessage, OpenSub.UnsupportedVersion, `unsupported BGP version ${open.version}`, Buffer.of(0, BGP_VERSION));
  }
  if (openAs(open) !== expect.peerAs) {
    return sessionReset(ErrCode.OpenMessage, OpenSub.BadPeerAs, `peer AS ${openAs(open)} is not the configured ${expect.peerAs}`);
  }
  // RFC 6793 §4.1: a 4-octet AS that fits in 2 octets must also be in My AS; otherwise My AS is AS_TRANS.
  const cap = open.capabilities.fourOctetAs;
  if (cap !== undefined && open.myAs !== (cap > 0xffff ? AS_TRANS : cap) && open.myAs !== AS_TRANS) {
    return sessionReset(ErrCode.OpenMessage, OpenSub.BadPeerAs, `My AS ${open.myAs} disagrees with the 4-octet AS ${cap}`);
  }
  if (open.holdTime === 1 || open.holdTime === 2) {
    return sessionReset(ErrCode.OpenMessage, OpenSub.UnacceptableHoldTime, `unacceptable hold time ${open.holdTime}`);
  }
  // RFC 6286 §2.1: the BGP Identifier is a non-zero 4-octet unsigned number, so 255.255.255.255
  // is as valid as any other (BIRD and FRR accept it); 0 is not. For iBGP the peer's id must
  // differ from ours (RFC 6286 §2.2).
  if (open.bgpId === 0 || (expect.ibgp && open.bgpId === expect.localBgpId >>> 0)) {
    return sessionReset(ErrCode.OpenMessage, OpenSub.BadBgpId, `bad BGP identifier ${open.bgpId >>> 0}`);
  }
  return null;
}

export interface Negotiated extends CodecContext {
  /** Families both sides announced (IPv4 unicast implied by a side that sends no MP capability). */
  families: FamilyKey[];
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  /** The peer's graceful restart capability, when it sent one (RFC 4724). */
  remoteGracefulRestart?: NonNullable<Capabilities['gracefulRestart']>;
  /** Both sides announced graceful restart. */
  gracefulRestart: boolean;
  /**
   * RFC 8538 §2: both sides set the N bit in their graceful restart capability, so a NOTIFICATION
   * other than Cease/Hard Reset (and hold-timer expiry) is followed by graceful restart too.
   */
  gracefulNotification: boolean;
}

const familiesOf = (c: Capabilities): FamilyKey[] => (c.multiprotocol.length ? c.multiprotocol : [IPV4_UNICAST]);

export function negotiate(local: Capabilities, remote: Capabilities, ibgp: boolean): Negotiated {
  const remoteFams = new Set(familiesOf(remote));
  const families = familiesOf(local).filter((f) => remoteFams.has(f));
  const addPathRx = new Set<FamilyKey>(), addPathTx = new Set<FamilyKey>();
  // RFC 7911 §4: receive path ids for F when we said receive and they said send; and vice versa.
  for (const l of local.addPath) {
    const r = remote.addPath.find((a) => a.family === l.family);
    if (!r || !families.includes(l.family)) continue;
    if (l.mode & 1 && r.mode & 2) addPathRx.add(l.family);
    if (l.mode & 2 && r.mode & 1) addPathTx.add(l.family);
  }
  const out: Negotiated = {
    fourOctetAs: local.fourOctetAs !== undefined && remote.fourOctetAs !== undefined,
    addPathRx, addPathTx,
    extendedMessage: local.extendedMessage && remote.extendedMessage,
    ibgp,
    families,
    routeRefresh: local.routeRefresh && remote.routeRefresh,
    enhancedRouteRefresh: local.enhancedRouteRefresh && remote.enhancedRouteRefresh,
    gracefulRestart: local.gracefulRestart !== undefined && remote.gracefulRestart !== undefined,
    gracefulNotification: local.gracefulRestart?.notification === true && remote.gracefulRestart?.notification === true,
  };
  if (remote.gracefulRestart) out.remoteGracefulRestart = remote.gracefulRestart;
  return out;
}
