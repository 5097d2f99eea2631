#!/usr/bin/env bash
# Guest side of test/kernel/ipip.test.ts, run by runInVm inside a Debian kernel that has ipip:
# two subnets joined by a router namespace, one Kite per node namespace (ipipMode CrossSubnet),
# then pod pings, tunl0 counters and a capture on the router. It only records; the host asserts.
#
# Input  (/out, written by the test): topology.sh (NODES, PODS, UNDERLAY_MTU, ...), kite.yaml.
# Output (/out): phase, converged, routes-<node>.json, tunl0-<node>.json, stats-<node>-<step>.json,
#   pings.txt, ping-*.txt, cap-<node>.txt, fib-<node>.json, kite-<node>.log, kite-exit.txt, diag-*.txt
set -uo pipefail

OUT=${KITE_OUT:-/out}
# shellcheck source=/dev/null
source "$OUT/topology.sh"
KITE="node $KITE_REPO/bin/kite"
T0=$(date +%s%N)

say() { local ds=$(( ($(date +%s%N) - T0) / 100000000 )); echo "ipip: $((ds / 10)).$((ds % 10))s $*"; }
phase() { echo "$1" > "$OUT/phase"; say "phase $1"; }
ns() { echo "ki-$1"; }
die() { echo "ipip-crosssubnet.sh: $*" >&2; echo "$*" > "$OUT/setup-error"; exit 3; }

declare -A KITE_PID=()
CAP_PIDS=()
FIB_PIDS=()

# Whatever happens, leave diagnostics behind, stop every process started here and remove every
# namespace (the VM is thrown away at power-off, but the script must not depend on that).
cleanup() {
  local rc=$?
  local line n s
  for line in "${NODES[@]}"; do
    read -r n _ <<<"$line"
    s=$(ns "$n")
    {
      echo "== ip -n $s -d link"; ip -n "$s" -d link 2>&1
      echo "== ip -n $s addr"; ip -n "$s" addr 2>&1
      echo "== ip -n $s route"; ip -n "$s" route 2>&1
      echo "== ip -n $s neigh"; ip -n "$s" neigh 2>&1
    } > "$OUT/diag-$n.txt"
  done
  { echo "== ip -n ki-router addr"; ip -n ki-router addr 2>&1; echo "== ip -n ki-router route"; ip -n ki-router route 2>&1; } > "$OUT/diag-router.txt"
  for p in "${CAP_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
  # SIGTERM: Kite tells its peers (Cease) and exits; its exit status is part of the result.
  for n in "${!KITE_PID[@]}"; do kill -TERM "${KITE_PID[$n]}" 2>/dev/null; done
  for n in "${!KITE_PID[@]}"; do
    local pid=${KITE_PID[$n]} code=
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; code=killed; fi
    wait "$pid" 2>/dev/null; [ -z "$code" ] && code=$?
    echo "$n $code" >> "$OUT/kite-exit.txt"
  done
  for p in "${CAP_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  for s in $(ip netns list | awk '/^ki-/ {print $1}'); do ip netns del "$s"; done
  say "done (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT

phase setup
set -e
grep -q '^ipip ' /proc/modules || die "the ipip module is not loaded"
[ "$(sysctl -n net.core.fb_tunnels_only_for_init_net)" = 0 ] || die "fb_tunnels_only_for_init_net is set: new namespaces get no tunl0"

# Under TCG every process start costs a few hundred milliseconds: one `ip -batch` per namespace.
# The router: one bridge per subnet carrying the subnet's gateway address, forwarding between them.
ip netns add ki-router
ip netns exec ki-router sysctl -qw net.ipv4.ip_forward=1
{
  echo "link set lo up"
  for s in "${SUBNETS[@]}"; do
    read -r br gw <<<"$s"
    echo "link add $br mtu $UNDERLAY_MTU type bridge"
    echo "addr add $gw dev $br"
    echo "link set $br up"
  done
} > /tmp/router.batch
ip -n ki-router -batch /tmp/router.batch

: > /tmp/router-ports.batch
for line in "${NODES[@]}"; do
  read -r name addr plen gw br _ <<<"$line"
  s=$(ns "$name")
  ip netns add "$s"
  # The fallback tunl0 of the ipip module appears in every new namespace.
  ip -n "$s" link show tunl0 > /dev/null || die "no tunl0 in $s after ip netns add"
  ip -n "$s" -batch - <<EOF
link set lo up
link add eth0 mtu $UNDERLAY_MTU type veth peer name r-$name mtu $UNDERLAY_MTU netns ki-router
addr add $addr/$plen dev eth0
link set eth0 up
route add default via $gw
EOF
  printf 'link set r-%s master %s\nlink set r-%s up\n' "$name" "$br" "$name" >> /tmp/router-ports.batch
done
ip -n ki-router -batch /tmp/router-ports.batch

# tunl0 as Kite may find it: left alone, carrying a stray address, or up with the module's MTU.
for line in "${TUNL0_BEFORE[@]}"; do
  read -r name cmd <<<"$line"
  # shellcheck disable=SC2086
  ip -n "$(ns "$name")" $cmd
done

# Pods: a namespace behind a Calico-named veth, IP/32 and a default route via 169.254.1.1 onlink
# (what Calico's CNI plugin builds). The node side gets nothing but its MAC: routes, proxy ARP and
# the neighbour entry are Kite's job.
for line in "${PODS[@]}"; do
  read -r pod node ip cali mac <<<"$line"
  p=$(ns "$pod")
  ip netns add "$p"
  ip -n "$(ns "$node")" -batch - <<EOF
link add $cali type veth peer name eth0 netns $p
link set $cali address ee:ee:ee:ee:ee:ee up
EOF
  ip -n "$p" -batch - <<EOF
link set lo up
link set eth0 address $mac
addr add $ip/32 dev eth0
link set eth0 up
route add 169.254.1.1 dev eth0 scope link
route add default via 169.254.1.1 dev eth0 onlink
EOF
done
for line in "${NODES[@]}"; do
  read -r name _ <<<"$line"
  ip -n "$(ns "$name")" -j -d addr show dev tunl0 > "$OUT/tunl0-before-$name.json"
done
set +e

phase kite
for line in "${NODES[@]}"; do
  read -r name addr _ <<<"$line"
  ip netns exec "$(ns "$name")" $KITE run --config "$OUT/kite.yaml" --node "$name" --socket "/run/kite-$name.sock" \
    --listen-address "$addr" --log-level info > "$OUT/kite-$name.log" 2>&1 &
  KITE_PID[$name]=$!
done

# Converged: every node's kernel holds every other node's block (not as a blackhole), its own pods'
# /32s, and tunl0 carries exactly the tunnel address. The shapes are the host's to judge.
converged() {
  local line name tun s have want
  for line in "${NODES[@]}"; do
    read -r name _ _ _ _ tun <<<"$line"
    s=$(ns "$name")
    have=$(ip -n "$s" -4 route show proto "$KITE_PROTO" 2>/dev/null)
    for want in "${BLOCKS[@]}"; do
      read -r owner block <<<"$want"
      if [ "$owner" != "$name" ]; then
        grep -q "^$block via " <<<"$have" || return 1
      fi
    done
    for want in "${PODS[@]}"; do
      read -r _ node ip _ <<<"$want"
      [ "$node" = "$name" ] || continue
      grep -q "^$ip dev cali" <<<"$have" || return 1
    done
    [ "$(ip -n "$s" -4 -o addr show dev tunl0 | awk '{print $4}')" = "$tun/32" ] || return 1
  done
  return 0
}
ok=no
deadline=$(( $(date +%s) + CONVERGE_TIMEOUT_S ))
# Starting node under emulation is slow (most of the time to converge): poll the kernel only once
# every Kite serves its control socket.
for line in "${NODES[@]}"; do
  read -r name _ <<<"$line"
  while [ ! -S "/run/kite-$name.sock" ] && [ "$(date +%s)" -lt "$deadline" ] && kill -0 "${KITE_PID[$name]}" 2>/dev/null; do sleep 0.5; done
done
say "every Kite serves its control socket"
while [ "$(date +%s)" -lt "$deadline" ]; do
  if converged; then ok=yes; break; fi
  for n in "${!KITE_PID[@]}"; do
    kill -0 "${KITE_PID[$n]}" 2>/dev/null || { say "kite $n exited early"; deadline=0; }
  done
  sleep 0.5
done
echo "$ok" > "$OUT/converged"
say "converged: $ok"

phase state
for line in "${NODES[@]}"; do
  read -r name _ <<<"$line"
  s=$(ns "$name")
  ip -n "$s" -j -4 route show proto "$KITE_PROTO" > "$OUT/routes-$name.json"
  ip -n "$s" -j -d addr show dev tunl0 > "$OUT/tunl0-$name.json"
done
[ "$ok" = yes ] || exit 0

# Kite's own account of the kernel routes (`kite show fib`), asked while the pods ping: starting
# three more node processes is slow under emulation, and pings mostly wait.
for line in "${NODES[@]}"; do
  read -r name _ <<<"$line"
  # Under emulation on a busy host the daemon can take longer than the CLI's 5 s default to answer.
  KITE_API_TIMEOUT=60 $KITE show fib --json --socket "/run/kite-$name.sock" > "$OUT/fib-$name.json" 2> "$OUT/fib-$name.err" &
  FIB_PIDS+=($!)
done

# Every pod pings every other pod: same node, same subnet (direct) and across subnets (IPIP).
# A first packet may wait for ARP (proxy ARP on cali*, the router's neighbours): three tries.
phase ping-matrix
: > "$OUT/pings.txt"
for src in "${PODS[@]}"; do
  read -r spod _ _ <<<"$src"
  for dst in "${PODS[@]}"; do
    read -r dpod _ dip _ <<<"$dst"
    [ "$spod" != "$dpod" ] || continue
    res=fail
    for try in 1 2 3; do
      if ip netns exec "$(ns "$spod")" ping -n -q -c 1 -W 2 "$dip" > /dev/null 2>&1; then res="ok $try"; break; fi
    done
    echo "$spod $dpod $dip $res" >> "$OUT/pings.txt"
  done
done

for p in "${FIB_PIDS[@]}"; do wait "$p"; done
FIB_PIDS=()

# Which path did the packets take? Capture on the router's ports to the two peers of node-a's
# pod, and count tunl0 packets on every node around each ping.
phase capture
for c in "${CAPTURES[@]}"; do
  ip netns exec ki-router tcpdump -n -l --immediate-mode -i "r-$c" 'icmp or ip proto 4' > "$OUT/cap-$c.txt" 2> "$OUT/cap-$c.err" &
  CAP_PIDS+=($!)
done
for c in "${CAPTURES[@]}"; do
  for _ in $(seq 1 100); do grep -q 'listening on' "$OUT/cap-$c.err" && break; sleep 0.1; done
done
stats() {
  local line name
  for line in "${NODES[@]}"; do
    read -r name _ <<<"$line"
    ip -n "$(ns "$name")" -j -s link show tunl0 > "$OUT/stats-$name-$1.json"
  done
}
stats 0
for line in "${PROBES[@]}"; do
  read -r step from to count <<<"$line"
  ip netns exec "$(ns "$from")" ping -n -c "$count" -i 0.2 -W 2 "$to" > "$OUT/ping-$step.txt" 2>&1
  echo "exit $?" >> "$OUT/ping-$step.txt"
  stats "$step"
done
sleep 0.5
for p in "${CAP_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
CAP_PIDS=()

phase stop
exit 0
