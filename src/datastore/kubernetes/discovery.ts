// Finds which API group holds the Calico resources, from API discovery (GET /apis and
// GET /apis/<group>/<version>): the classic crd.projectcalico.org/v1 CRDs, or projectcalico.org/v3
// served as CRDs directly by newer Calico. Also lists which kinds exist (older Calico has no BGPFilter).
import type { KubeClient } from './client.js';
import { KubeHttpError } from './client.js';

export const CalicoGroup = {
  CRDv1: 'crd.projectcalico.org/v1',
  V3: 'projectcalico.org/v3',
} as const;
export type CalicoGroup = (typeof CalicoGroup)[keyof typeof CalicoGroup];

export interface CalicoDiscovery {
  apiVersion: CalicoGroup;
  /** Plural resource names served in that group version (bgppeers, ippools, …). */
  resources: Set<string>;
  /** Why this group was chosen, for the log. */
  reason: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function servedVersions(apis: unknown, group: string): string[] {
  if (!isObj(apis) || !Array.isArray(apis['groups'])) return [];
  for (const g of apis['groups']) {
    if (!isObj(g) || g['name'] !== group || !Array.isArray(g['versions'])) continue;
    return g['versions'].filter(isObj).map((v) => String(v['version'] ?? ''));
  }
  return [];
}

/**
 * The rule, in order:
 * 1. `force` (the apiGroup option) wins.
 * 2. crd.projectcalico.org/v1 served → use it. When projectcalico.org/v3 is served as well it is
 *    Calico's aggregated API server, which stores everything in those v1 CRDs; reading the CRDs
 *    avoids depending on that extra server (calico-node does the same).
 * 3. Only projectcalico.org/v3 served → Calico's v3 CRDs are the store: the aggregated API
 *    server cannot run without the v1 CRDs behind it, so v3 alone means CRDs.
 * 4. Neither → an error: Calico is not installed (retried by the caller).
 */
export async function discoverCalico(client: KubeClient, force?: CalicoGroup): Promise<CalicoDiscovery> {
  const get = async (path: string): Promise<unknown> => {
    const res = await client.get(path);
    if (res.status !== 200) {
      const msg = isObj(res.body) && typeof res.body['message'] === 'string' ? res.body['message'] : '';
      throw new KubeHttpError(res.status, path, msg);
    }
    return res.body;
  };
  let apiVersion: CalicoGroup;
  let reason: string;
  if (force !== undefined) {
    apiVersion = force;
    reason = `${force} chosen by configuration`;
  } else {
    const apis = await get('/apis');
    const v1 = servedVersions(apis, 'crd.projectcalico.org').includes('v1');
    const v3 = servedVersions(apis, 'projectcalico.org').includes('v3');
    if (v1) {
      apiVersion = CalicoGroup.CRDv1;
      reason = v3
        ? 'crd.projectcalico.org/v1 is served (projectcalico.org/v3 too: the Calico API server, backed by these CRDs)'
        : 'crd.projectcalico.org/v1 is served';
    } else if (v3) {
      apiVersion = CalicoGroup.V3;
      reason = 'only projectcalico.org/v3 is served: Calico stores its resources as v3 CRDs';
    } else {
      throw new Error('no Calico resources in this cluster: neither crd.projectcalico.org/v1 nor projectcalico.org/v3 is served (is Calico installed, are its CRDs applied?)');
    }
  }
  const list = await get(`/apis/${apiVersion}`);
  const resources = new Set<string>();
  if (isObj(list) && Array.isArray(list['resources'])) {
    for (const r of list['resources']) {
      // Subresources ("ippools/status") are not collections.
      if (isObj(r) && typeof r['name'] === 'string' && !r['name'].includes('/')) resources.add(r['name']);
    }
  }
  return { apiVersion, resources, reason };
}
