// Object names exactly as Calico's Kubernetes backend derives them (libcalico-go
// lib/names.CIDRToName, k8s/resources ipam_affinity.go and ipam_handle.go), so an object Kite
// writes is the object calico-ipam reads, and a claim by either one collides with the other's.
import { createHash } from 'node:crypto';
import { parsePrefix } from '../net/index.js';

/** "10.244.1.0/26" → "10-244-1-0-26"; "fd00:1::/122" → "fd00-1---122". */
export function cidrName(cidr: string): string {
  const c = parsePrefix(cidr, { hostBits: 'clear' });
  if (c === null) throw new Error(`"${cidr}" is not a CIDR`);
  // Go prints IPv6 in the RFC 5952 form, as src/net does.
  return c.toString().replace(/[.:/]/g, '-');
}

/** IPAMBlock name: the block CIDR with separators as dashes. */
export function blockName(cidr: string): string {
  return cidrName(cidr);
}

/**
 * BlockAffinity name: "<node>-<cidr name>". Kubernetes names stop at 253 characters; Calico
 * then cuts the node name and appends 11 hex digits of sha256("<node>+<cidr name>").
 */
export function affinityName(node: string, cidr: string): string {
  const c = cidrName(cidr);
  const name = `${node}-${c}`;
  if (name.length < 253) return name;
  const hash = createHash('sha256').update(`${node}+${c}`).digest('hex').slice(0, 11);
  return `${node.slice(0, 252 - c.length - 13)}-${c}-${hash}`;
}

/** IPAMHandle name: the handle ID in lower case (Kubernetes names are lower case). */
export function handleName(handleID: string): string {
  return handleID.toLowerCase();
}

/** The handle calico-node uses for a node's IPIP tunnel address. */
export function ipipTunnelHandle(node: string): string {
  return `ipip-tunnel-addr-${node}`;
}

/**
 * The handle calico-node uses for a node's VXLAN tunnel (VTEP) address; the IPv6 VTEP's has
 * "-v6-" in the middle (node/pkg/allocateip: "vxlan-v6-tunnel-addr-<node>").
 */
export function vxlanTunnelHandle(node: string, family: 4 | 6 = 4): string {
  return family === 6 ? `vxlan-v6-tunnel-addr-${node}` : `vxlan-tunnel-addr-${node}`;
}

/**
 * The VTEP MAC Kite gives a node whose Node names none: derived from the node name (so every
 * Kite node computes the same one for it), locally administered and unicast (IEEE 802 bits
 * 0x02 set, 0x01 clear). Kite writes it to the Node with the VTEP address, as calico-node does
 * with the MAC Felix's device got.
 */
export function vxlanMac(node: string, family: 4 | 6 = 4): string {
  const h = createHash('sha256').update(`kite-vxlan-${family}-${node}`).digest();
  h[0] = (h[0]! & 0xfe) | 0x02;
  return [...h.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** IPAMBlock.spec.affinity for a node. */
export function hostAffinity(node: string): string {
  return `host:${node}`;
}

/**
 * The labels Calico 3.30+ puts on every BlockAffinity it writes to the Kubernetes API, and lists
 * affinities by (libcalico-go model/block_affinity.go EnsureBlockAffinityLabels and
 * CalculateBlockAffinityLabelSelector; keys in api/pkg/apis/projectcalico/v3/constants.go).
 */
export const AffinityLabel = {
  HostnameHash: 'projectcalico.org/hostname-hash',
  AffinityType: 'projectcalico.org/affinity-type',
  IPVersion: 'projectcalico.org/ip-version',
} as const;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (standard alphabet), without "=" padding. */
function base32NoPad(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31];
  return out;
}

/**
 * The hostname-hash label value: SHA3-256 of the node name, base32 without padding (52
 * characters; a label value may have at most 63, and host names may be longer).
 */
export function hostnameHash(node: string): string {
  return base32NoPad(createHash('sha3-256').update(node, 'utf8').digest());
}

/** The labels of a host BlockAffinity for `node` and block `cidr`, as Calico writes them. */
export function affinityLabels(node: string, cidr: string): Record<string, string> {
  return {
    [AffinityLabel.HostnameHash]: hostnameHash(node),
    [AffinityLabel.AffinityType]: 'host',
    [AffinityLabel.IPVersion]: cidr.includes(':') ? '6' : '4',
  };
}
