// Calico's etcdv3 key layout (libcalico-go backend/model: ResourceKey, BlockKey, BlockAffinityKey,
// IPAMHandleKey): where calicoctl and calico-node keep each object, so a store they wrote is read
// unchanged and what Kite writes lands where they look.
import { parsePrefix } from '../../net/index.js';

/** Every v3 resource lives under this prefix, then <plural>/[<namespace>/]<name>. */
export const RESOURCES_PREFIX = '/calico/resources/v3/projectcalico.org/';
/** IPAMBlocks: <prefix>ipv4/block/10.0.0.0-26 (the CIDR with its "/" as "-"). */
export const BLOCKS_PREFIX = '/calico/ipam/v2/assignment/';
/** Block affinities: <prefix><host>/ipv4/block/10.0.0.0-26. */
export const AFFINITIES_PREFIX = '/calico/ipam/v2/host/';
/** IPAM handles: <prefix><handle ID>. */
export const HANDLES_PREFIX = '/calico/ipam/v2/handle/';

/** Kinds that live in a namespace directory (of those Kite reads). */
const NAMESPACED = new Set(['workloadendpoints', 'networkpolicies', 'networksets']);

export function resourceKey(plural: string, name: string, namespace?: string): string {
  return `${RESOURCES_PREFIX}${plural}/${namespace !== undefined && namespace !== '' ? `${namespace}/` : ''}${name}`;
}

/** The CIDR as Calico's keys write it: canonical network text, "/" replaced by "-". */
function cidrPart(cidr: string): { text: string; version: 4 | 6 } {
  const c = parsePrefix(cidr, { hostBits: 'clear' });
  if (c === null) throw new Error(`"${cidr}" is not a CIDR`);
  return { text: c.toString().replace('/', '-'), version: c.family === 6 ? 6 : 4 };
}

export function blockKey(cidr: string): string {
  const c = cidrPart(cidr);
  return `${BLOCKS_PREFIX}ipv${c.version}/block/${c.text}`;
}

export function affinityKey(host: string, cidr: string): string {
  const c = cidrPart(cidr);
  return `${AFFINITIES_PREFIX}${host}/ipv${c.version}/block/${c.text}`;
}

export function handleKey(handleID: string): string {
  return `${HANDLES_PREFIX}${handleID}`;
}

/** "10.0.0.0-26" → "10.0.0.0/26" (the last "-": IPv6 text has none, but be exact anyway). */
function cidrFromPart(part: string): string | undefined {
  const i = part.lastIndexOf('-');
  if (i <= 0) return undefined;
  const c = parsePrefix(`${part.slice(0, i)}/${part.slice(i + 1)}`, { hostBits: 'clear' });
  return c === null ? undefined : c.toString();
}

export type ParsedKey =
  | { type: 'resource'; plural: string; namespace?: string; name: string }
  | { type: 'block'; cidr: string }
  | { type: 'affinity'; host: string; cidr: string }
  | { type: 'handle'; handleID: string };

/** What a key names; undefined for keys outside the layout (Felix status, old v1 keys…). */
export function parseKey(key: string): ParsedKey | undefined {
  if (key.startsWith(RESOURCES_PREFIX)) {
    const parts = key.slice(RESOURCES_PREFIX.length).split('/');
    const plural = parts[0] ?? '';
    if (NAMESPACED.has(plural)) {
      if (parts.length !== 3 || parts[1] === '' || parts[2] === '') return undefined;
      return { type: 'resource', plural, namespace: parts[1] as string, name: parts[2] as string };
    }
    if (parts.length !== 2 || parts[1] === '') return undefined;
    return { type: 'resource', plural, name: parts[1] as string };
  }
  if (key.startsWith(BLOCKS_PREFIX)) {
    const m = /^ipv[46]\/block\/([^/]+)$/.exec(key.slice(BLOCKS_PREFIX.length));
    const cidr = m === null ? undefined : cidrFromPart(m[1] as string);
    return cidr === undefined ? undefined : { type: 'block', cidr };
  }
  if (key.startsWith(AFFINITIES_PREFIX)) {
    const m = /^([^/]+)\/ipv[46]\/block\/([^/]+)$/.exec(key.slice(AFFINITIES_PREFIX.length));
    const cidr = m === null ? undefined : cidrFromPart(m[2] as string);
    return m === null || cidr === undefined ? undefined : { type: 'affinity', host: m[1] as string, cidr };
  }
  if (key.startsWith(HANDLES_PREFIX)) {
    const id = key.slice(HANDLES_PREFIX.length);
    return id === '' || id.includes('/') ? undefined : { type: 'handle', handleID: id };
  }
  return undefined;
}

/**
 * The name Calico's Kubernetes backend gives the same object (IPAMBlock "10-65-0-0-26",
 * BlockAffinity "<host>-10-65-0-0-26"), so both datastores yield equal resources.
 */
export function kubeStyleName(cidr: string, host?: string): string {
  const c = parsePrefix(cidr, { hostBits: 'clear' });
  const text = (c === null ? cidr : c.toString()).replace(/[.:/]/g, '-');
  return host === undefined ? text : `${host}-${text}`;
}
