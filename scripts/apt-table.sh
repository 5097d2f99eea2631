# Sourced by Kite's table-driven installers (scripts/install-deps.sh, scripts/container-deps.sh)
# after they set TABLE (program|path|Debian package|who runs it, one a line) and WHO (their name):
# --list, --check, or apt-get install what is missing, one apt-get at a time; exits the script.

# Prints "program:package" for each program that is missing.
missing() {
  echo "$TABLE" | while IFS='|' read -r name path pkg _; do
    [ -n "$name" ] || continue
    if [ ! -x "$path" ] && ! command -v "$name" >/dev/null 2>&1; then printf '%s:%s ' "$name" "$pkg"; fi
  done
}
packages() { for m in $1; do echo "${m#*:}"; done | sort -u | tr '\n' ' '; }
names() { for m in $1; do printf '%s (%s) ' "${m%%:*}" "${m#*:}"; done; }

case "${1:-}" in
  --list) echo "$TABLE" | sed '/^$/d'; exit 0 ;;
  --check) m=$(missing); [ -z "$m" ] && exit 0; echo "$WHO: missing: $(names "$m")" >&2; exit 1 ;;
  '') ;;
  *) echo "usage: scripts/$WHO.sh [--check|--list]" >&2; exit 2 ;;
esac

m=$(missing)
[ -z "$m" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "$WHO: missing: $(names "$m")and not root; run as root, or: apt-get install $(packages "$m")" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$WHO: missing: $(names "$m")and no apt-get on this machine" >&2
  exit 1
fi

# One apt-get at a time across every Kite installer (these, scripts/qemu/install.sh), and across
# concurrent test workers: the others wait, then find nothing left to do.
. "$(dirname "$0")/apt-lock.sh"
m=$(missing)
[ -z "$m" ] && exit 0

# Keep package scripts from starting system-wide services: bird/frr would listen on the host's
# port 179, and a dockerd/containerd is started by scripts/docker-engine.sh only when a test needs
# one. A policy-rc.d we create is removed again afterwards.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi

pkgs=$(packages "$m")
echo "$WHO: installing $pkgs for: $(names "$m")" >&2
log=$(mktemp /tmp/kite-$WHO.XXXXXX.log)
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # the package list is meant to split
{ apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends $pkgs; } >"$log" 2>&1
rc=$?
[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d

m=$(missing)
if [ $rc -ne 0 ] || [ -n "$m" ]; then
  echo "$WHO: still missing: $(names "$m")(apt-get rc=$rc); last lines of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
rm -f "$log"
exit 0
