#!/bin/sh
# Installs, with apt-get, what `npm run test:containers` and scripts/container-base.sh run: the
# Docker engine (Debian's docker.io), compose (Debian 12 has only docker-compose v1) and debootstrap
# (the base image's stand-in). Kept apart from scripts/install-deps.sh: `npm test` needs none of it.
#
#   scripts/container-deps.sh            install what is missing
#   scripts/container-deps.sh --check    only report (exit 1 and the names when something is missing)
#   scripts/container-deps.sh --list     print the table below (program, path, package, used by)
set -u

# program | path looked for first | Debian package | who runs it
TABLE='
dockerd|/usr/sbin/dockerd|docker.io|scripts/docker-engine.sh: the engine, started when none runs
docker|/usr/bin/docker|docker.io|every container script: build, run, exec, inspect
docker-compose|/usr/bin/docker-compose|docker-compose|scripts/test-containers.sh, the README: the compose cluster (when `docker compose` v2 is absent)
debootstrap|/usr/sbin/debootstrap|debootstrap|scripts/container-base.sh: the base image when no registry answers
git|/usr/bin/git|git|scripts/test-containers.mjs: the checkout'"'"'s files; scripts/container-build.sh: the revision label
flock|/usr/bin/flock|util-linux|these install scripts: one apt-get at a time
'

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
  --check) m=$(missing); [ -z "$m" ] && exit 0; echo "container-deps: missing: $(names "$m")" >&2; exit 1 ;;
  '') ;;
  *) echo "usage: scripts/container-deps.sh [--check|--list]" >&2; exit 2 ;;
esac

m=$(missing)
[ -z "$m" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "container-deps: missing: $(names "$m")and not root; run as root, or: apt-get install $(packages "$m")" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "container-deps: missing: $(names "$m")and no apt-get on this machine" >&2
  exit 1
fi

. "$(dirname "$0")/apt-lock.sh"
m=$(missing)
[ -z "$m" ] && exit 0

# Keep the packages' scripts from starting a system-wide dockerd/containerd: scripts/docker-engine.sh
# starts the engine itself, and stops it again, when a test needs one.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi

pkgs=$(packages "$m")
echo "container-deps: installing $pkgs for: $(names "$m")" >&2
log=$(mktemp /tmp/kite-container-deps.XXXXXX.log)
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # the package list is meant to split
{ apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends $pkgs; } >"$log" 2>&1
rc=$?
[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d

m=$(missing)
if [ $rc -ne 0 ] || [ -n "$m" ]; then
  echo "container-deps: still missing: $(names "$m")(apt-get rc=$rc); last lines of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
rm -f "$log"
exit 0
