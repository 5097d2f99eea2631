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

WHO=container-deps
. "$(dirname "$0")/apt-table.sh"
