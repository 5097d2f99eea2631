// Start-up as calico-node does it, between the datastore's first snapshot and the BGP instance:
// resolve this node's addresses, AS and router ID (identity.ts), write them back where Calico
// keeps them, create the default pools (pools.ts), and lay the result over every snapshot so
// the file datastore uses detected values in memory and a Kubernetes watch that lags is covered.
import type { Logger } from 'pino';
import type { Datastore } from '../datastore/datastore.js';
import type { IPPool, Node, Resources } from '../datastore/resources.js';
import type { HostInterface } from './autodetect.js';
import { resolveIdentity, type Identity, type StartupEnv } from './identity.js';
import { defaultPools } from './pools.js';

export { hashToIPv4, StartupError, type StartupEnv } from './identity.js';
export { STARTUP_VARIABLES } from './variables.js';

export interface Started {
  identity: Identity;
  /** Default pools created now; also laid over snapshots (the file datastore keeps them in memory). */
  pools: IPPool[];
}

export interface StartUpOptions {
  env: StartupEnv;
  nodeName: string;
  /** The datastore's first complete snapshot. */
  resources: Resources;
  datastore: Pick<Datastore, 'setNodeBGP' | 'createIPPool' | 'nodeInternalIPs'>;
  log: Logger;
  interfaces?: () => HostInterface[];
}

export async function startUp(o: StartUpOptions): Promise<Started> {
  const { resources: rs, log } = o;
  const node = rs.nodes.find((n) => n.metadata.name === o.nodeName);
  const global = rs.bgpConfigurations.find((c) => c.metadata.name === 'default');
  const method4 = o.env['IP_AUTODETECTION_METHOD'] ?? '';
  const method6 = o.env['IP6_AUTODETECTION_METHOD'] ?? '';
  const internalIPs = method4.startsWith('kubernetes-internal-ip') || method6.startsWith('kubernetes-internal-ip')
    ? await o.datastore.nodeInternalIPs() : undefined;
  const identity = await resolveIdentity({
    env: o.env, nodeName: o.nodeName, node, others: rs.nodes,
    ignored: global?.spec.ignoredInterfaces ?? [],
    ...(internalIPs !== undefined ? { internalIPs } : {}),
    ...(o.interfaces ? { interfaces: o.interfaces } : {}),
  });
  for (const n of identity.notes) log.info({ node: o.nodeName }, n);
  if (Object.keys(identity.changed).length > 0) {
    await o.datastore.setNodeBGP(identity.changed);
    log.info({ node: o.nodeName, changed: identity.changed }, 'node BGP settings recorded (Kubernetes: Node annotations; file: in memory)');
  }
  const pools = defaultPools(o.env, rs, { v4: identity.bgp.ipv4Address !== undefined, v6: identity.bgp.ipv6Address !== undefined });
  for (const p of pools) {
    await o.datastore.createIPPool(p);
    log.info({ pool: p.metadata.name, cidr: p.spec.cidr, ipipMode: p.spec.ipipMode, vxlanMode: p.spec.vxlanMode }, 'no IP pool of this family existed: default pool created');
  }
  return { identity, pools };
}

/** A snapshot with start-up's results laid over it: this node's BGP fields, and the default pools until the datastore has them. */
export function overlay(rs: Resources, s: Started, nodeName: string): Resources {
  const mine = rs.nodes.find((n) => n.metadata.name === nodeName);
  const node: Node = mine !== undefined
    ? { ...mine, spec: { ...mine.spec, bgp: { ...mine.spec.bgp, ...s.identity.bgp } } }
    : { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: nodeName, labels: {}, annotations: {} },
      spec: { bgp: s.identity.bgp }, origin: { file: 'calico-node start-up', document: 0 } };
  const nodes = mine !== undefined ? rs.nodes.map((n) => (n === mine ? node : n)) : [...rs.nodes, node];
  const missing = s.pools.filter((p) => !rs.ipPools.some((q) => q.metadata.name === p.metadata.name));
  return { ...rs, nodes, ipPools: missing.length === 0 ? rs.ipPools : [...rs.ipPools, ...missing] };
}
