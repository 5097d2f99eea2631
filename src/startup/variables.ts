// The calico-node environment variables Kite's start-up reads, in a module of their own so
// `kite run`'s argument parsing can name them without loading start-up itself.

export const STARTUP_VARIABLES = [
  'IP', 'IP6', 'IP_AUTODETECTION_METHOD', 'IP6_AUTODETECTION_METHOD', 'AS', 'CALICO_ROUTER_ID', 'NO_DEFAULT_POOLS',
  ...['CIDR', 'BLOCK_SIZE', 'IPIP', 'VXLAN', 'NAT_OUTGOING', 'NODE_SELECTOR', 'DISABLE_BGP_EXPORT']
    .flatMap((s) => [`CALICO_IPV4POOL_${s}`, `CALICO_IPV6POOL_${s}`]),
] as const;
