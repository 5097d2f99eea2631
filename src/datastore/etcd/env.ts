// calico-node's etcd variables (DATASTORE_TYPE=etcdv3, ETCD_ENDPOINTS, ETCD_KEY_FILE, ETCD_CERT_FILE,
// ETCD_CA_CERT_FILE, ETCD_USERNAME, ETCD_PASSWORD) read into the etcd datastore's configuration;
// a module of its own so `kite run`'s argument parsing does not load the etcd client.

export interface EtcdConfig {
  /** Client URLs, e.g. https://10.0.0.1:2379. */
  endpoints: string[];
  keyFile?: string;
  certFile?: string;
  caCertFile?: string;
  username?: string;
  password?: string;
  /** How long a unary call may take before the client tries another member. Default 5 s. */
  callTimeoutMs?: number;
  /** gRPC keepalive: a member that stops answering is noticed within time + timeout. Default 10 s + 3 s. */
  keepaliveMs?: number;
  keepaliveTimeoutMs?: number;
}

export const ETCD_VARIABLES = ['DATASTORE_TYPE', 'ETCD_ENDPOINTS', 'ETCD_KEY_FILE', 'ETCD_CERT_FILE', 'ETCD_CA_CERT_FILE', 'ETCD_USERNAME', 'ETCD_PASSWORD'] as const;

/** calico-node's etcd variables; undefined when ETCD_ENDPOINTS is unset. */
export function etcdConfigFromEnv(env: NodeJS.ProcessEnv): EtcdConfig | undefined {
  const endpoints = (env['ETCD_ENDPOINTS'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (endpoints.length === 0) return undefined;
  const cfg: EtcdConfig = { endpoints };
  const set = (field: 'keyFile' | 'certFile' | 'caCertFile' | 'username' | 'password', v: string | undefined): void => {
    if (v !== undefined && v !== '') cfg[field] = v;
  };
  set('keyFile', env['ETCD_KEY_FILE']);
  set('certFile', env['ETCD_CERT_FILE']);
  set('caCertFile', env['ETCD_CA_CERT_FILE']);
  set('username', env['ETCD_USERNAME']);
  set('password', env['ETCD_PASSWORD']);
  return cfg;
}

