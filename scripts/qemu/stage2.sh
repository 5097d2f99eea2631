#!/bin/sh
# Stage 2 of the kite test VM: PID 1 inside the shared host root (see init.sh). Mounts the usual
# pseudo filesystems, mounts the run directory and extra shares, runs the test script with its
# stdout/stderr/exit code written to the run share, then powers the VM off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The host's copy of the static busybox that is in the initramfs: every dynamically linked tool
# costs up to a second at its first exec under TCG while its libraries come over 9p.
bb=/bin/busybox

trace=0
shell=0
for a in $(cat /proc/cmdline); do
  case "$a" in kite.shell=1) shell=1 ;; kite.trace=1) trace=1 ;; esac
done
say() { echo "kite-init: $*" > /dev/console; }
t() { [ "$trace" = 1 ] && say "$(cut -d' ' -f1 /proc/uptime)s $*"; }
off() { sync; echo o > /proc/sysrq-trigger; $bb sleep 5; $bb poweroff -f; }

t "stage 2: mounts"
$bb mkdir -p /dev/pts /dev/shm
$bb mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
$bb mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
$bb mount -t tmpfs -o mode=1777 kite-tmp /tmp
$bb mount -t tmpfs -o mode=1777 kite-vartmp /var/tmp
$bb mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
$bb mount -t bpf bpf /sys/fs/bpf 2>/dev/null
$bb mkdir -p /run/lock /run/netns
$bb hostname kite-vm
$bb ip link set lo up

R=/run/kite-vm
$bb mkdir -p "$R"
if ! $bb mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 kiterun "$R" 2>/dev/null; then
  [ "$shell" = 1 ] || { say "FATAL: no run share (9p tag kiterun)"; off; }
fi

# shares: one line per share: "<tag> <ro|rw> <guest path>" (the guest path may contain spaces).
# cache=none: the host may read what the guest writes (and the other way) while the VM runs.
if [ -f "$R/shares" ]; then
  while read -r tag mode path; do
    [ -n "$tag" ] || continue
    $bb mkdir -p "$path"
    o=trans=virtio,version=9p2000.L,cache=none,msize=262144
    [ "$mode" = ro ] && o="$o,ro"
    $bb mount -t 9p -o "$o" "$tag" "$path" || say "cannot mount share $tag at $path"
  done < "$R/shares"
fi

if [ "$shell" = 1 ]; then
  say "interactive shell; exit it to power off"
  setsid -c /bin/bash -l < /dev/ttyS0 > /dev/ttyS0 2>&1
  off
fi

# The host times the boot by this line (test/kernel/qemu.ts looks for it).
say "script start"
# env.sh exports the caller's variables, loads requested modules and cds to the requested directory.
/bin/bash -c '. /run/kite-vm/env.sh && exec /bin/bash /run/kite-vm/script.sh' \
  < /dev/null > "$R/stdout" 2> "$R/stderr"
echo $? > "$R/code.tmp"
t "script done"
sync
mv "$R/code.tmp" "$R/code"
sync
off
