// Workload interface manager: a permanent neighbour entry per pod address (the pod's MAC, so the
// host never ARPs into the pod), and the per-interface sysctls calico-node sets once a cali*
// interface is up — proxy_arp=1 and neigh proxy_delay=0 (pods use 169.254.1.1 as gateway and the
// host answers for it at once), forwarding=1, route_localnet=1; IPv6: proxy_ndp=1, forwarding=1,
// accept_ra=0 — plus host-wide forwarding. Sysctls are written once per interface instance
// (name and ifindex): a recreated interface gets them again.

import { parseAddr } from '../net/index.js';
import type { LocalWorkload } from './inputs.js';
import type { HostView } from './host.js';
import { NUD_PERMANENT, type Family, type KNeighbour } from './types.js';

export interface SysctlWrite {
  path: string;
  value: string;
}

export function interfaceSysctls(name: string, families: ReadonlySet<Family>): SysctlWrite[] {
  const out: SysctlWrite[] = [];
  if (families.has(4)) {
    out.push(
      { path: `net/ipv4/conf/${name}/proxy_arp`, value: '1' },
      { path: `net/ipv4/neigh/${name}/proxy_delay`, value: '0' },
      { path: `net/ipv4/conf/${name}/forwarding`, value: '1' },
      { path: `net/ipv4/conf/${name}/route_localnet`, value: '1' },
    );
  }
  if (families.has(6)) {
    out.push(
      { path: `net/ipv6/conf/${name}/proxy_ndp`, value: '1' },
      { path: `net/ipv6/conf/${name}/forwarding`, value: '1' },
      { path: `net/ipv6/conf/${name}/accept_ra`, value: '0' },
    );
  }
  return out;
}

export function hostSysctls(families: ReadonlySet<Family>): SysctlWrite[] {
  const out: SysctlWrite[] = [{ path: 'net/ipv4/ip_forward', value: '1' }];
  if (families.has(6)) out.push({ path: 'net/ipv6/conf/all/forwarding', value: '1' });
  return out;
}

export interface WorkloadPlan {
  setNeighbours: KNeighbour[];
  deleteNeighbours: KNeighbour[];
  sysctls: SysctlWrite[];
  /** name -> ifindex of interfaces whose sysctls this plan writes. */
  configures: Map<string, number>;
}

const addrOf = (net: string): { family: Family; text: string } | undefined => {
  const ip = parseAddr(net, 0, net.includes('/') ? net.indexOf('/') : net.length);
  return ip === null ? undefined : { family: ip.family, text: ip.toString() };
};

/**
 * Plan neighbour and sysctl changes. `configured` is name -> ifindex already handled;
 * `neighbours` is the kernel's table. Permanent entries on workload interfaces that no workload
 * wants are ours to delete, but only when `allowRemove`.
 */
export function planWorkloads(
  workloads: readonly LocalWorkload[],
  host: HostView,
  neighbours: readonly KNeighbour[],
  configured: ReadonlyMap<string, number>,
  allowRemove: boolean,
): WorkloadPlan {
  const plan: WorkloadPlan = { setNeighbours: [], deleteNeighbours: [], sysctls: [], configures: new Map() };
  const want = new Map<string, KNeighbour>();
  for (const w of workloads) {
    const link = host.link(w.interfaceName);
    if (link === undefined) continue;
    const families = new Set<Family>();
    for (const net of w.ipNetworks) {
      const a = addrOf(net);
      if (a === undefined) continue;
      families.add(a.family);
      if (w.mac !== undefined) {
        want.set(`${link.index}|${a.text}`, { family: a.family, index: link.index, address: a.text, lladdr: w.mac.toLowerCase(), state: NUD_PERMANENT });
      }
    }
    if (link.up && configured.get(link.name) !== link.index && !plan.configures.has(link.name)) {
      plan.configures.set(link.name, link.index);
      plan.sysctls.push(...interfaceSysctls(link.name, families));
    }
  }
  const have = new Map<string, KNeighbour>();
  for (const n of neighbours) have.set(`${n.index}|${n.address}`, n);
  for (const [k, n] of [...want].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const h = have.get(k);
    if (h === undefined || (h.state & NUD_PERMANENT) === 0 || h.lladdr?.toLowerCase() !== n.lladdr) plan.setNeighbours.push(n);
  }
  if (allowRemove) {
    for (const [k, n] of have) {
      if (!want.has(k) && (n.state & NUD_PERMANENT) !== 0 && host.isWorkloadIndex(n.index)) plan.deleteNeighbours.push(n);
    }
  }
  return plan;
}
