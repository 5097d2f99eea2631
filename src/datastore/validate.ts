// Turns one parsed YAML document into a typed, validated Calico resource (resources.ts), or
// records located problems. Rules follow Calico's validator (libcalico-go lib/validator/v3)
// where Kite depends on them; fields Kite does not use are accepted and ignored.
import { Checker, type Obj, type Path } from './check.js';
import { bgpFilter } from './bgpfilter.js';
import { parseHostPort } from './host-port.js';
import {
  AffinityState, AllowedUse, API_VERSIONS, BindMode, DEFAULTS, EncapMode, KINDS, LogSeverity,
  NextHopMode, ProgramClusterRoutes, ReversePeering, SourceAddress,
  type AllocationAttribute, type BGPConfigurationSpec, type BGPPeerSpec, type BlockAffinitySpec,
  type Community, type IPAMBlockSpec, type IPPoolSpec, type Kind, type NodeSpec, type ObjectMeta,
  type Origin, type PrefixAdvertisement, type Resource, type SecretKeyRef, type ServiceIPBlock,
  type WorkloadEndpointSpec,
} from './resources.js';

const SPEC: Path = ['spec'];
const given = (o: Obj, k: string): boolean => o[k] !== undefined && o[k] !== null && o[k] !== '';
const enumValues = <T extends Record<string, string>>(o: T): T[keyof T][] => Object.values(o) as T[keyof T][];

/** Validates one document. Returns undefined when it has problems (they are in `c.problems`). */
export function validateDocument(raw: unknown, c: Checker): Resource | undefined {
  const top = c.obj(raw, []);
  if (top === undefined) return undefined;
  const kindText = c.str(top, 'kind', [], true);
  if (kindText !== undefined) c.object = kindText;
  const apiVersion = c.str(top, 'apiVersion', [], true);
  const metaObj = top['metadata'] === undefined ? c.error(['metadata'], 'is required') : c.obj(top['metadata'], ['metadata']);
  const name = metaObj === undefined ? undefined : c.str(metaObj, 'name', ['metadata'], true);
  if (kindText !== undefined) c.object = name === undefined ? kindText : `${kindText} "${name}"`;
  if (apiVersion !== undefined && !API_VERSIONS.includes(apiVersion)) {
    c.error(['apiVersion'], `"${apiVersion}" is not supported (use ${API_VERSIONS.join(' or ')})`);
  }
  if (kindText === undefined) return undefined;
  const kind = KINDS.find((k) => k === kindText);
  if (kind === undefined) {
    const near = KINDS.find((k) => k.toLowerCase() === kindText.toLowerCase());
    return c.error(['kind'], `unknown kind "${kindText}"${near !== undefined ? ` (did you mean ${near}?)` : ''}; Kite reads ${KINDS.join(', ')}`);
  }
  c.fields(top, [], ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  const specObj = top['spec'] === undefined || top['spec'] === null ? {} : c.obj(top['spec'], SPEC);
  if (metaObj === undefined || name === undefined || specObj === undefined || apiVersion === undefined) return undefined;

  const metadata: ObjectMeta = {
    name,
    labels: c.stringMap(metaObj, 'labels', ['metadata']),
    annotations: c.stringMap(metaObj, 'annotations', ['metadata']),
  };
  const ns = c.str(metaObj, 'namespace', ['metadata']);
  if (ns !== undefined) metadata.namespace = ns;
  const origin: Origin = { file: c.src.file, document: c.src.document };
  const base = { apiVersion, metadata, origin };

  const before = c.problems.length;
  let out: Resource | undefined;
  switch (kind) {
    case 'BGPConfiguration': out = { ...base, kind, spec: bgpConfiguration(c, name, specObj) }; break;
    case 'Node': out = { ...base, kind, spec: node(c, specObj) }; break;
    case 'BGPPeer': out = { ...base, kind, spec: bgpPeer(c, specObj) }; break;
    case 'BGPFilter': out = { ...base, kind, spec: bgpFilter(c, specObj) }; break;
    case 'IPPool': { const s = ipPool(c, specObj); out = s === undefined ? undefined : { ...base, kind, spec: s }; break; }
    case 'BlockAffinity': { const s = blockAffinity(c, specObj); out = s === undefined ? undefined : { ...base, kind, spec: s }; break; }
    case 'IPAMBlock': { const s = ipamBlock(c, specObj); out = s === undefined ? undefined : { ...base, kind, spec: s }; break; }
    case 'WorkloadEndpoint': {
      if (ns === undefined) c.error(['metadata', 'namespace'], 'is required for a WorkloadEndpoint');
      const s = workloadEndpoint(c, specObj);
      out = s === undefined ? undefined : { ...base, kind, spec: s };
      break;
    }
  }
  return c.problems.length === before ? out : undefined;
}

function secretRef(c: Checker, o: Obj, key: string, path: Path): { secretKeyRef: SecretKeyRef } | undefined {
  const p = c.optObj(o, key, path);
  if (p === undefined) return undefined;
  const pp = [...path, key];
  c.fields(p, pp, ['secretKeyRef']);
  const ref = c.optObj(p, 'secretKeyRef', pp);
  if (ref === undefined) return c.error([...pp, 'secretKeyRef'], 'is required');
  const rp = [...pp, 'secretKeyRef'];
  c.fields(ref, rp, ['name', 'key', 'optional']);
  const name = c.str(ref, 'name', rp, true);
  const k = c.str(ref, 'key', rp, true);
  return name === undefined || k === undefined ? undefined : { secretKeyRef: { name, key: k } };
}

function serviceBlocks(c: Checker, o: Obj, key: string): ServiceIPBlock[] | undefined {
  const l = c.list(o, key, SPEC);
  if (l === undefined) return undefined;
  const out: ServiceIPBlock[] = [];
  l.forEach((item, i) => {
    const p = [...SPEC, key, i];
    const b = c.obj(item, p);
    if (b === undefined) return;
    c.fields(b, p, ['cidr']);
    // Calico's ServiceClusterIPBlock (and the external / load-balancer ones) has `cidr,omitempty`:
    // an entry without one is valid there and advertises nothing. Accept it and say so.
    if (!given(b, 'cidr')) { c.warn(p, 'has no cidr: accepted (Calico\'s API allows it) but it advertises nothing'); return; }
    const cidr = c.cidr(b, 'cidr', p, { required: true });
    if (cidr !== undefined) out.push({ cidr: cidr.network().toString() });
  });
  return out;
}

function communityValueOk(v: string): boolean {
  const parts = v.split(':');
  if (!parts.every((x) => /^\d+$/.test(x))) return false;
  // Standard community (RFC 1997) is two 16-bit halves; large community (RFC 8092) three 32-bit parts.
  if (parts.length === 2) return parts.every((x) => Number(x) <= 65535);
  if (parts.length === 3) return parts.every((x) => Number(x) <= 4294967295);
  return false;
}

const BGPCONFIG_FIELDS = [
  'asNumber', 'nodeToNodeMeshEnabled', 'nodeMeshPassword', 'nodeMeshMaxRestartTime', 'listenPort', 'bindMode',
  'serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs', 'communities', 'prefixAdvertisements',
  'ignoredInterfaces', 'logSeverityScreen', 'programClusterRoutes',
  // Accepted, not used by Kite.
  'localWorkloadPeeringIPV4', 'localWorkloadPeeringIPV6', 'ipv4NormalRoutePriority', 'ipv6NormalRoutePriority',
];
/**
 * BGPConfiguration fields Kite accepts but does not act on: each draws a warning naming it, so a
 * user who sets one is told rather than met with silence (issue 12).
 */
const NOT_ACTED_ON: Readonly<Record<string, string>> = {
  localWorkloadPeeringIPV4: 'Kite peers with local workloads from the node address',
  localWorkloadPeeringIPV6: 'Kite peers with local workloads from the node address',
  ipv4NormalRoutePriority: 'Kite uses Calico\'s default priority 1024',
  ipv6NormalRoutePriority: 'Kite uses Calico\'s default priority 1024',
};
/** The only fields a `node.<name>` BGPConfiguration may override (Calico reads nothing else from it). */
const PER_NODE_FIELDS = ['listenPort', 'logSeverityScreen', 'prefixAdvertisements', 'communities'];

function bgpConfiguration(c: Checker, name: string, o: Obj): BGPConfigurationSpec {
  if (name !== 'default' && !name.startsWith('node.')) {
    c.error(['metadata', 'name'], `"${name}" is not a BGPConfiguration name Calico reads (use "default" or "node.<node name>")`);
  }
  c.fields(o, SPEC, BGPCONFIG_FIELDS);
  for (const [k, why] of Object.entries(NOT_ACTED_ON)) {
    if (o[k] !== undefined) c.warn([...SPEC, k], `Kite does not act on ${k} (${why}); it is ignored`);
  }
  if (name.startsWith('node.')) {
    for (const k of Object.keys(o)) {
      if (BGPCONFIG_FIELDS.includes(k) && !PER_NODE_FIELDS.includes(k)) {
        c.warn([...SPEC, k], `ignored: a per-node BGPConfiguration only overrides ${PER_NODE_FIELDS.slice(0, 3).join(', ')}; set it in "default"`);
      }
    }
  }
  const s: BGPConfigurationSpec = {};
  const asNumber = c.asn(o, 'asNumber', SPEC);
  if (asNumber !== undefined) s.asNumber = asNumber;
  const mesh = c.bool(o, 'nodeToNodeMeshEnabled', SPEC);
  if (mesh !== undefined) s.nodeToNodeMeshEnabled = mesh;
  const pw = secretRef(c, o, 'nodeMeshPassword', SPEC);
  if (pw !== undefined) s.nodeMeshPassword = pw;
  const rt = c.duration(o, 'nodeMeshMaxRestartTime', SPEC);
  if (rt !== undefined) s.nodeMeshMaxRestartTime = rt;
  const port = c.int(o, 'listenPort', SPEC, 1, 65535);
  if (port !== undefined) s.listenPort = port;
  const bind = c.oneOf(o, 'bindMode', SPEC, enumValues(BindMode));
  if (bind !== undefined) s.bindMode = bind;
  for (const key of ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'] as const) {
    const b = serviceBlocks(c, o, key);
    if (b !== undefined) s[key] = b;
  }
  const comms = c.list(o, 'communities', SPEC);
  if (comms !== undefined) {
    const out: Community[] = [];
    comms.forEach((item, i) => {
      const p = [...SPEC, 'communities', i];
      const co = c.obj(item, p);
      if (co === undefined) return;
      c.fields(co, p, ['name', 'value']);
      const n = c.str(co, 'name', p, true);
      const v = c.str(co, 'value', p, true);
      if (v !== undefined && !communityValueOk(v)) {
        c.error([...p, 'value'], `"${v}" is not a community ("a:b" with 16-bit parts, or large "a:b:c" with 32-bit parts)`);
      } else if (n !== undefined && v !== undefined) out.push({ name: n, value: v });
    });
    s.communities = out;
  }
  const advs = c.list(o, 'prefixAdvertisements', SPEC);
  if (advs !== undefined) {
    const out: PrefixAdvertisement[] = [];
    const names = new Set((s.communities ?? []).map((x) => x.name));
    advs.forEach((item, i) => {
      const p = [...SPEC, 'prefixAdvertisements', i];
      const ao = c.obj(item, p);
      if (ao === undefined) return;
      c.fields(ao, p, ['cidr', 'communities']);
      const cidr = c.cidr(ao, 'cidr', p, { required: true });
      const list = c.strList(ao, 'communities', p) ?? [];
      list.forEach((x, j) => {
        // Calico resolves names against the communities of the same resource.
        if (!communityValueOk(x) && !names.has(x)) {
          c.error([...p, 'communities', j], `"${x}" is neither a community value nor a name defined in spec.communities`);
        }
      });
      if (cidr !== undefined) out.push({ cidr: cidr.network().toString(), communities: list });
    });
    s.prefixAdvertisements = out;
  }
  const ign = c.strList(o, 'ignoredInterfaces', SPEC);
  if (ign !== undefined) s.ignoredInterfaces = ign;
  const sev = c.oneOf(o, 'logSeverityScreen', SPEC, LogSeverity);
  if (sev !== undefined) s.logSeverityScreen = sev;
  const pcr = c.str(o, 'programClusterRoutes', SPEC);
  if (pcr !== undefined) {
    // confd reads an unrecognised value (a newer API's) as the default, with a warning; so does Kite.
    const known = enumValues(ProgramClusterRoutes).find((v) => v === pcr);
    if (known === undefined) c.warn([...SPEC, 'programClusterRoutes'], `"${pcr}" is not one of ${enumValues(ProgramClusterRoutes).join(', ')}; the default (Enabled) applies`);
    else s.programClusterRoutes = known;
  }
  return s;
}

const MAC_RE = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;

function node(c: Checker, o: Obj): NodeSpec {
  // A Node spec has many fields Kite does not use (addresses, orchRefs, wireguard); only
  // spec.bgp and the VXLAN tunnel fields are checked.
  const s: NodeSpec = {};
  const v4 = c.ip(o, 'ipv4VXLANTunnelAddr', SPEC, 4);
  if (v4 !== undefined) s.ipv4VXLANTunnelAddr = v4.toString();
  const v6 = c.ip(o, 'ipv6VXLANTunnelAddr', SPEC, 6);
  if (v6 !== undefined) s.ipv6VXLANTunnelAddr = v6.toString();
  for (const f of ['vxlanTunnelMACAddr', 'vxlanTunnelMACAddrV6'] as const) {
    const mac = c.str(o, f, SPEC);
    if (mac === undefined) continue;
    if (!MAC_RE.test(mac)) c.error([...SPEC, f], `"${mac}" is not a MAC address`);
    else s[f] = mac.toLowerCase();
  }
  return nodeBGP(c, o, s);
}

function nodeBGP(c: Checker, o: Obj, s: NodeSpec): NodeSpec {
  const b = c.optObj(o, 'bgp', SPEC);
  if (b === undefined) return s;
  const p = [...SPEC, 'bgp'];
  c.fields(b, p, ['ipv4Address', 'ipv6Address', 'asNumber', 'ipv4IPIPTunnelAddr', 'routeReflectorClusterID']);
  s.bgp = {};
  const v4 = c.cidr(b, 'ipv4Address', p, { family: 4 });
  if (v4 !== undefined) s.bgp.ipv4Address = v4.toString();
  const v6 = c.cidr(b, 'ipv6Address', p, { family: 6 });
  if (v6 !== undefined) s.bgp.ipv6Address = v6.toString();
  const asn = c.asn(b, 'asNumber', p);
  if (asn !== undefined) s.bgp.asNumber = asn;
  const tun = c.ip(b, 'ipv4IPIPTunnelAddr', p, 4);
  if (tun !== undefined) s.bgp.ipv4IPIPTunnelAddr = tun.toString();
  // RFC 4456 CLUSTER_ID is 4 octets; Calico requires the dotted-quad form.
  const rr = c.ip(b, 'routeReflectorClusterID', p, 4);
  if (rr !== undefined) s.bgp.routeReflectorClusterID = rr.toString();
  return s;
}

const BGPPEER_FIELDS = [
  'node', 'nodeSelector', 'peerIP', 'peerSelector', 'asNumber', 'localASNumber', 'localWorkloadSelector',
  'password', 'sourceAddress', 'maxRestartTime', 'keepaliveTime', 'nextHopMode', 'keepOriginalNextHop',
  'numAllowedLocalASNumbers', 'ttlSecurity', 'reachableBy', 'filters', 'reversePeering',
];

function bgpPeer(c: Checker, o: Obj): BGPPeerSpec {
  c.fields(o, SPEC, BGPPEER_FIELDS);
  const s: BGPPeerSpec = {};
  const n = c.str(o, 'node', SPEC);
  if (n !== undefined) s.node = n;
  const ns = c.selector(o, 'nodeSelector', SPEC);
  if (ns !== undefined) s.nodeSelector = ns;
  if (s.node !== undefined && o['nodeSelector'] !== undefined && o['nodeSelector'] !== '') {
    c.error([...SPEC, 'nodeSelector'], 'cannot be set together with spec.node (use one or the other)');
  }
  const peerIP = c.str(o, 'peerIP', SPEC);
  if (peerIP !== undefined) {
    const hp = parseHostPort(peerIP);
    if (typeof hp === 'string') c.error([...SPEC, 'peerIP'], hp);
    else {
      s.peerIP = peerIP;
      s.peerAddress = hp.host.toString();
      if (hp.port !== undefined) s.peerPort = hp.port;
    }
  }
  const ps = c.selector(o, 'peerSelector', SPEC);
  if (ps !== undefined) s.peerSelector = ps;
  const asn = c.asn(o, 'asNumber', SPEC);
  if (asn !== undefined) s.asNumber = asn;
  const lws = c.selector(o, 'localWorkloadSelector', SPEC);
  if (lws !== undefined) s.localWorkloadSelector = lws;
  if (peerIP !== undefined && o['peerSelector'] !== undefined && o['peerSelector'] !== '') {
    c.error([...SPEC, 'peerSelector'], 'cannot be set together with spec.peerIP (use one or the other)');
  } else if (!given(o, 'peerIP') && !given(o, 'peerSelector') && !given(o, 'localWorkloadSelector')) {
    c.error(SPEC, 'needs spec.peerIP (a fixed neighbour) or spec.peerSelector (Calico nodes)');
  }
  if (ps !== undefined && asn !== undefined) {
    c.error([...SPEC, 'asNumber'], 'must be empty with spec.peerSelector (the selected nodes\' own AS numbers are used)');
  }
  if (peerIP !== undefined && !given(o, 'asNumber')) {
    // Calico's API has `asNumber,omitempty` and accepts the peer; confd reads the missing AS as the
    // cluster's (nodesWithIPPortAndAS), so the session is iBGP. Accept it with a warning.
    c.warn([...SPEC, 'asNumber'], 'not set with spec.peerIP: the cluster AS number is used (an iBGP session), as confd reads it');
  }
  const las = c.asn(o, 'localASNumber', SPEC);
  if (las !== undefined) s.localASNumber = las;
  const pw = secretRef(c, o, 'password', SPEC);
  if (pw !== undefined) s.password = pw;
  const sa = c.oneOf(o, 'sourceAddress', SPEC, enumValues(SourceAddress));
  if (sa !== undefined) s.sourceAddress = sa;
  const mrt = c.duration(o, 'maxRestartTime', SPEC);
  if (mrt !== undefined) s.maxRestartTime = mrt;
  const ka = c.duration(o, 'keepaliveTime', SPEC);
  if (ka !== undefined) {
    if (ka < 1 && o['keepaliveTime'] !== '0s') c.error([...SPEC, 'keepaliveTime'], 'must be at least 1s (RFC 4271 §4.4)');
    else s.keepaliveTime = ka;
  }
  const nh = c.oneOf(o, 'nextHopMode', SPEC, enumValues(NextHopMode));
  if (nh !== undefined) s.nextHopMode = nh;
  const kon = c.bool(o, 'keepOriginalNextHop', SPEC);
  if (kon !== undefined) s.keepOriginalNextHop = kon;
  const nal = c.int(o, 'numAllowedLocalASNumbers', SPEC, 0, 10);
  if (nal !== undefined) s.numAllowedLocalASNumbers = nal;
  const ttl = c.int(o, 'ttlSecurity', SPEC, 0, 255);
  if (ttl !== undefined) s.ttlSecurity = ttl;
  const rb = c.ip(o, 'reachableBy', SPEC);
  if (rb !== undefined) {
    const fam = s.peerAddress === undefined ? undefined : s.peerAddress.includes(':') ? 6 : 4;
    if (fam !== undefined && rb.family !== fam) c.error([...SPEC, 'reachableBy'], `must be an IPv${fam} address like spec.peerIP`);
    else s.reachableBy = rb.toString();
  }
  const f = c.strList(o, 'filters', SPEC);
  if (f !== undefined) s.filters = f;
  const rp = c.oneOf(o, 'reversePeering', SPEC, enumValues(ReversePeering));
  if (rp !== undefined) s.reversePeering = rp;
  return s;
}

function ipPool(c: Checker, o: Obj): IPPoolSpec | undefined {
  c.fields(o, SPEC, [
    'cidr', 'blockSize', 'ipipMode', 'vxlanMode', 'natOutgoing', 'disabled', 'disableBGPExport', 'nodeSelector',
    'allowedUses', 'assignmentMode', 'namespaceSelector',
  ]);
  const cidr = c.cidr(o, 'cidr', SPEC, { required: true, aligned: true });
  const v6 = cidr?.family === 6;
  // Calico's limits: IPv4 blocks /20../32, IPv6 /116../128, never larger than the pool.
  const blockSize = c.int(o, 'blockSize', SPEC, v6 ? 116 : 20, v6 ? 128 : 32);
  const ipipMode = c.oneOf(o, 'ipipMode', SPEC, enumValues(EncapMode)) ?? EncapMode.Never;
  const vxlanMode = c.oneOf(o, 'vxlanMode', SPEC, enumValues(EncapMode)) ?? EncapMode.Never;
  if (ipipMode !== EncapMode.Never && vxlanMode !== EncapMode.Never) {
    c.error([...SPEC, 'vxlanMode'], 'IPIP and VXLAN cannot both be enabled on one pool');
  }
  if (v6 && ipipMode !== EncapMode.Never) c.error([...SPEC, 'ipipMode'], 'IPIP is IPv4 only; set it to Never on an IPv6 pool');
  const natOutgoing = c.bool(o, 'natOutgoing', SPEC) ?? false;
  const disabled = c.bool(o, 'disabled', SPEC) ?? false;
  const disableBGPExport = c.bool(o, 'disableBGPExport', SPEC) ?? false;
  const nodeSelector = c.selector(o, 'nodeSelector', SPEC);
  const uses = c.strList(o, 'allowedUses', SPEC);
  const allowedUses: AllowedUse[] = [];
  uses?.forEach((u, i) => {
    const hit = AllowedUse.find((x) => x === u);
    if (hit === undefined) c.error([...SPEC, 'allowedUses', i], `"${u}" is not one of ${AllowedUse.join(', ')}`);
    else allowedUses.push(hit);
  });
  if (cidr === undefined) return undefined;
  const bs = blockSize ?? (v6 ? DEFAULTS.blockSizeV6 : DEFAULTS.blockSizeV4);
  if (bs < cidr.len) {
    c.error([...SPEC, 'blockSize'], `/${bs} blocks do not fit in the pool ${cidr.network().toString()}`);
  }
  const s: IPPoolSpec = { cidr: cidr.network().toString(), blockSize: bs, ipipMode, vxlanMode, natOutgoing, disabled, disableBGPExport };
  if (nodeSelector !== undefined) s.nodeSelector = nodeSelector;
  if (uses !== undefined) s.allowedUses = allowedUses;
  return s;
}

function blockAffinity(c: Checker, o: Obj): BlockAffinitySpec | undefined {
  c.fields(o, SPEC, ['node', 'cidr', 'state', 'deleted', 'type']);
  const n = c.str(o, 'node', SPEC, true);
  const cidr = c.cidr(o, 'cidr', SPEC, { required: true, aligned: true });
  const state = c.oneOf(o, 'state', SPEC, enumValues(AffinityState));
  const deleted = c.bool(o, 'deleted', SPEC) ?? false;
  if (n === undefined || cidr === undefined) return undefined;
  const s: BlockAffinitySpec = { node: n, cidr: cidr.network().toString(), deleted };
  if (state !== undefined) s.state = state;
  return s;
}

function ipamBlock(c: Checker, o: Obj): IPAMBlockSpec | undefined {
  // Written by Calico IPAM, not by people: check what Kite reads, ignore the rest quietly.
  const cidr = c.cidr(o, 'cidr', SPEC, { required: true, aligned: true });
  const affinity = c.str(o, 'affinity', SPEC);
  if (affinity !== undefined && !affinity.startsWith('host:') && !affinity.startsWith('virtual:')) {
    c.error([...SPEC, 'affinity'], `"${affinity}" is not an affinity ("host:<node name>")`);
  }
  const allocations: (number | null)[] = [];
  (c.list(o, 'allocations', SPEC) ?? []).forEach((a, i) => {
    if (a === null || (typeof a === 'number' && Number.isInteger(a) && a >= 0)) allocations.push(a);
    else c.error([...SPEC, 'allocations', i], `must be an attribute index or null, got ${JSON.stringify(a)}`);
  });
  const unallocated: number[] = [];
  (c.list(o, 'unallocated', SPEC) ?? []).forEach((a, i) => {
    if (typeof a === 'number' && Number.isInteger(a) && a >= 0) unallocated.push(a);
    else c.error([...SPEC, 'unallocated', i], `must be an address index, got ${JSON.stringify(a)}`);
  });
  const attributes: AllocationAttribute[] = [];
  (c.list(o, 'attributes', SPEC) ?? []).forEach((a, i) => {
    const p = [...SPEC, 'attributes', i];
    const ao = c.obj(a, p);
    if (ao === undefined) return;
    const attr: AllocationAttribute = { secondary: c.stringMap(ao, 'secondary', p) };
    const h = c.str(ao, 'handle_id', p);
    if (h !== undefined) attr.handle_id = h;
    attributes.push(attr);
  });
  const strictAffinity = c.bool(o, 'strictAffinity', SPEC) ?? false;
  const deleted = c.bool(o, 'deleted', SPEC) ?? false;
  if (cidr === undefined) return undefined;
  const s: IPAMBlockSpec = { cidr: cidr.network().toString(), strictAffinity, allocations, unallocated, attributes, deleted };
  if (affinity !== undefined) s.affinity = affinity;
  return s;
}

function workloadEndpoint(c: Checker, o: Obj): WorkloadEndpointSpec | undefined {
  const n = c.str(o, 'node', SPEC, true);
  const ipNetworks: string[] = [];
  (c.strList(o, 'ipNetworks', SPEC) ?? []).forEach((x, i) => {
    const cidr = c.cidrOf(x, [...SPEC, 'ipNetworks', i]);
    if (cidr !== undefined) ipNetworks.push(cidr.toString());
  });
  const mac = c.str(o, 'mac', SPEC);
  if (mac !== undefined && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) c.error([...SPEC, 'mac'], `"${mac}" is not a MAC address`);
  if (n === undefined) return undefined;
  const s: WorkloadEndpointSpec = { node: n, ipNetworks, profiles: c.strList(o, 'profiles', SPEC) ?? [] };
  for (const k of ['orchestrator', 'workload', 'pod', 'endpoint', 'interfaceName'] as const) {
    const v = c.str(o, k, SPEC);
    if (v !== undefined) s[k] = v;
  }
  if (mac !== undefined) s.mac = mac.toLowerCase();
  return s;
}

export type { Kind };
