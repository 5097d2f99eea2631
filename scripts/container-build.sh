#!/bin/sh
# Builds the project's two images from a source tree (default: this checkout): kite:$VERSION
# (containers/Dockerfile) and kite-tor:$VERSION (containers/tor/Dockerfile), after making sure
# their base images exist (scripts/container-base.sh). Prints each build's time and the image sizes.
#
#   scripts/container-build.sh [SOURCE_DIR]      ($KITE_REVISION labels the image; default: git's HEAD)
#
# npm inside the build trusts one extra CA bundle when this machine's npm has one (a TLS-inspecting
# proxy): $KITE_BUILD_CA, else npm's cafile, else $NODE_EXTRA_CA_CERTS, copied to
# containers/ca/extra.crt for the build and removed afterwards (the runtime image never has it).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
src=$(cd "${1:-$here}" && pwd)
version=$(node -p "require('$src/package.json').version")
revision=${KITE_REVISION:-$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)}
say() { echo "container-build: $*" >&2; }

sh "$here/scripts/container-base.sh"

ca=${KITE_BUILD_CA:-}
if [ -z "$ca" ]; then
  ca=$(npm config get cafile 2>/dev/null || true)
  case "$ca" in null | undefined) ca="" ;; esac
fi
[ -z "$ca" ] && ca=${NODE_EXTRA_CA_CERTS:-}
extra="$src/containers/ca/extra.crt"
made_ca=""
if [ -n "$ca" ] && [ -f "$ca" ] && [ ! -e "$extra" ]; then
  cp "$ca" "$extra"; made_ca=1
  say "npm in the build trusts $ca as well"
fi
trap '[ -n "$made_ca" ] && rm -f "$extra"' EXIT INT TERM

# Builds one image; the image it replaces, if any, is removed once nothing uses it.
build() { # tag dockerfile
  old=$(docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true)
  t0=$(date +%s)
  # --network host: the engine may run without a default bridge (scripts/docker-engine.sh).
  # --force-rm: no intermediate container stays behind, even when a step fails.
  docker build --network host --force-rm -q -f "$src/$2" \
    --build-arg "KITE_VERSION=$version" --build-arg "KITE_REVISION=$revision" -t "$1" "$src" >/dev/null
  new=$(docker image inspect -f '{{.Id}}' "$1")
  [ -n "$old" ] && [ "$old" != "$new" ] && docker rmi "$old" >/dev/null 2>&1 || true
  say "$1 built in $(( $(date +%s) - t0 )) s: $(docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1 / 1e6}')"
}
build "kite:$version" containers/Dockerfile
build "kite-tor:$version" containers/tor/Dockerfile
