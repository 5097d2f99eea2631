// Read-only, typed access to the Loc-RIB for readers outside the table (the control API): every
// prefix in address order, the longest prefix covering an address, a prefix's paths best first.
// It returns slots and path indexes; turning them into JSON is the API's business (src/api/view.ts).
import { IPV4_UNICAST, type FamilyKey } from '../bgp/wire/types.js';
import { readIpv4 as readU32 } from '../net/index.js';
import type { Rib } from './rib.js';

/** Every Loc-RIB slot, IPv4 first, in address order. */
export function sortedSlots(rib: Rib): number[] {
  const slots: number[] = [];
  rib.prefixes.forEach((s) => slots.push(s));
  const t = rib.prefixes;
  const key = (s: number): string => {
    const b = t.bytes(s);
    return `${t.family[s]!.toString(16)}${Buffer.from(b).toString('hex')}${t.plen[s]!.toString(16).padStart(2, '0')}`;
  };
  const keys = new Map(slots.map((s) => [s, key(s)]));
  slots.sort((a, b) => (keys.get(a)! < keys.get(b)! ? -1 : 1));
  return slots;
}

/** The slot of exactly this prefix, or -1. */
export function exactSlot(rib: Rib, family: FamilyKey, bytes: Uint8Array, len: number): number {
  return rib.prefixes.find(family, bytes, len);
}

/** The slot of the longest prefix covering the address `addr` (its first `len` bits), or -1. */
export function longestMatch(rib: Rib, family: FamilyKey, addr: Uint8Array, len: number): number {
  const bytes = Uint8Array.from(addr);
  for (let l = len; l >= 0; l--) {
    // Clear the host bits below `l` and probe: at most 33 (or 129) hash lookups.
    if (l < len) bytes[l >> 3]! &= (0xff00 >> (l & 7)) & 0xff;
    const slot = family === IPV4_UNICAST ? rib.prefixes.find4(readU32(bytes), l) : rib.prefixes.find(family, bytes, l);
    if (slot >= 0) return slot;
  }
  return -1;
}

/** The paths of `slot`: the best first, then by peer index. */
export function pathsBestFirst(rib: Rib, slot: number): number[] {
  const best = rib.best(slot);
  return rib.pathsOf(slot).sort((x, y) => (x === best ? -1 : y === best ? 1 : rib.pathPeer(x) - rib.pathPeer(y)));
}
