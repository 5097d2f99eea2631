#!/usr/bin/env bash
# Builds (once, cached) the kite test VM's initramfs for one installed Debian kernel and prints
# "<vmlinuz path> <initramfs path> <kernel version>". The initramfs holds only busybox, the stage-1
# /init, the stage-2 script and the modules needed to reach the host root over 9p.
# Usage: build-initramfs.sh [KERNEL_VERSION]   (default: newest /boot/vmlinuz-* with modules)
# Env: KITE_QEMU_CACHE (default /tmp/kite-qemu-<version>)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

kver=${1:-}
if [ -z "$kver" ]; then
  for v in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V -r); do
    if [ -f "/lib/modules/$v/modules.dep" ]; then kver=$v; break; fi
  done
fi
if [ -z "$kver" ] || [ ! -f "/boot/vmlinuz-$kver" ] || [ ! -f "/lib/modules/$kver/modules.dep" ]; then
  echo "build-initramfs: no /boot/vmlinuz-* with matching /lib/modules/*/modules.dep (run scripts/qemu/install.sh)" >&2
  exit 1
fi
# busybox-static's binary; a dynamically linked busybox (package busybox) cannot run in the
# initramfs, which has no libc.
busybox=/bin/busybox
if [ ! -x "$busybox" ] || [[ "$(LC_ALL=C ldd "$busybox" 2>&1 || true)" != *"not a dynamic"* ]]; then
  echo "build-initramfs: no static busybox at /bin/busybox (apt-get install busybox-static)" >&2
  exit 1
fi
command -v modprobe >/dev/null || [ -x /sbin/modprobe ] || { echo "build-initramfs: no modprobe (kmod)" >&2; exit 1; }
modprobe=$(command -v modprobe || echo /sbin/modprobe)

# Modules needed before the root is reachable: virtio PCI transport, 9p over virtio, overlayfs,
# and virtio-rng so the guest's CRNG is seeded at once (node reads getrandom at startup).
boot_modules="virtio_pci 9pnet_virtio 9p overlay virtio_rng"
load=$(for m in $boot_modules; do "$modprobe" -S "$kver" --show-depends "$m"; done | awk '$1=="insmod" && !seen[$2]++ {print $2}')

cache=${KITE_QEMU_CACHE:-/tmp/kite-qemu-$kver}
mkdir -p "$cache"
key=$( { cat "$here/init.sh" "$here/stage2.sh" "$here/build-initramfs.sh"; echo "$load"; stat -c '%s %Y' "$busybox"; } | sha256sum | cut -c1-16)
out="$cache/initramfs-$key.cpio"
if [ ! -s "$out" ]; then
  stage=$(mktemp -d "$cache/stage.XXXXXX")
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys"
  cp "$busybox" "$stage/bin/busybox"
  ln -s busybox "$stage/bin/sh"
  cp "$here/init.sh" "$stage/init"
  cp "$here/stage2.sh" "$stage/stage2.sh"
  chmod 755 "$stage/init" "$stage/stage2.sh"
  : > "$stage/modules.load"
  for ko in $load; do
    mkdir -p "$stage$(dirname "$ko")"
    case "$ko" in
      *.ko) cp "$ko" "$stage$ko"; echo "$ko" >> "$stage/modules.load" ;;
      *.ko.xz) xz -dc "$ko" > "$stage${ko%.xz}"; echo "${ko%.xz}" >> "$stage/modules.load" ;;
      *.ko.zst) zstd -qdc "$ko" > "$stage${ko%.zst}"; echo "${ko%.zst}" >> "$stage/modules.load" ;;
      *.ko.gz) gzip -dc "$ko" > "$stage${ko%.gz}"; echo "${ko%.gz}" >> "$stage/modules.load" ;;
      *) echo "build-initramfs: unexpected module file $ko" >&2; exit 1 ;;
    esac
  done
  # No /dev/console here: the kernel's built-in initramfs already has it, and ours is unpacked on top.
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) > "$out.tmp.$$"
  mv -f "$out.tmp.$$" "$out"
fi
echo "/boot/vmlinuz-$kver $out $kver"
