// Pods in network namespaces for the namespace tests, shaped as Calico's CNI plugin leaves them
// (IP/32 on eth0, 169.254.1.1 as an onlink gateway, host side cali* with ee:ee:ee:ee:ee:ee), and a
// pinger at 100 packets per second that counts every lost packet.
import { caliName } from '../../src/lab/topology.js';
import { must, type Lab, type LabNode, type NsProcess } from '../interop/netns.js';

export interface Pod { name: string; ip: string; node: LabNode; ns: LabNode; cali: string }

/**
 * A pod on `node`. With `hostRoute`, the host side is finished as Calico's Felix would (the /32
 * route, proxy ARP, forwarding): for nodes where no Kite programs workloads (BIRD, FRR). With
 * `ipv6`, the pod is dual-stack; an `ip` with a colon makes an IPv6-only pod. IPv6 is set up as
 * Calico's CNI does: the address as a /128 and the default route via the host veth's link-local
 * fe80::ecee:eeff:feee:eeee (from its MAC), with no DAD on either side so it answers at once.
 */
export async function addPod(lab: Lab, node: LabNode, name: string, ip: string, o: { hostRoute?: boolean; ipv6?: string } = {}): Promise<Pod> {
  const ns = `${lab.name}-${name}`;
  const v6 = ip.includes(':') ? ip : o.ipv6;
  const v4 = ip.includes(':') ? undefined : ip;
  await must('ip', ['netns', 'add', ns]);
  const pn: LabNode = { name, ns, index: 0, ipv4: v4 ?? '', ipv6: v6 ?? '', ifname: 'eth0' };
  lab.nodes.set(name, pn); // Lab.destroy removes it too
  const cali = caliName('default', name);
  await must('ip', ['-n', node.ns, 'link', 'add', cali, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await must('ip', ['-n', node.ns, 'link', 'set', cali, 'address', 'ee:ee:ee:ee:ee:ee']);
  if (v6 !== undefined) {
    await must('ip', ['netns', 'exec', node.ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${cali}.accept_dad=0`]);
    await must('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.eth0.accept_dad=0']);
  }
  await must('ip', ['-n', node.ns, 'link', 'set', cali, 'up']);
  await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  if (v4 !== undefined) await must('ip', ['-n', ns, 'addr', 'add', `${v4}/32`, 'dev', 'eth0']);
  if (v6 !== undefined) await must('ip', ['-n', ns, 'addr', 'add', `${v6}/128`, 'dev', 'eth0', 'nodad']);
  await must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  if (v4 !== undefined) await must('ip', ['-n', ns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0', 'onlink']);
  if (v6 !== undefined) await must('ip', ['-n', ns, '-6', 'route', 'add', 'default', 'via', V6_GATEWAY, 'dev', 'eth0']);
  if (o.hostRoute && v4 !== undefined) {
    await must('ip', ['netns', 'exec', node.ns, 'sysctl', '-q', '-w', `net.ipv4.conf.${cali}.proxy_arp=1`, 'net.ipv4.ip_forward=1']);
    await must('ip', ['-n', node.ns, 'route', 'add', `${v4}/32`, 'dev', cali, 'scope', 'link']);
  }
  return { name, ip, node, ns: pn, cali };
}

/** Calico CNI's IPv6 gateway in a pod: the link-local address EUI-64 makes from the host side's ee:ee:ee:ee:ee:ee. */
export const V6_GATEWAY = 'fe80::ecee:eeff:feee:eeee';

/** `count` echo requests at 100 per second from `from` to `to`; resolve() gives sent and lost. */
export function startPing(lab: Lab, from: Pod, to: Pod, count: number): { proc: NsProcess; result(): Promise<{ sent: number; received: number; lost: number }> } {
  const proc = lab.spawn(from.ns, 'ping', ['-n', '-q', '-i', '0.01', '-W', '1', '-c', String(count), to.ip], { logName: `ping-${from.name}-${to.name}-${Date.now()}` });
  return {
    proc,
    async result() {
      await proc.wait();
      const m = /(\d+) packets transmitted, (\d+) received/.exec(proc.log());
      if (m === null) throw new Error(`ping ${from.name} → ${to.name} printed no summary:\n${proc.log()}`);
      const sent = Number(m[1]);
      const received = Number(m[2]);
      return { sent, received, lost: sent - received };
    },
  };
}
