// Pods in network namespaces for the namespace tests, shaped as Calico's CNI plugin leaves them
// (IP/32 on eth0, 169.254.1.1 as an onlink gateway, host side cali* with ee:ee:ee:ee:ee:ee), and a
// pinger at 100 packets per second that counts every lost packet.
import { caliName } from '../../src/lab/topology.js';
import { must, type Lab, type LabNode, type NsProcess } from '../interop/netns.js';

export interface Pod { name: string; ip: string; node: LabNode; ns: LabNode; cali: string }

/**
 * A pod on `node`. With `hostRoute`, the host side is finished as Calico's Felix would (the /32
 * route, proxy ARP, forwarding): for nodes where no Kite programs workloads (BIRD, FRR).
 */
export async function addPod(lab: Lab, node: LabNode, name: string, ip: string, o: { hostRoute?: boolean } = {}): Promise<Pod> {
  const ns = `${lab.name}-${name}`;
  await must('ip', ['netns', 'add', ns]);
  const pn: LabNode = { name, ns, index: 0, ipv4: ip, ipv6: '', ifname: 'eth0' };
  lab.nodes.set(name, pn); // Lab.destroy removes it too
  const cali = caliName('default', name);
  await must('ip', ['-n', node.ns, 'link', 'add', cali, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await must('ip', ['-n', node.ns, 'link', 'set', cali, 'address', 'ee:ee:ee:ee:ee:ee']);
  await must('ip', ['-n', node.ns, 'link', 'set', cali, 'up']);
  await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  await must('ip', ['-n', ns, 'addr', 'add', `${ip}/32`, 'dev', 'eth0']);
  await must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  await must('ip', ['-n', ns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0', 'onlink']);
  if (o.hostRoute) {
    await must('ip', ['netns', 'exec', node.ns, 'sysctl', '-q', '-w', `net.ipv4.conf.${cali}.proxy_arp=1`, 'net.ipv4.ip_forward=1']);
    await must('ip', ['-n', node.ns, 'route', 'add', `${ip}/32`, 'dev', cali, 'scope', 'link']);
  }
  return { name, ip, node, ns: pn, cali };
}

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
