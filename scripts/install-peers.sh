#!/bin/sh
# Installs the reference BGP daemons and tools the interop tests and the ingest benchmark run
# Kite against (BIRD 2, FRR, GoBGP, tshark, iproute2). Idempotent; safe to run concurrently.
# Exit 0 when everything is present afterwards, 1 otherwise (with the missing tools named).
set -u

missing() {
  out=""
  for t in ip:/usr/sbin/ip bird:/usr/sbin/bird birdc:/usr/sbin/birdc bgpd:/usr/lib/frr/bgpd vtysh:/usr/bin/vtysh \
           gobgpd:/usr/bin/gobgpd gobgp:/usr/bin/gobgp tshark:/usr/bin/tshark dumpcap:/usr/bin/dumpcap \
           text2pcap:/usr/bin/text2pcap; do
    name=${t%%:*}; path=${t#*:}
    if [ ! -x "$path" ] && ! command -v "$name" >/dev/null 2>&1; then out="$out $name"; fi
  done
  echo "$out"
}

m=$(missing)
[ -z "$m" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "install-peers: missing:$m and not root, cannot apt-get install" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-peers: missing:$m and no apt-get on this machine" >&2
  exit 1
fi

exec 9>/tmp/kite-install-peers.lock
flock 9
m=$(missing)
[ -z "$m" ] && exit 0

# Keep package scripts from starting system-wide bird/frr instances: they would listen on the
# host's port 179. A policy-rc.d we create is removed again afterwards.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-peers: installing for:$m" >&2
apt-get update -qq >&2 &&
  apt-get install -y -qq --no-install-recommends iproute2 bird2 frr gobgpd tshark procps >&2
rc=$?

[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d

m=$(missing)
if [ $rc -ne 0 ] || [ -n "$m" ]; then
  echo "install-peers: still missing:$m (apt-get rc=$rc)" >&2
  exit 1
fi
exit 0
