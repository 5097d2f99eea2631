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
bridge|/usr/sbin/bridge|iproute2|test/dataplane-e2e (VXLAN): the kernel FDB entries
ss|/usr/bin/ss|iproute2|test/interop/calico.test.ts: which addresses listen on port 179 (bindMode NodeIP)
nstat|/usr/bin/nstat|iproute2|bench/reflect.mjs: TCP segments the reflector sends (TcpOutSegs)
ping|/usr/bin/ping|iputils-ping|test/dataplane-e2e, test/kernel (inside the qemu guest): pod-to-pod pings
sysctl|/usr/sbin/sysctl|procps|test/interop, the lab, test/kernel (guest): forwarding and DAD settings
tcpdump|/usr/bin/tcpdump|tcpdump|test/kernel (inside the qemu guest): which path IPIP packets take
openssl|/usr/bin/openssl|openssl|test/datastore/kubernetes, test/ipam: the local API server'"'"'s TLS certificate
flock|/usr/bin/flock|util-linux|these install scripts: one apt-get at a time
bird|/usr/sbin/bird|bird2|test/interop, test/interop-rr, bench:ingest, bench:reflect, bench:fib, check:differential
birdc|/usr/sbin/birdc|bird2|test/interop, test/interop-rr, check:differential: BIRD state
bgpd|/usr/lib/frr/bgpd|frr|test/interop, test/interop-rr, the lab (--tor), bench:ingest, check:differential
zebra|/usr/lib/frr/zebra|frr|the lab (--tor): the ToR'"'"'s kernel routes
vtysh|/usr/bin/vtysh|frr|test/interop, the lab (--tor), check:differential: FRR state
gobgpd|/usr/bin/gobgpd|gobgpd|test/interop, test/dataplane-e2e, bench:ingest
gobgp|/usr/bin/gobgp|gobgpd|test/interop, test/dataplane-e2e: GoBGP state and route injection
tshark|/usr/bin/tshark|tshark|test/interop: an independent decode of Kite'"'"'s BGP messages
dumpcap|/usr/bin/dumpcap|tshark|test/interop: packet captures
text2pcap|/usr/bin/text2pcap|tshark|test/interop: the dissector check on hand-made bytes
etcd|/usr/bin/etcd|etcd-server|test/datastore/etcd, bench:etcd, the lab (--datastore etcd): the etcdv3 datastore
etcdctl|/usr/bin/etcdctl|etcd-client|test/datastore/etcd: writes, compaction and member status
'

WHO=install-deps
. "$(dirname "$0")/apt-table.sh"
