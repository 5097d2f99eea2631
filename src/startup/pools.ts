// calico-node's default IP pools (node/pkg/lifecycle/startup/startup.go configureIPPools and
// createIPPool): created when no pool of that family exists, unless NO_DEFAULT_POOLS is true;
// shaped by CALICO_IPV4POOL_* / CALICO_IPV6POOL_* with calico-node's defaults.
import { parsePrefix } from '../net/index.js';
import type { EncapMode, IPPool, IPPoolSpec, Resources } from '../datastore/resources.js';
import { StartupError, type StartupEnv } from './identity.js';

export const DEFAULT_IPV4_POOL_CIDR = '192.168.0.0/16';
/** calico-node generates a random ULA /48 when none is given; Kite's fixed default keeps restarts stable. */
export const DEFAULT_IPV6_POOL_CIDR = 'fd80:24e2:f998:72d6::/64';

/** The pools to create now (empty when every family present already has one, or NO_DEFAULT_POOLS). */
export function defaultPools(env: StartupEnv, rs: Resources, families: { v4: boolean; v6: boolean }): IPPool[] {
  if (bool(env, 'NO_DEFAULT_POOLS', false)) return [];
  const has = (f: 4 | 6) => rs.ipPools.some((p) => parsePrefix(p.spec.cidr)?.family === f);
  const out: IPPool[] = [];
  if (families.v4 && !has(4)) out.push(pool(env, 4));
  if (families.v6 && !has(6)) out.push(pool(env, 6));
  return out;
}

function pool(env: StartupEnv, f: 4 | 6): IPPool {
  const v = f === 4 ? 'CALICO_IPV4POOL' : 'CALICO_IPV6POOL';
  const cidr = env[`${v}_CIDR`] || (f === 4 ? DEFAULT_IPV4_POOL_CIDR : DEFAULT_IPV6_POOL_CIDR);
  const p = parsePrefix(cidr, { hostBits: 'reject' });
  if (p === null || p.family !== f) throw new StartupError(`${v}_CIDR "${cidr}" is not an IPv${f} network`);
  const bs = env[`${v}_BLOCK_SIZE`];
  const blockSize = bs ? Number(bs) : f === 4 ? 26 : 122;
  const [min, max] = f === 4 ? [20, 32] : [116, 128];
  if (!Number.isInteger(blockSize) || blockSize < min || blockSize > max) throw new StartupError(`${v}_BLOCK_SIZE "${bs ?? ''}" must be ${min}-${max}`);
  if (blockSize < p.len) throw new StartupError(`${v}_BLOCK_SIZE ${blockSize} is shorter than the pool ${cidr}`);
  const spec: IPPoolSpec = {
    cidr: p.toString(), blockSize,
    ipipMode: f === 4 ? encap(env, `${v}_IPIP`) : 'Never',
    vxlanMode: encap(env, `${v}_VXLAN`),
    natOutgoing: bool(env, `${v}_NAT_OUTGOING`, f === 4),
    disabled: false,
    disableBGPExport: bool(env, `${v}_DISABLE_BGP_EXPORT`, false),
    nodeSelector: env[`${v}_NODE_SELECTOR`] || 'all()',
  };
  const name = f === 4 ? 'default-ipv4-ippool' : 'default-ipv6-ippool';
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name, labels: {}, annotations: {} }, spec, origin: { file: 'calico-node start-up (default pool)', document: 0 } };
}

/** calico-node's parse: ""/off/never → Never, always → Always, crosssubnet/cross-subnet → CrossSubnet. */
function encap(env: StartupEnv, name: string): EncapMode {
  const s = (env[name] ?? '').toLowerCase();
  if (s === '' || s === 'off' || s === 'never') return 'Never';
  if (s === 'always') return 'Always';
  if (s === 'crosssubnet' || s === 'cross-subnet') return 'CrossSubnet';
  throw new StartupError(`${name} "${env[name] ?? ''}" must be Always, CrossSubnet or Never`);
}

function bool(env: StartupEnv, name: string, dflt: boolean): boolean {
  const s = (env[name] ?? '').toLowerCase();
  if (s === '') return dflt;
  if (['true', '1', 't', 'yes'].includes(s)) return true;
  if (['false', '0', 'f', 'no'].includes(s)) return false;
  throw new StartupError(`${name} "${env[name] ?? ''}" is not true or false`);
}
