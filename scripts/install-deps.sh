#!/bin/sh
# Installs, with apt-get, every system program Kite's tests, lab and benchmarks run on the host
# (the qemu guest runs the host's programs too: scripts/qemu/install.sh calls this first).
# Idempotent and safe to run concurrently; exits 0 when every program is present afterwards,
# 1 otherwise, naming each missing program and the Debian package that provides it.
#
#   scripts/install-deps.sh            install what is missing
#   scripts/install-deps.sh --check    only report (exit 1 and the names when something is missing)
#   scripts/install-deps.sh --list     print the table below (program, path, package, used by)
set -u

# program | path looked for first | Debian package | who runs it
TABLE='
ip|/usr/sbin/ip|iproute2|everything: namespaces, veths, addresses, routes (tests, lab, benchmarks, guest)
ping|/usr/bin/ping|iputils-ping|test/dataplane-e2e, test/kernel (inside the qemu guest): pod-to-pod pings
sysctl|/usr/sbin/sysctl|procps|test/interop, the lab, test/kernel (guest): forwarding and DAD settings
tcpdump|/usr/bin/tcpdump|tcpdump|test/kernel (inside the qemu guest): which path IPIP packets take
openssl|/usr/bin/openssl|openssl|test/datastore/kubernetes, test/ipam: the local API server'"'"'s TLS certificate
flock|/usr/bin/flock|util-linux|these install scripts: one apt-get at a time
bird|/usr/sbin/bird|bird2|test/interop, test/interop-rr, bench:ingest, bench:reflect, bench:fib
birdc|/usr/sbin/birdc|bird2|test/interop, test/interop-rr: BIRD state
bgpd|/usr/lib/frr/bgpd|frr|test/interop, test/interop-rr, the lab (--tor), bench:ingest
zebra|/usr/lib/frr/zebra|frr|the lab (--tor): the ToR'"'"'s kernel routes
vtysh|/usr/bin/vtysh|frr|test/interop, the lab (--tor): FRR state
gobgpd|/usr/bin/gobgpd|gobgpd|test/interop, test/dataplane-e2e, bench:ingest
gobgp|/usr/bin/gobgp|gobgpd|test/interop, test/dataplane-e2e: GoBGP state and route injection
tshark|/usr/bin/tshark|tshark|test/interop: an independent decode of Kite'"'"'s BGP messages
dumpcap|/usr/bin/dumpcap|tshark|test/interop: packet captures
text2pcap|/usr/bin/text2pcap|tshark|test/interop: the dissector check on hand-made bytes
'

# Prints "program:package" for each program that is missing.
missing() {
  echo "$TABLE" | while IFS='|' read -r name path pkg _; do
    [ -n "$name" ] || continue
    if [ ! -x "$path" ] && ! command -v "$name" >/dev/null 2>&1; then printf '%s:%s ' "$name" "$pkg"; fi
  done
}
packages() { for m in $1; do echo "${m#*:}"; done | sort -u | tr '\n' ' '; }
names() { for m in $1; do printf '%s (%s) ' "${m%%:*}" "${m#*:}"; done; }

case "${1:-}" in
  --list) echo "$TABLE" | sed '/^$/d'; exit 0 ;;
  --check) m=$(missing); [ -z "$m" ] && exit 0; echo "install-deps: missing: $(names "$m")" >&2; exit 1 ;;
  '') ;;
  *) echo "usage: scripts/install-deps.sh [--check|--list]" >&2; exit 2 ;;
esac

m=$(missing)
[ -z "$m" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing: $(names "$m")and not root; run as root, or: apt-get install $(packages "$m")" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing: $(names "$m")and no apt-get on this machine" >&2
  exit 1
fi

# One apt-get at a time across every Kite installer (this one, scripts/qemu/install.sh), and
# across concurrent test workers: the others wait, then find nothing left to do.
. "$(dirname "$0")/apt-lock.sh"
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

pkgs=$(packages "$m")
echo "install-deps: installing $pkgs for: $(names "$m")" >&2
log=$(mktemp /tmp/kite-install-deps.XXXXXX.log)
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # the package list is meant to split
{ apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends $pkgs; } >"$log" 2>&1
rc=$?
[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d

m=$(missing)
if [ $rc -ne 0 ] || [ -n "$m" ]; then
  echo "install-deps: still missing: $(names "$m")(apt-get rc=$rc); last lines of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
rm -f "$log"
exit 0
