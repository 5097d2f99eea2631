#!/usr/bin/env bash
# Installs what the qemu kernel-test harness (test/kernel/qemu.ts) needs: the host programs the guest
# runs (scripts/install-deps.sh), qemu for x86_64, a Debian kernel with its modules (ipip, gre,
# dummy ... that the host kernel may lack) and a static busybox for the guest's initramfs.
# Idempotent and quiet; exits non-zero with a reason when it cannot.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# The guest runs the host's own programs through the shared root (ip, ping, sysctl, tcpdump,
# node): those come from the host installer first.
"$here/../install-deps.sh"

# Each check looks for what the harness uses, not for the package name: a kernel counts only when
# its modules are installed beside it (the guest loads them from the shared /lib/modules).
have_kernel() {
  local k
  for k in /boot/vmlinuz-*; do
    [ -f "/lib/modules/${k#/boot/vmlinuz-}/modules.dep" ] && return 0
  done
  return 1
}
need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
# busybox-static, not busybox: the initramfs has no libc.
[ -x /bin/busybox ] && [[ "$(LC_ALL=C ldd /bin/busybox 2>&1 || true)" == *"not a dynamic"* ]] || need+=(busybox-static)
have_kernel || need+=(linux-image-amd64)
command -v modprobe >/dev/null 2>&1 || [ -x /sbin/modprobe ] || need+=(kmod)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
command -v ip >/dev/null 2>&1 || [ -x /sbin/ip ] || need+=(iproute2)

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

# Several test workers may call this at once: one installs, the others wait, then find apt-get has nothing left to do.
. "$here/../apt-lock.sh"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/kite-qemu-install.XXXXXX.log)
# The kernel package pulls initramfs-tools; its initrd is never used (the harness builds its own),
# but it is harmless. Recommends are skipped: qemu's recommends pull in a desktop's worth of packages.
if ! { apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${need[@]}"; } >"$log" 2>&1; then
  echo "scripts/qemu/install.sh: apt-get install ${need[*]} failed; last lines of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
rm -f "$log"
command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "scripts/qemu/install.sh: qemu-system-x86_64 still missing" >&2; exit 1; }
have_kernel || { echo "scripts/qemu/install.sh: no /boot/vmlinuz-* with /lib/modules after install" >&2; exit 1; }
exit 0
