// Node address autodetection, as calico-node does it (node/pkg/lifecycle/startup/autodetection):
// first-found, can-reach=, interface=, skip-interface=, cidr= and kubernetes-internal-ip over
// the host's interfaces in kernel order. Reads interfaces through an injectable function.
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { ignoredInterfaces } from '../dataplane/ignored.js';
import { parseAddr, parsePrefix, type Prefix } from '../net/index.js';

export { globToRegExp } from '../dataplane/ignored.js';

export type IpVersion = 4 | 6;

/** One interface and its addresses in CIDR form with the host part ("10.0.0.5/24"). */
export interface HostInterface { name: string; cidrs: string[] }

/**
 * calico-node's DEFAULT_INTERFACES_TO_EXCLUDE for first-found and skip-interface=: container,
 * bridge, tunnel and workload interfaces never carry the node's address.
 */
export const DEFAULT_INTERFACES_TO_EXCLUDE: readonly string[] = [
  '^docker.*', '^cbr.*', '^dummy.*', '^virbr.*', '^lxcbr.*', '^veth.*', '^lo',
  '^cali.*', '^tunl.*', '^flannel.*', '^kube-ipvs.*', '^cni.*',
  '^vxlan\\.calico.*', '^vxlan-v6\\.calico.*', '^wireguard\\.cali.*', '^wg-v6\\.cali.*', '^nodelocaldns.*',
];

/** The host's interfaces with addresses (os.networkInterfaces lists them in kernel order). */
export function hostInterfaces(): HostInterface[] {
  return Object.entries(networkInterfaces()).map(([name, addrs]) => ({
    name, cidrs: (addrs ?? []).filter((a) => a.cidr !== null).map((a) => a.cidr as string),
  }));
}

export interface DetectOptions {
  interfaces?: () => HostInterface[];
  /** kubernetes-internal-ip: the Kubernetes Node's InternalIP addresses (status.addresses). */
  internalIPs?: readonly string[];
  /** Interfaces never to use (BGPConfiguration ignoredInterfaces, glob patterns as Calico's). */
  ignored?: readonly string[];
}

/** An error calico-node would log and terminate on; the message says which method failed and why. */
export class AutodetectError extends Error {}

/**
 * The node's address in CIDR form (host part kept) by `method` (default first-found); throws
 * AutodetectError when nothing matches. Calico splits regex and CIDR lists on commas.
 */
export async function autodetect(method: string | undefined, version: IpVersion, o: DetectOptions = {}): Promise<{ cidr: string; how: string }> {
  const m = (method ?? '').trim();
  const list = (s: string) => s.split(/\s*,\s*/).filter((x) => x !== '');
  const ifs = () => withoutIgnored((o.interfaces ?? hostInterfaces)(), o.ignored ?? []);
  if (m === '' || m === 'first-found') return enumerate(ifs(), version, [], DEFAULT_INTERFACES_TO_EXCLUDE, null, 'first-found');
  if (m.startsWith('interface=')) return enumerate(ifs(), version, list(m.slice(10)), [], null, m);
  if (m.startsWith('skip-interface=')) return enumerate(ifs(), version, [], [...DEFAULT_INTERFACES_TO_EXCLUDE, ...list(m.slice(15))], null, m);
  if (m.startsWith('cidr=')) {
    const cidrs = list(m.slice(5)).map((c) => {
      const p = parsePrefix(c);
      if (p === null) throw new AutodetectError(`Invalid CIDR "${c}" for IP autodetection method: ${m}`);
      return p;
    });
    return enumerate(ifs(), version, [], [], cidrs, m);
  }
  if (m.startsWith('can-reach=')) return reach(m.slice(10), version, ifs());
  if (m === 'kubernetes-internal-ip') {
    if (o.internalIPs === undefined) throw new AutodetectError("Cannot use method 'kubernetes-internal-ip' when not running on a Kubernetes cluster (no Kubernetes Node)");
    const ip = o.internalIPs.find((a) => parseAddr(a)?.family === version);
    if (ip === undefined) throw new AutodetectError(`the Kubernetes Node has no IPv${version} InternalIP (kubernetes-internal-ip)`);
    return { cidr: localCidr(ip, ifs()), how: `Kubernetes InternalIP ${ip}` };
  }
  throw new AutodetectError(`Invalid IP autodetection method: ${m}`);
}

/** The address with the prefix length of the interface that holds it; the bare address (/32, /128) when none does. */
export function localCidr(ip: string, interfaces: readonly HostInterface[]): string {
  if (ip.includes('/')) return ip;
  const a = parseAddr(ip);
  for (const i of interfaces) for (const c of i.cidrs) if (a !== null && parsePrefix(c)?.addr.equals(a)) return c;
  return a === null ? ip : `${ip}/${a.bits}`;
}

function enumerate(interfaces: readonly HostInterface[], version: IpVersion, include: readonly string[], exclude: readonly string[],
  cidrs: readonly Prefix[] | null, how: string): { cidr: string; how: string } {
  const inc = include.map((r) => new RegExp(r));
  const exc = exclude.map((r) => new RegExp(r));
  for (const i of interfaces) {
    if (inc.length > 0 && !inc.some((r) => r.test(i.name))) continue;
    if (exc.some((r) => r.test(i.name))) continue;
    for (const c of i.cidrs) {
      const p = parsePrefix(c);
      if (p === null || p.family !== version || !usable(p)) continue;
      if (cidrs !== null && !cidrs.some((net) => net.family === p.family && net.has(p.addr))) continue;
      return { cidr: c, how: `${how}: interface ${i.name}` };
    }
  }
  throw new AutodetectError(`Unable to auto-detect an IPv${version} address (${how}): no interface matches`);
}

/** Loopback and link-local addresses are never a node's address (Calico skips them too). */
function usable(p: Prefix): boolean {
  const s = p.addr.toString();
  if (p.family === 4) return !s.startsWith('127.') && !s.startsWith('169.254.');
  return s !== '::1' && !/^fe[89ab]/i.test(s);
}

function withoutIgnored(interfaces: HostInterface[], ignored: readonly string[]): HostInterface[] {
  const skip = ignoredInterfaces(ignored);
  return interfaces.filter((i) => !skip(i.name));
}

/** can-reach=: the source address the kernel picks for a UDP "connection" to dest (nothing is sent). */
async function reach(dest: string, version: IpVersion, interfaces: readonly HostInterface[]): Promise<{ cidr: string; how: string }> {
  let address = dest;
  if (parseAddr(dest) === null) {
    try {
      address = (await lookup(dest, { family: version })).address;
    } catch (e) {
      throw new AutodetectError(`Unable to auto-detect IPv${version} address by connecting to ${dest}: ${(e as Error).message}`);
    }
  }
  if (parseAddr(address)?.family !== version) throw new AutodetectError(`can-reach=${dest} is not an IPv${version} destination`);
  const sock = createSocket(version === 4 ? 'udp4' : 'udp6');
  try {
    const local = await new Promise<string>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(80, address, () => resolve(sock.address().address));
    });
    return { cidr: localCidr(local, interfaces), how: `can-reach=${dest}` };
  } catch (e) {
    throw new AutodetectError(`Unable to auto-detect IPv${version} address by connecting to ${dest}: ${(e as Error).message}`);
  } finally {
    sock.close();
  }
}
