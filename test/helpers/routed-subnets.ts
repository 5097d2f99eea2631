// Two node subnets joined by a router, for the CrossSubnet tests (VXLAN, IPv4 and IPv6): the lab's
// bridge namespace routes between its br0 (subnet A) and a second bridge br1 (subnet B); each node
// namespace hangs off one of them with the subnet's .254 (::254) as its default route. Subnet s is
// 198.18.s.0/24 and, dual-stack, fd00:198:18:s::/64. Lab.destroy removes every namespace made here.
import { must, type Lab, type LabNode } from '../interop/netns.js';

export const subnetV4 = (sub: number, i: number): string => `198.18.${sub}.${i}`;
export const subnetV6 = (sub: number, i: number): string => `fd00:198:18:${sub}::${i}`;

export interface RoutedSubnets {
  /** The router's namespace (the lab's bridge namespace). */
  router: string;
  subA: number;
  subB: number;
  /** Dual-stack: IPv6 addresses and routes beside the IPv4 ones, without DAD so they answer at once. */
  ipv6: boolean;
}

/** Makes the created lab's bridge namespace the router between br0 (subnet `subA`) and a new br1 (`subB`), forwarding on. */
export async function routeSubnets(lab: Lab, subA: number, subB: number, o: { ipv6?: boolean } = {}): Promise<RoutedSubnets> {
  const ipv6 = o.ipv6 ?? false;
  const router = `${lab.name}-br`;
  await must('ip', ['-n', router, 'link', 'add', 'br1', 'type', 'bridge']);
  await must('ip', ['-n', router, 'link', 'set', 'br1', 'up']);
  for (const [br, sub] of [['br0', subA], ['br1', subB]] as const) {
    if (ipv6) await must('ip', ['netns', 'exec', router, 'sysctl', '-q', '-w', `net.ipv6.conf.${br}.accept_dad=0`]);
    await must('ip', ['-n', router, 'addr', 'add', `${subnetV4(sub, 254)}/24`, 'dev', br]);
    if (ipv6) await must('ip', ['-n', router, 'addr', 'add', `${subnetV6(sub, 254)}/64`, 'dev', br, 'nodad']);
  }
  await must('ip', ['netns', 'exec', router, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', ...(ipv6 ? ['net.ipv6.conf.all.forwarding=1'] : [])]);
  return { router, subA, subB, ipv6 };
}

/** Node `name` (lab namespace `<lab>-<name>`, router port p<index>) at address .<index> of subnet `sub`, its eth0 on that subnet's bridge. */
export async function addSubnetNode(lab: Lab, net: RoutedSubnets, name: string, index: number, sub: number): Promise<LabNode> {
  const ns = `${lab.name}-${name}`;
  await must('ip', ['netns', 'add', ns]);
  const ln: LabNode = { name, ns, index, ipv4: subnetV4(sub, index), ipv6: net.ipv6 ? subnetV6(sub, index) : '', ifname: 'eth0' };
  lab.nodes.set(name, ln);
  await must('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${index}`, 'netns', net.router]);
  await must('ip', ['-n', net.router, 'link', 'set', `p${index}`, 'master', sub === net.subA ? 'br0' : 'br1']);
  await must('ip', ['-n', net.router, 'link', 'set', `p${index}`, 'up']);
  await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  if (net.ipv6) await must('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.eth0.accept_dad=0']);
  await must('ip', ['-n', ns, 'addr', 'add', `${subnetV4(sub, index)}/24`, 'dev', 'eth0']);
  if (net.ipv6) await must('ip', ['-n', ns, 'addr', 'add', `${subnetV6(sub, index)}/64`, 'dev', 'eth0', 'nodad']);
  await must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  await must('ip', ['-n', ns, 'route', 'add', 'default', 'via', subnetV4(sub, 254)]);
  if (net.ipv6) await must('ip', ['-n', ns, '-6', 'route', 'add', 'default', 'via', subnetV6(sub, 254), 'dev', 'eth0']);
  return ln;
}

/** Packets a device in namespace `ns` has sent (stats64), e.g. a tunnel device, to tell encapsulated traffic from direct. */
export async function txPackets(ns: string, dev: string): Promise<number> {
  const j = JSON.parse(await must('ip', ['-n', ns, '-s', '-j', 'link', 'show', dev])) as Array<{ stats64: { tx: { packets: number } } }>;
  return j[0]!.stats64.tx.packets;
}
