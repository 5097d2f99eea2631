// Kite's IPAM, public surface: the allocator (blocks, addresses, the IPIP tunnel address) and
// the stores it runs on (a locked state file, the Kubernetes API, etcd, memory), all in calico-ipam's
// object shapes so Kite and Calico's CNI plugin can share one datastore.
export { Allocator, IpamError, IpamErrorCode, type AllocatorOptions, type AssignRequest, type TunnelKind, type TunnelResult } from './allocator.js';
export { FileStore, FileLock, STATE_FILE, LOCK_FILE, type FileStoreOptions } from './file-store.js';
export { KubeStore, createKubeRequester, type KubeRequester, type KubeStoreOptions } from './kube-store.js';
export { EtcdStore } from './etcd-store.js';
export { MemoryStore, StoreError, StoreErrorCode, isStoreError, type IpamStore, type Stored } from './store.js';
export { IpamKind, type AffinitySpec, type BlockSpec, type HandleSpec } from './objects.js';
export { IpamUse, judgePools, type NodeInfo, type PoolVerdict } from './pools.js';
export { affinityName, blockName, handleName, ipipTunnelHandle } from './names.js';
