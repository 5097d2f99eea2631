#!/bin/busybox sh
# Stage 1 of the kite test VM: /init of the busybox initramfs built by build-initramfs.sh.
# Loads the virtio/9p/overlay modules, mounts the host's root (9p, read-only) under a tmpfs-backed
# overlay so the guest can write anywhere without touching the host, and switch_roots into it.
# After switch_root the host's own /sbin/modprobe serves module autoloading (request_module),
# so `ip link add type ipip` finds ipip.ko in the shared /lib/modules/$(uname -r).

/bin/busybox --install -s /bin
export PATH=/bin

mkdir -p /proc /sys /dev /lower /rw /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

trace=0
grep -q 'kite.trace=1' /proc/cmdline && trace=1
say() { echo "kite-init: $*" > /dev/console; }
t() { [ "$trace" = 1 ] && say "$(cut -d' ' -f1 /proc/uptime)s $*"; }
die() {
  say "FATAL: $*"
  echo o > /proc/sysrq-trigger   # immediate power-off; qemu exits and the host reports the console
  sleep 5; poweroff -f
}

t "stage 1: loading modules"
# Modules in dependency order (modprobe --show-depends on the host, see build-initramfs.sh).
while read -r ko; do
  [ -n "$ko" ] || continue
  insmod "$ko" || grep -q "^$(basename "$ko" .ko | tr - _) " /proc/modules || say "insmod $ko failed"
done < /modules.load

t "mounting the host root"
# cache=loose: the host root is read-only for the guest's lifetime, so caching dentries and
# pages is safe and makes exec of node & co. several times faster under TCG.
# msize: 9p's per-message payload; larger means fewer round trips for big files.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 kiteroot /lower \
  || die "cannot mount the host root (9p tag kiteroot)"

mount -t tmpfs -o mode=0755 kite-rw /rw
mkdir -p /rw/upper /rw/work
# A remote (9p) lower layer is allowed by overlayfs; index/xino are off because 9p cannot give
# the stable file handles those features want.
if ! mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work,index=off,xino=off kite-root /newroot; then
  say "overlay over 9p failed; root stays read-only (only /run, /tmp, /var/tmp writable)"
  mount --bind /lower /newroot
fi

mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
# A fresh /run: the host's /run (netns bind files, pid files) must not leak into the guest.
mount -t tmpfs -o mode=0755,nosuid,nodev kite-run /newroot/run
cp /stage2.sh /newroot/run/kite-stage2.sh
t "switch_root"
exec switch_root /newroot /bin/sh /run/kite-stage2.sh
