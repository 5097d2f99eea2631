// This node's BGP identity at start-up, with calico-node's environment and semantics
// (node/pkg/lifecycle/startup/startup.go configureIPsAndSubnets, configureASNumber,
// checkConflictingNodes; confd's CALICO_ROUTER_ID and hashToIPv4): which addresses and AS the
// Node gets, what must be written back, and the clear error calico-node gives on a duplicate.
import { createHash } from 'node:crypto';
import { parseAddr, parsePrefix } from '../net/index.js';
import type { Node, NodeBGPSpec } from '../datastore/resources.js';
import { autodetect, hostInterfaces, localCidr, type DetectOptions, type IpVersion } from './autodetect.js';

/** calico-node's variables (a flag of `kite run` overrides its variable before it gets here). */
export type StartupEnv = Readonly<Record<string, string | undefined>>;

export interface Identity {
  /** The Node's BGP fields after start-up (what the daemon uses). */
  bgp: NodeBGPSpec;
  /** Fields that differ from the stored Node: written back (Kubernetes) or used in memory (file). */
  changed: Partial<Record<'ipv4Address' | 'ipv6Address' | 'asNumber', string | number | null>>;
  /** CALICO_ROUTER_ID resolved ("hash" → an address from the node name), when set. */
  routerId?: string;
  /** One line per decision, for the log. */
  notes: string[];
}

export class StartupError extends Error {}

/** confd's hashToIPv4: the first four bytes of SHA-256(node name), the first octet kept below 224. */
export function hashToIPv4(nodeName: string): string {
  const b = createHash('sha256').update(nodeName).digest();
  const first = b[0]! > 223 ? b[0]! - 32 : b[0]!;
  return `${first}.${b[1]!}.${b[2]!}.${b[3]!}`;
}

export interface ResolveOptions extends DetectOptions {
  env: StartupEnv;
  nodeName: string;
  /** This node's Calico Node as stored (undefined: none yet). */
  node: Node | undefined;
  /** Every other Node, for the duplicate-address check. */
  others: readonly Node[];
}

export async function resolveIdentity(o: ResolveOptions): Promise<Identity> {
  const { env } = o;
  const stored = o.node?.spec.bgp ?? {};
  const bgp: NodeBGPSpec = { ...stored };
  const notes: string[] = [];

  // IPv4 is autodetected when IP is "autodetect", or unset with no address stored; IPv6 only
  // when IP6 says "autodetect" (calico-node's rule). "none" keeps a stored address.
  const v4 = await address(4, env['IP'], env['IP_AUTODETECTION_METHOD'], stored.ipv4Address, o, notes);
  const v6 = await address(6, env['IP6'], env['IP6_AUTODETECTION_METHOD'], stored.ipv6Address, o, notes);
  if (v4 === undefined) delete bgp.ipv4Address; else bgp.ipv4Address = v4;
  if (v6 === undefined) delete bgp.ipv6Address; else bgp.ipv6Address = v6;
  if (bgp.ipv4Address === undefined && bgp.ipv6Address === undefined) {
    throw new StartupError('No IP Addresses configured, and autodetection is not enabled (set IP or IP6, or --ip/--ip6)');
  }

  const as = env['AS'];
  if (as !== undefined && as !== '') {
    const n = /^\d+$/.test(as) ? Number(as) : NaN;
    if (!(n >= 1 && n <= 0xffffffff)) throw new StartupError(`AS "${as}" is not an AS number (1-4294967295)`);
    bgp.asNumber = n;
  }

  const changed: Identity['changed'] = {};
  if (bgp.ipv4Address !== stored.ipv4Address) changed.ipv4Address = bgp.ipv4Address ?? null;
  if (bgp.ipv6Address !== stored.ipv6Address) changed.ipv6Address = bgp.ipv6Address ?? null;
  if (bgp.asNumber !== stored.asNumber) changed.asNumber = bgp.asNumber ?? null;
  // Like calico-node, only a changed address is checked against the other Nodes.
  if (changed.ipv4Address || changed.ipv6Address) conflicts(o.nodeName, bgp, o.others);

  const out: Identity = { bgp, changed, notes };
  const rid = env['CALICO_ROUTER_ID'];
  if (rid !== undefined && rid !== '') {
    if (rid === 'hash') out.routerId = hashToIPv4(o.nodeName);
    else if (parseAddr(rid)?.family === 4) out.routerId = rid;
    else throw new StartupError(`CALICO_ROUTER_ID "${rid}" is neither "hash" nor an IPv4 address`);
    notes.push(`router ID ${out.routerId} from CALICO_ROUTER_ID=${rid}`);
  } else if (bgp.ipv4Address === undefined) {
    throw new StartupError('this node has no IPv4 address, so BGP has no router ID: set CALICO_ROUTER_ID=hash (or an IPv4 address), or --router-id');
  }
  return out;
}

async function address(version: IpVersion, value: string | undefined, method: string | undefined, stored: string | undefined,
  o: ResolveOptions, notes: string[]): Promise<string | undefined> {
  const name = version === 4 ? 'IP' : 'IP6';
  const v = (value ?? '').trim();
  if (v === 'autodetect' || (version === 4 && v === '' && stored === undefined)) {
    try {
      const found = await autodetect(method, version, o);
      notes.push(`Using autodetected IPv${version} address ${found.cidr} (${found.how})`);
      return found.cidr;
    } catch (e) {
      if (stored === undefined) throw new StartupError(`Failed to autodetect an IPv${version} address: ${(e as Error).message}`);
      notes.push(`Autodetection of IPv${version} address failed, keeping existing value: ${stored} (${(e as Error).message})`);
      return stored;
    }
  }
  if (v === 'none' || v === '') return stored;
  const ip = v.includes('/') ? v : localCidr(v, (o.interfaces ?? hostInterfaces)());
  const p = parsePrefix(ip);
  if (p === null || p.family !== version) throw new StartupError(`${name} "${v}" is not an IPv${version} address (or autodetect, none)`);
  return ip;
}

function conflicts(nodeName: string, mine: NodeBGPSpec, others: readonly Node[]): void {
  const ip = (c: string | undefined) => (c === undefined ? undefined : parsePrefix(c)?.addr.toString());
  const [m4, m6] = [ip(mine.ipv4Address), ip(mine.ipv6Address)];
  const errors: string[] = [];
  for (const n of others) {
    if (n.metadata.name === nodeName) continue;
    if (m4 !== undefined && ip(n.spec.bgp?.ipv4Address) === m4) errors.push(`Calico node '${n.metadata.name}' is already using the IPv4 address ${m4}.`);
    if (m6 !== undefined && ip(n.spec.bgp?.ipv6Address) === m6) errors.push(`Calico node '${n.metadata.name}' is already using the IPv6 address ${m6}.`);
  }
  if (errors.length > 0) throw new StartupError(`${errors.join(' ')} Check the node configuration to remove the IP address conflict.`);
}
