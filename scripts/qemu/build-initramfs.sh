#!/usr/bin/env bash
# Builds (once, cached) the kite test VM's initramfs for one installed Debian kernel and prints
# "<kernel path> <initramfs path> <kernel version>". The initramfs holds only busybox, the stage-1
# /init, the stage-2 script and the modules needed to reach the host root over 9p. The kernel is
# the decompressed vmlinux when it has a PVH entry (see below), else /boot/vmlinuz-<version>.
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

# Debian signs its modules; checking an RSA signature in emulated code costs ~0.1 s per module
# at every boot. An unsigned module loads as well (CONFIG_MODULE_SIG_FORCE is off; it only taints
# the kernel), so the initramfs copies drop the signature: the trailer is
# <signature><struct module_signature, 12 bytes, sig_len big-endian in the last 4>"~Module signature appended~\n".
strip_signature() {
  local f=$1 size magic siglen
  size=$(stat -c %s "$f")
  magic=$(tail -c 28 "$f")
  [ "$magic" = "~Module signature appended~" ] || return 0   # $(...) drops the trailing newline
  siglen=$((16#$(tail -c 32 "$f" | head -c 4 | od -An -tx1 | tr -d ' \n')))
  truncate -s $((size - 28 - 12 - siglen)) "$f"
}

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
    base=${ko%.ko*}.ko   # the name without a compression suffix
    dst="$stage$base"
    case "$ko" in
      *.ko) cp "$ko" "$dst" ;;
      *.ko.xz) xz -dc "$ko" > "$dst" ;;
      *.ko.zst) zstd -qdc "$ko" > "$dst" ;;
      *.ko.gz) gzip -dc "$ko" > "$dst" ;;
      *) echo "build-initramfs: unexpected module file $ko" >&2; exit 1 ;;
    esac
    strip_signature "$dst"
    echo "$base" >> "$stage/modules.load"
  done
  # No /dev/console here: the kernel's built-in initramfs already has it, and ours is unpacked on top.
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) > "$out.tmp.$$"
  mv -f "$out.tmp.$$" "$out"
fi
# The bzImage decompresses itself at boot, which takes ~4 s under TCG. qemu boots an ELF vmlinux
# directly through its PVH entry point (CONFIG_PVH), so decompress once on the host and cache it.
kernel=/boot/vmlinuz-$kver
vmlinux="$cache/vmlinux-$(stat -c '%s-%Y' "$kernel")"
if [ ! -s "$vmlinux" ] && grep -q '^CONFIG_PVH=y' "/boot/config-$kver" 2>/dev/null; then
  tmp="$vmlinux.tmp.$$"
  for fmt in 'xz:\xfd7zXZ\x00:xz -dc --single-stream' 'zstd:\x28\xb5\x2f\xfd:zstd -qdc' 'gzip:\x1f\x8b\x08:gzip -dc'; do
    IFS=: read -r _ magic cmd <<< "$fmt"
    pos=$(LC_ALL=C grep -obUaP "$magic" "$kernel" 2>/dev/null | head -n 1 | cut -d: -f1 || true)
    [ -n "$pos" ] || continue
    tail -c +$((pos + 1)) "$kernel" | $cmd > "$tmp" 2>/dev/null || true
    if [ "$(head -c 4 "$tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then mv -f "$tmp" "$vmlinux"; break; fi
  done
  rm -f "$tmp"
fi
[ -s "$vmlinux" ] && kernel=$vmlinux
echo "$kernel $out $kver"
