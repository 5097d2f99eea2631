// Builds the lab's namespaces and links from a LabPlan: the fabric (a bridge, or the ToR's
// links), each node's namespace and uplink, and each pod as a namespace behind a Calico-named
// veth (what Calico's CNI plugin would have made). Routing between nodes is left to Kite.
import { ipBatch, exec, sysctls } from './sys.js';
import { CALI_MAC, nodeBlocks, POD_GATEWAY, POD_GATEWAY_V6, podAddresses, Underlay, type LabPlan, type NodePlan, type PodPlan } from './topology.js';

/** `addr add` for an address: IPv6 without duplicate address detection, usable at once. */
const addrAdd = (ip: string, len: number, dev: string): string => `addr add ${ip}/${len} dev ${dev}${ip.includes(':') ? ' nodad' : ''}`;

/** Creates the fabric namespace (bridge) or ToR namespace, and every node's uplink. */
export async function buildUnderlay(plan: LabPlan): Promise<void> {
  const hub = plan.underlay === Underlay.TorRouted ? plan.torNs : plan.fabricNs;
  if (hub === undefined) throw new Error('ToR-routed underlay without a ToR namespace');
  await exec('ip', ['netns', 'add', hub]);
  const hubCmds = ['link set lo up'];
  if (plan.underlay === Underlay.OneSubnet) hubCmds.push('link add br0 type bridge', 'link set br0 up');
  await ipBatch(hub, hubCmds);
  if (plan.underlay === Underlay.TorRouted) await sysctls(hub, { 'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1 });

  for (const n of plan.nodes) {
    await exec('ip', ['netns', 'add', n.netns]);
    // The pair is made in the node namespace and one end moved to the hub: nothing is ever
    // created in the host's own namespace.
    await ipBatch(n.netns, [
      'link set lo up',
      `link add eth0 type veth peer name ${n.fabricIf} netns ${hub}`,
      addrAdd(n.ip, n.prefixLength, 'eth0'),
      ...(n.ip6 !== undefined ? [addrAdd(n.ip6, 64, 'eth0')] : []),
      'link set eth0 up',
      ...(n.gateway ? [`route add default via ${n.gateway}`] : []),
      ...(n.gateway6 ? [`route add default via ${n.gateway6}`] : []),
    ]);
    const hubSide = [`link set ${n.fabricIf} up`];
    if (plan.underlay === Underlay.OneSubnet) hubSide.unshift(`link set ${n.fabricIf} master br0`);
    else {
      // The ToR's side of the node's link: its IPv4 and/or IPv6 gateway address.
      if (n.torIp6 !== undefined) hubSide.unshift(addrAdd(n.torIp6, 64, n.fabricIf));
      if (n.torIp !== undefined) hubSide.unshift(addrAdd(n.torIp, 24, n.fabricIf));
    }
    await ipBatch(hub, hubSide);
    // A node routes for its pods. rp_filter off: the lab's pods answer from /32s that strict
    // reverse-path checks on a fresh namespace's defaults could drop while routes converge.
    await sysctls(n.netns, {
      'net.ipv4.ip_forward': 1,
      'net.ipv4.conf.all.rp_filter': 0,
      'net.ipv4.conf.default.rp_filter': 0,
      ...(n.ip.includes(':') || n.ip6 !== undefined ? { 'net.ipv6.conf.all.forwarding': 1 } : {}),
    });
  }
}

/**
 * One pod: its namespace, eth0 with the pod IP/32 and a default route via 169.254.1.1 onlink
 * (Calico's CNI layout), and the host side `cali…` up in the node namespace with MAC
 * ee:ee:ee:ee:ee:ee. No host route and no proxy ARP: those belong to whoever programs routes.
 */
export async function buildPod(node: NodePlan, pod: PodPlan): Promise<void> {
  await exec('ip', ['netns', 'add', pod.netns]);
  const addrs = podAddresses(pod);
  const v4 = addrs.find((a) => !a.includes(':'));
  const v6 = addrs.find((a) => a.includes(':'));
  await ipBatch(node.netns, [
    `link add ${pod.hostIf} type veth peer name eth0 netns ${pod.netns}`,
    `link set ${pod.hostIf} address ${CALI_MAC}`,
  ]);
  // IPv6: the pod's gateway is the host side's link-local, which DAD would hold back ~1 s.
  if (v6 !== undefined) {
    await sysctls(node.netns, { [`net.ipv6.conf.${pod.hostIf}.accept_dad`]: 0 });
    await sysctls(pod.netns, { 'net.ipv6.conf.eth0.accept_dad': 0 });
  }
  await ipBatch(node.netns, [`link set ${pod.hostIf} up`]);
  await ipBatch(pod.netns, [
    'link set lo up',
    `link set eth0 address ${pod.mac}`,
    ...(v4 !== undefined ? [`addr add ${v4}/32 dev eth0`] : []),
    ...(v6 !== undefined ? [addrAdd(v6, 128, 'eth0')] : []),
    'link set eth0 up',
    ...(v4 !== undefined ? [`route add ${POD_GATEWAY} dev eth0 scope link`, `route add default via ${POD_GATEWAY} dev eth0 onlink`] : []),
    ...(v6 !== undefined ? [`route add default via ${POD_GATEWAY_V6} dev eth0`] : []),
  ]);
}

/**
 * What Calico's dataplane would do for local workloads, done by the lab when Kite's dataplane
 * is not running: /32 to each pod on its cali veth, proxy ARP so the pod's 169.254.1.1 resolves
 * (with no delay: a pod's first packet must not wait 0.8 s), and a blackhole for the local block.
 */
export async function programLocalPods(node: NodePlan): Promise<void> {
  const settings: Record<string, number> = {};
  for (const p of node.pods) {
    for (const a of podAddresses(p)) {
      if (a.includes(':')) {
        settings[`net.ipv6.conf.${p.hostIf}.proxy_ndp`] = 1;
        settings[`net.ipv6.conf.${p.hostIf}.forwarding`] = 1;
      } else {
        settings[`net.ipv4.conf.${p.hostIf}.proxy_arp`] = 1;
        settings[`net.ipv4.neigh.${p.hostIf}.proxy_delay`] = 0;
        settings[`net.ipv4.conf.${p.hostIf}.forwarding`] = 1;
      }
    }
  }
  await sysctls(node.netns, settings);
  const pods = node.pods.flatMap((p) => podAddresses(p).map((ip) => ({ p, ip })));
  await ipBatch(node.netns, [
    ...nodeBlocks(node).map((b) => `route replace blackhole ${b}`),
    ...pods.map(({ p, ip }) => `route replace ${ip}/${ip.includes(':') ? 128 : 32} dev ${p.hostIf} scope link`),
    ...pods.map(({ p, ip }) => `neigh replace ${ip} lladdr ${p.mac} dev ${p.hostIf} nud permanent`),
  ]);
}
