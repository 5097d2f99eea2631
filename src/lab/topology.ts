// The lab's plan: which namespaces, links, addresses, pods and Calico resources a `kite lab up`
// builds. Pure data (no I/O), so the naming rules (Calico's cali<sha1> interface names, the
// kitelab- namespace prefix every `down` relies on) are testable without root.
import { createHash } from 'node:crypto';

/** Every namespace the lab makes starts with this; `kite lab down` removes all of them. */
export const NS_PREFIX = 'kitelab-';
/** Where the lab keeps its state, config, sockets and logs, readable from another shell. */
export const STATE_DIR = '/run/kite-lab';

export const POOL_CIDR = '10.244.0.0/16';
export const BLOCK_SIZE = 26;
/** The IPv6 pool and Calico's default IPv6 block size (--ipv6, --dual-stack). */
export const POOL_CIDR_V6 = 'fd00:10:244::/48';
export const BLOCK_SIZE_V6 = 122;
/** Calico CNI's IPv6 gateway in a pod: the link-local EUI-64 makes from the host side's ee:ee:ee:ee:ee:ee. */
export const POD_GATEWAY_V6 = 'fe80::ecee:eeff:feee:eeee';
/** Calico's pod gateway: a link-local address that the host side answers by proxy ARP. */
export const POD_GATEWAY = '169.254.1.1';
/** Calico gives the host side of every workload veth this MAC. */
export const CALI_MAC = 'ee:ee:ee:ee:ee:ee';
export const CLUSTER_AS = 64512;
export const TOR_AS = 65000;
export const K8S_NAMESPACE = 'default';

export const Underlay = {
  /** Every node on one bridge in 198.18.0.0/24: the full mesh (or RR) peers directly. */
  OneSubnet: 'one-subnet',
  /** Each node in its own /24 towards an FRR ToR that routes between them (eBGP, AS per node). */
  TorRouted: 'tor-routed',
} as const;
export type Underlay = (typeof Underlay)[keyof typeof Underlay];

export const Encap = { Never: 'Never', CrossSubnet: 'CrossSubnet', Always: 'Always' } as const;
export type Encap = (typeof Encap)[keyof typeof Encap];

/** Which address families the lab's nodes and pods have. */
export const LabFamily = { IPv4: 'ipv4', IPv6: 'ipv6', Dual: 'dual' } as const;
export type LabFamily = (typeof LabFamily)[keyof typeof LabFamily];

export interface LabOptions {
  /** Absent: IPv4 only. */
  family?: LabFamily;
  nodes: number;
  podsPerNode: number;
  /** node-1 is a route reflector for the others instead of a full mesh. */
  routeReflector: boolean;
  /** An FRR top-of-rack router peering eBGP with every node (per family: IPv4, IPv6 or both). */
  tor: boolean;
  /** The pools use VXLAN (vxlanMode Always; IPv4: instead of IPIP). */
  vxlan?: boolean;
  /**
   * With --vxlan: leave the Nodes without VTEPs, so each Kite allocates its own from Kite's IPAM
   * and writes it to its Node (a datastore the Kites write to and watch: etcd).
   */
  vtepsFromIpam?: boolean;
}

export interface KernelFeatures {
  ipip: boolean;
  vxlan: boolean;
  bridge: boolean;
}

export interface PodPlan {
  /** Kubernetes pod name. */
  name: string;
  netns: string;
  /** The pod's first address: IPv4, or IPv6 in an IPv6-only lab. */
  ip: string;
  /** A dual-stack pod's IPv6 address. */
  ip6?: string;
  mac: string;
  /** Host-side veth in the node namespace, named as Calico's CNI plugin names it. */
  hostIf: string;
  /** WorkloadEndpoint name as Calico's Kubernetes backend derives it. */
  wepName: string;
}

export interface NodePlan {
  name: string;
  netns: string;
  /** Node (underlay) address and its prefix length: IPv4, or IPv6 in an IPv6-only lab. */
  ip: string;
  prefixLength: number;
  /** Default gateway of the node when the underlay is routed by the ToR. */
  gateway?: string;
  /** A dual-stack node's IPv6 address (/64) and IPv6 default gateway. */
  ip6?: string;
  gateway6?: string;
  asNumber: number;
  /** The node's block: IPv4, or IPv6 in an IPv6-only lab. */
  block: string;
  /** With --vxlan: the VTEP address (the block's first address, as calico-ipam gives it); and the IPv6 VTEP (IPv6 and dual-stack labs). */
  vtep?: string;
  vtep6?: string;
  /** A dual-stack node's IPv6 block. */
  block6?: string;
  /** Interface name of this node's uplink inside the fabric or ToR namespace. */
  fabricIf: string;
  /** ToR-side address of this node's link (ToR-routed underlay only): IPv4, and IPv6 for IPv6 and dual-stack labs. */
  torIp?: string;
  torIp6?: string;
  pods: PodPlan[];
  socket: string;
  log: string;
  routeReflector: boolean;
}

export interface LabPlan {
  options: LabOptions;
  underlay: Underlay;
  encap: Encap;
  /** The pools' vxlanMode (Always with --vxlan, IPv4 and IPv6 pools alike; then encap, the ipipMode, is Never). */
  vxlanMode?: Encap;
  /** Why this underlay and encapsulation were chosen, for the user. */
  reasons: string[];
  fabricNs: string;
  torNs?: string;
  nodes: NodePlan[];
  configPath: string;
}

export const DEFAULT_OPTIONS: LabOptions = { nodes: 3, podsPerNode: 2, routeReflector: false, tor: false };

/** Calico's host-side interface name: "cali" + the first 11 hex digits of sha1("<namespace>.<pod>"). */
export function caliName(namespace: string, pod: string): string {
  return 'cali' + createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11);
}

/** Calico's WorkloadEndpoint name: node, orchestrator, pod and endpoint, "-" doubled in each. */
export function wepName(node: string, pod: string): string {
  return [node, 'k8s', pod, 'eth0'].map((p) => p.replaceAll('-', '--')).join('-');
}

/** Chooses the underlay from the options and what the kernel offers, and lays out every address. */
export function planLab(options: LabOptions, kernel: KernelFeatures): LabPlan {
  if (!Number.isInteger(options.nodes) || options.nodes < 2 || options.nodes > 50) throw new Error('--nodes must be 2..50');
  if (!Number.isInteger(options.podsPerNode) || options.podsPerNode < 1 || options.podsPerNode > 60) throw new Error('--pods must be 1..60');
  if (options.tor && options.routeReflector) throw new Error('--rr and --tor do not combine: with --tor the ToR carries the routes between nodes');
  if (!kernel.bridge && !options.tor) throw new Error('this kernel has no bridge device type; use --tor (routed underlay, veths only)');
  const family = options.family ?? LabFamily.IPv4;
  if (family !== LabFamily.IPv4 && options.routeReflector) {
    throw new Error('--ipv6 and --dual-stack build a mesh or a ToR: --rr is IPv4-only in the lab so far');
  }

  const reasons: string[] = [];
  const underlay = options.tor ? Underlay.TorRouted : Underlay.OneSubnet;
  if (underlay === Underlay.OneSubnet) {
    reasons.push('one subnet (198.18.0.0/24 on a bridge): nodes reach each other directly, so pod traffic needs no tunnel');
  } else if (family === LabFamily.IPv6) {
    reasons.push('ToR-routed subnets (fd00:198:18:<n>::/64 per node, the ToR ::fe on each): the FRR ToR peers eBGP over IPv6 with every node, learns every block and routes pod traffic natively');
  } else if (family === LabFamily.Dual) {
    reasons.push('ToR-routed subnets (198.18.<n>.0/24 and fd00:198:18:<n>::/64 per node): the FRR ToR peers eBGP with every node once per family (an IPv4 and an IPv6 session), learns every block of both families and routes pod traffic natively');
  } else {
    reasons.push('ToR-routed subnets (198.18.<n>.0/24 per node): the FRR ToR learns every block over eBGP and routes pod traffic natively');
  }
  // ipipMode CrossSubnet encapsulates only between subnets; with one subnet it never does, so it
  // is safe to choose whenever the kernel could build tunl0. Without ipip, Never is the only mode
  // that works, and the underlay above was chosen so that it does.
  let encap: Encap = Encap.Never;
  let vxlanMode: Encap | undefined;
  const v4Pool = family !== LabFamily.IPv6;
  const v6Pool = family !== LabFamily.IPv4;
  if (options.vxlan === true) {
    if (!kernel.vxlan) throw new Error('--vxlan: this kernel has no vxlan device type (modprobe vxlan)');
    vxlanMode = Encap.Always;
    const given = options.vtepsFromIpam !== true;
    if (v4Pool) reasons.push(`--vxlan: IPv4 pool vxlanMode Always, ipipMode Never: every IPv4 pod packet between nodes goes through vxlan.calico (VNI 4096, UDP 4789, MTU 1450)${given ? ', each node\'s VTEP the first address of its block' : ''}`);
    if (v6Pool) reasons.push(`--vxlan: IPv6 pool vxlanMode Always: every IPv6 pod packet between nodes goes through vxlan-v6.calico (VNI 4096, UDP 4789 over IPv6, MTU 1430)${given ? ', each node\'s IPv6 VTEP (ipv6VXLANTunnelAddr) the first address of its IPv6 block' : ''}`);
    if (!given) {
      reasons.push('--vxlan with --datastore etcd: the Nodes start without VTEPs; each Kite allocates its own from the VXLAN pool with Kite\'s IPAM in Calico\'s etcd keys (handles vxlan-tunnel-addr-<node>, vxlan-v6-tunnel-addr-<node>, as calico-node\'s allocateip; the lab writes affinities but no IPAM blocks, so each Kite claims the CIDR of its own affinity as calico-ipam does, creating the block, and takes the VTEP from it: the first address of its block, IPv6 too, no extra block claimed or advertised) and writes it with its MAC to its Node, where the other Kites read it');
    }
    if (options.tor) {
      reasons.push('--vxlan with --tor: the ToR passes each block on with its node as next hop (FRR attribute-unchanged next-hop), so nodes send pod traffic through the VXLAN device to that node\'s VTEP, encapsulated across the routed underlay; the ToR forwards UDP 4789 between the subnets');
    }
  }
  if (family === LabFamily.IPv6) {
    reasons.push('IPv6 only: nodes fd00:198:18:' + (underlay === Underlay.TorRouted ? '<n>::1' : ':<n>') + '/64, pool fd00:10:244::/48 with /122 blocks (Calico\'s default), no IPv4 anywhere; each Kite starts with --ip none --router-id hash (calico-node\'s IP=none and CALICO_ROUTER_ID=hash); IPIP is IPv4-only, so pool ipipMode Never');
  } else if (vxlanMode !== undefined) {
    // A pool is either IPIP or VXLAN: the IPv4 pool's ipipMode stays Never (said above).
    encap = Encap.Never;
  } else if (kernel.ipip && underlay === Underlay.OneSubnet) {
    encap = Encap.CrossSubnet;
    reasons.push('ipip is available: pool ipipMode CrossSubnet (same subnet, so no encapsulation is used)');
  } else if (kernel.ipip) {
    reasons.push('ipip is available, but the ToR routes pod blocks natively: pool ipipMode Never');
  } else {
    reasons.push('this kernel has no ipip: pool ipipMode Never (native routing only)');
  }

  if (family === LabFamily.Dual) {
    reasons.push(underlay === Underlay.TorRouted
      ? 'dual-stack: each node also has fd00:198:18:<n>::1/64 and an IPv6 /122 block from fd00:10:244::/48, each pod an IPv6 /128; the ping matrix covers both families'
      : 'dual-stack: each node also has fd00:198:18::<n>/64 and an IPv6 /122 block from fd00:10:244::/48, each pod an IPv6 /128; the mesh runs one session per family and the ping matrix covers both');
  }
  const v6only = family === LabFamily.IPv6;
  const nodes: NodePlan[] = [];
  for (let i = 1; i <= options.nodes; i++) {
    const name = `node-${i}`;
    const pods: PodPlan[] = [];
    for (let j = 1; j <= options.podsPerNode; j++) {
      const pod = `pod-${i}-${j}`;
      const v6 = `fd00:10:244:${i.toString(16)}::${(j + 1).toString(16)}`;
      pods.push({
        name: pod,
        netns: `${NS_PREFIX}${name}-${pod}`,
        ip: v6only ? v6 : `10.244.${i}.${j + 1}`,
        ...(family === LabFamily.Dual ? { ip6: v6 } : {}),
        mac: `0a:58:0a:f4:${hex2(i)}:${hex2(j + 1)}`,
        hostIf: caliName(K8S_NAMESPACE, pod),
        wepName: wepName(name, pod),
      });
    }
    const tor = underlay === Underlay.TorRouted;
    // With the ToR each node has its own IPv6 /64 (fd00:198:18:<n>::1, the ToR ::fe), as for IPv4.
    const ip6 = tor ? `fd00:198:18:${i.toString(16)}::1` : `fd00:198:18::${i.toString(16)}`;
    const torIp6 = `fd00:198:18:${i.toString(16)}::fe`;
    const block6 = `fd00:10:244:${i.toString(16)}::/${BLOCK_SIZE_V6}`;
    const node: NodePlan = {
      name,
      netns: `${NS_PREFIX}${name}`,
      ip: v6only ? ip6 : tor ? `198.18.${i}.1` : `198.18.0.${i}`,
      prefixLength: v6only ? 64 : 24,
      asNumber: tor ? TOR_AS + i : CLUSTER_AS,
      block: v6only ? block6 : `10.244.${i}.0/${BLOCK_SIZE}`,
      ...(vxlanMode !== undefined && v4Pool && options.vtepsFromIpam !== true ? { vtep: `10.244.${i}.0` } : {}),
      // The IPv6 VTEP: the first address of the node's IPv6 block, as calico-ipam gives it.
      ...(vxlanMode !== undefined && v6Pool && options.vtepsFromIpam !== true ? { vtep6: `fd00:10:244:${i.toString(16)}::` } : {}),
      fabricIf: `kl-${name}`,
      pods,
      socket: `${STATE_DIR}/${name}.sock`,
      log: `${STATE_DIR}/${name}.log`,
      routeReflector: options.routeReflector && i === 1,
    };
    // Every node gets a default gateway, as a real node has one. It matters beyond realism:
    // the pods' gateway 169.254.1.1 is answered by proxy ARP, and the kernel proxies only for
    // an address it has a route to through another interface (arp_process, IN_DEV_PROXY_ARP).
    node.gateway = v6only ? (tor ? torIp6 : 'fd00:198:18::fe') : tor ? `198.18.${i}.254` : '198.18.0.254';
    if (tor && !v6only) node.torIp = `198.18.${i}.254`;
    if (tor && family !== LabFamily.IPv4) node.torIp6 = torIp6;
    if (family === LabFamily.Dual) Object.assign(node, { ip6, gateway6: tor ? torIp6 : 'fd00:198:18::fe', block6 });
    nodes.push(node);
  }
  if (options.routeReflector) reasons.push('node-1 is a route reflector (routeReflectorClusterID 224.0.0.1); the mesh is off');
  const plan: LabPlan = {
    options, underlay, encap, reasons, nodes,
    ...(vxlanMode !== undefined ? { vxlanMode } : {}),
    fabricNs: `${NS_PREFIX}fabric`,
    configPath: `${STATE_DIR}/kite.yaml`,
  };
  if (options.tor) plan.torNs = `${NS_PREFIX}tor`;
  return plan;
}

/** A pod's addresses: its first, then a dual-stack pod's IPv6. */
export function podAddresses(p: PodPlan): string[] {
  return p.ip6 === undefined ? [p.ip] : [p.ip, p.ip6];
}

/** A node's blocks: its first, then a dual-stack node's IPv6 block. */
export function nodeBlocks(n: NodePlan): string[] {
  return n.block6 === undefined ? [n.block] : [n.block, n.block6];
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** The Calico resources every Kite of the lab reads: one multi-document YAML. */
export function labConfigYaml(plan: LabPlan): string {
  const docs: string[] = [];
  const mesh = !plan.options.routeReflector && plan.underlay === Underlay.OneSubnet;
  docs.push(`apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  asNumber: ${CLUSTER_AS}
  nodeToNodeMeshEnabled: ${mesh}
  logSeverityScreen: Info`);
  for (const n of plan.nodes) {
    docs.push(`apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: ${n.name}
  labels:
    kubernetes.io/hostname: ${n.name}${n.routeReflector ? '\n    route-reflector: "true"' : ''}
spec:
  bgp:
    ${n.ip.includes(':') ? 'ipv6Address' : 'ipv4Address'}: ${n.ip}/${n.prefixLength}${n.ip6 !== undefined ? `\n    ipv6Address: ${n.ip6}/64` : ''}${plan.underlay === Underlay.TorRouted ? `\n    asNumber: ${n.asNumber}` : ''}${n.routeReflector ? '\n    routeReflectorClusterID: 224.0.0.1' : ''}${n.vtep !== undefined ? `\n  ipv4VXLANTunnelAddr: ${n.vtep}` : ''}${n.vtep6 !== undefined ? `\n  ipv6VXLANTunnelAddr: "${n.vtep6}"` : ''}`);
  }
  const family = plan.options.family ?? LabFamily.IPv4;
  if (family !== LabFamily.IPv6) {
    docs.push(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  cidr: ${POOL_CIDR}
  blockSize: ${BLOCK_SIZE}
  ipipMode: ${plan.encap}
  vxlanMode: ${plan.vxlanMode ?? 'Never'}
  natOutgoing: false`);
  }
  if (family !== LabFamily.IPv4) {
    docs.push(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv6-ippool
spec:
  cidr: ${POOL_CIDR_V6}
  blockSize: ${BLOCK_SIZE_V6}
  ipipMode: Never
  vxlanMode: ${plan.vxlanMode ?? 'Never'}
  natOutgoing: false`);
  }
  for (const n of plan.nodes) {
    for (const block of [n.block, ...(n.block6 === undefined ? [] : [n.block6])]) {
      docs.push(`apiVersion: projectcalico.org/v3
kind: BlockAffinity
metadata:
  name: ${n.name}-${block.replace(/[.:/]/g, '-')}
spec:
  node: ${n.name}
  cidr: ${block}
  state: confirmed
  deleted: false`);
    }
  }
  if (plan.options.routeReflector) {
    // Calico's documented RR setup: every node peers with the nodes labelled route-reflector;
    // the reflector peers back with everyone (reverse peering), and treats non-RR peers as clients.
    docs.push(`apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: peer-with-route-reflectors
spec:
  nodeSelector: all()
  peerSelector: route-reflector == 'true'`);
  }
  if (plan.underlay === Underlay.TorRouted) {
    for (const n of plan.nodes) {
      // One session per family: the IPv4 one keeps its old name.
      for (const [suffix, ip] of [['tor', n.torIp], ['tor-v6', n.torIp6]] as const) {
        if (ip === undefined) continue;
        docs.push(`apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: ${n.name}-${suffix}
spec:
  node: ${n.name}
  peerIP: ${ip}
  asNumber: ${TOR_AS}`);
      }
    }
  }
  for (const n of plan.nodes) {
    for (const p of n.pods) {
      docs.push(`apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: ${p.wepName}
  namespace: ${K8S_NAMESPACE}
spec:
  node: ${n.name}
  orchestrator: k8s
  pod: ${p.name}
  endpoint: eth0
  interfaceName: ${p.hostIf}
  mac: ${p.mac}
  ipNetworks:
${podAddresses(p).map((a) => `    - ${a}/${a.includes(':') ? 128 : 32}`).join('\n')}
  profiles:
    - kns.${K8S_NAMESPACE}`);
    }
  }
  return `# Generated by kite lab up: the Calico resources of a ${plan.nodes.length}-node lab (${plan.underlay}${family === LabFamily.IPv4 ? '' : `, ${family}`}).\n` +
    docs.map((d) => `${d}\n`).join('---\n');
}
