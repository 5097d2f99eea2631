#!/bin/sh
# The ToR image's entrypoint: starts FRR's daemons (zebra, bgpd, staticd, watchfrr) with the
# configuration bound at /etc/frr/frr.conf, then waits; SIGTERM stops them cleanly.
set -eu
[ -f /etc/frr/frr.conf ] || { echo "tor-start: no /etc/frr/frr.conf (bind containers/lab/frr.conf)" >&2; exit 1; }
/usr/lib/frr/frrinit.sh start
trap '/usr/lib/frr/frrinit.sh stop; exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
