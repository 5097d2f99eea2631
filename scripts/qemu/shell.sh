#!/usr/bin/env bash
# Boots the kite test VM (same kernel, initramfs and root as test/kernel/qemu.ts) with an
# interactive root shell on the serial console, for debugging a guest by hand. `exit` powers off;
# Ctrl-A X kills qemu. Usage:
#   scripts/qemu/shell.sh [-s HOST_DIR:GUEST_DIR[:rw]]... [-m MB] [-c CPUS] [-k KERNEL_VERSION] [-t]
# -t traces init's steps with timestamps. Extra kernel arguments: KITE_QEMU_APPEND.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mem=1024 cpus=2 kver="" trace="" shares=()
while getopts "s:m:c:k:t" o; do
  case "$o" in
    s) shares+=("$OPTARG") ;;
    m) mem=$OPTARG ;;
    c) cpus=$OPTARG ;;
    k) kver=$OPTARG ;;
    t) trace=" kite.trace=1" ;;
    *) sed -n '2,7p' "$0" >&2; exit 2 ;;
  esac
done
read -r kernel initramfs version < <("$here/build-initramfs.sh" $kver)
run=$(mktemp -d /tmp/kite-vm-shell.XXXXXX)
trap 'rm -rf "$run"' EXIT
args=()
i=0
for s in "${shares[@]}"; do
  IFS=: read -r host guest mode <<< "$s"
  ro=",readonly=on"; [ "$mode" = rw ] && ro=""
  args+=(-fsdev "local,id=fs$i,path=${host//,/,,},security_model=none,multidevs=remap$ro" -device "virtio-9p-pci,fsdev=fs$i,mount_tag=kite$i")
  echo "kite$i ${mode:-ro} $guest" >> "$run/shares"
  i=$((i + 1))
done
bios=(); [ -f /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)
echo "booting $version (exit the shell to power off; Ctrl-A X kills qemu)" >&2
qemu-system-x86_64 -accel "${KITE_QEMU_ACCEL:-tcg}" -cpu max -m "$mem" -smp "$cpus" \
  -nographic -nodefaults -no-reboot -serial mon:stdio "${bios[@]}" \
  -kernel "$kernel" -initrd "$initramfs" \
  -append "console=ttyS0 quiet panic=-1 rdinit=/init mitigations=off i8042.noaux i8042.nokbd i8042.nopnp kite.shell=1$trace ${KITE_QEMU_APPEND:-}" \
  -device virtio-rng-pci \
  -fsdev local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap \
  -device virtio-9p-pci,fsdev=fsroot,mount_tag=kiteroot \
  -fsdev "local,id=fsrun,path=$run,security_model=none,multidevs=remap" \
  -device virtio-9p-pci,fsdev=fsrun,mount_tag=kiterun \
  "${args[@]}"
