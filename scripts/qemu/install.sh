#!/usr/bin/env bash
# Installs what the qemu kernel-test harness (test/kernel/qemu.ts) needs: qemu for x86_64, a Debian
# kernel with its modules (ipip, gre, dummy ... that the host kernel may lack) and a static busybox
# for the guest's initramfs. Idempotent and quiet; exits non-zero with a reason when it cannot.
set -euo pipefail

# package -> a file that proves it is installed (dpkg -s is slow-ish and lies about half-configured packages)
need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx insmod || need+=(busybox-static)
ls /boot/vmlinuz-* >/dev/null 2>&1 && ls -d /lib/modules/*/kernel/net/ipv4 >/dev/null 2>&1 || need+=(linux-image-amd64)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "scripts/qemu/install.sh: missing ${need[*]} and not root; run as root or: apt-get install ${need[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "scripts/qemu/install.sh: missing ${need[*]} and apt-get is not available" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/kite-qemu-install.XXXXXX.log)
# The kernel package pulls initramfs-tools; its initrd is never used (the harness builds its own),
# but it is harmless. Recommends are skipped: qemu's recommends pull in a desktop's worth of packages.
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; } >"$log" 2>&1; then
  echo "scripts/qemu/install.sh: apt-get install ${need[*]} failed; last lines of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
rm -f "$log"
command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "scripts/qemu/install.sh: qemu-system-x86_64 still missing" >&2; exit 1; }
ls /boot/vmlinuz-* >/dev/null 2>&1 || { echo "scripts/qemu/install.sh: no /boot/vmlinuz-* after install" >&2; exit 1; }
exit 0
