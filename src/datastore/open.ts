// Opens the datastore a node was started with: the YAML file (the default), the Kubernetes API or
// etcd (calico-node's etcdv3 layout). The latter two are loaded only when used: their clients are
// large, and a node on the file datastore needs neither.
import type { Logger } from 'pino';
import { createFileDatastore, type Datastore } from './datastore.js';
import type { EtcdConfig } from './etcd/env.js';

export type DatastoreKind = 'file' | 'kubernetes' | 'etcdv3';

export interface OpenDatastoreOptions {
  kind: DatastoreKind;
  /** The file datastore's YAML file. */
  file: string;
  nodeName: string;
  log: Logger;
  kubeconfig?: string | undefined;
  etcd?: EtcdConfig | undefined;
}

export async function openDatastore(o: OpenDatastoreOptions): Promise<Datastore> {
  if (o.kind === 'kubernetes') {
    const { createKubernetesDatastore } = await import('./kubernetes/index.js');
    return createKubernetesDatastore({ nodeName: o.nodeName, log: o.log, ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}) });
  }
  if (o.kind === 'etcdv3') {
    const { createEtcdDatastore } = await import('./etcd/index.js');
    // --kubeconfig: where the BGP password Secrets are read (calico-node reads them from the API too).
    return createEtcdDatastore({ nodeName: o.nodeName, log: o.log, etcd: o.etcd ?? { endpoints: ['http://127.0.0.1:2379'] }, ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}) });
  }
  return createFileDatastore(o.file);
}

/** How logs name the source of the resources: the datastore kind, or the file's path. */
export const datastoreSource = (o: Pick<OpenDatastoreOptions, 'kind' | 'file'>): string => (o.kind === 'file' ? o.file : o.kind);
