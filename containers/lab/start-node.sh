#!/bin/sh
# Entrypoint of each Kite node in the compose cluster and the containerlab topology: makes this
# node's pods (containers/lab/pods.mjs: a network namespace and a cali* veth per
# WorkloadEndpoint of $NODENAME in the configuration), then runs Kite on its Linux dataplane.
set -eu
: "${NODENAME:?NODENAME must name this node}"
CONFIG=${KITE_CONFIG:-/lab/kite.yaml}
# Kite writes per-interface sysctls (proxy_arp, forwarding). A container that is not privileged
# sees /proc/sys read-only; with CAP_SYS_ADMIN it can make its own view writable.
if grep -q ' /proc/sys ro,' /proc/self/mountinfo; then
  mount -o remount,bind,rw /proc/sys /proc/sys
fi
node /lab/pods.mjs "$NODENAME" "$CONFIG"
exec kite run --config "$CONFIG" --node "$NODENAME" --dataplane linux
