// Whether two derived peer configurations ask for the same session: an explicit, field-by-field
// comparison (not equality by serialisation), checked at compile time to cover every field, so a
// new PeerConfig field cannot be forgotten and silently leave sessions unreset.
import type { PeerConfig } from '../config/types.js';

/** Fields compared with ===. */
const SCALARS = [
  'name', 'kind', 'resource', 'reverse', 'peerNode', 'address', 'family', 'port', 'asNumber', 'localAsNumber',
  'passive', 'sourceAddress', 'multihop', 'ttlSecurity', 'keepaliveTime', 'maxRestartTime', 'restartTime',
  'nextHopMode', 'keepOriginalNextHop', 'numAllowedLocalASNumbers', 'maxPrefixes', 'maxPrefixesRestart',
  'reachableBy', 'routeReflectorClient', 'routeReflectorClusterID', 'localWorkload',
] as const satisfies readonly (keyof PeerConfig)[];

/**
 * Compared by their own rules below. `spec` (the raw BGPPeer, kept "for later features") is
 * not compared: everything of it that Kite acts on is already one of the derived fields.
 */
type Structured = 'password' | 'filters' | 'spec';

// Fails to compile when PeerConfig gains a field that neither list names.
type Unlisted = Exclude<keyof PeerConfig, (typeof SCALARS)[number] | Structured>;
const everyField: [Unlisted] extends [never] ? true : Unlisted = true;
void everyField;

export function samePeer(a: PeerConfig, b: PeerConfig): boolean {
  for (const k of SCALARS) if (a[k] !== b[k]) return false;
  const pa = a.password?.secretKeyRef, pb = b.password?.secretKeyRef;
  if (pa?.name !== pb?.name || pa?.key !== pb?.key) return false;
  return a.filters.length === b.filters.length && a.filters.every((f, i) => f === b.filters[i]);
}
