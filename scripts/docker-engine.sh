#!/bin/sh
# Starts a Docker engine for the container tests when none answers, and stops only one it started.
# Debian's docker.io (scripts/container-deps.sh) runs here as a plain dockerd: no default bridge and
# no iptables rules, so the host's own networking stays as it was (the project's containers use
# their own user-defined network; builds use --network host); the storage driver is dockerd's own
# choice (overlay2 where the kernel allows it, vfs otherwise) unless $KITE_DOCKER_STORAGE names one.
#
#   scripts/docker-engine.sh start   exit 0 once `docker info` answers (prints "started" or "running")
#   scripts/docker-engine.sh stop    stops the engine `start` started, if it did; else does nothing
set -u

PIDFILE=/run/kite-dockerd.pid
LOG=${KITE_DOCKERD_LOG:-/tmp/kite-dockerd.log}

answers() { docker info >/dev/null 2>&1; }

case "${1:-}" in
  start)
    if answers; then echo running; exit 0; fi
    if [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      echo "docker-engine: dockerd $(cat "$PIDFILE") runs but does not answer; see $LOG" >&2; exit 1
    fi
    command -v dockerd >/dev/null || { echo "docker-engine: no dockerd: run scripts/container-deps.sh" >&2; exit 1; }
    [ "$(id -u)" = 0 ] || { echo "docker-engine: no Docker engine answers, and starting one needs root" >&2; exit 1; }
    set -- --bridge=none --iptables=false --ip6tables=false
    [ -n "${KITE_DOCKER_STORAGE:-}" ] && set -- "$@" "--storage-driver=$KITE_DOCKER_STORAGE"
    # setsid: the engine must outlive this script, not the shell that called it.
    setsid dockerd "$@" >"$LOG" 2>&1 </dev/null &
    echo $! > "$PIDFILE"
    i=0
    while ! answers; do
      i=$((i + 1))
      if [ $i -gt 60 ] || ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        echo "docker-engine: dockerd did not start; last lines of $LOG:" >&2
        tail -n 15 "$LOG" >&2
        kill "$(cat "$PIDFILE")" 2>/dev/null
        rm -f "$PIDFILE"
        exit 1
      fi
      sleep 1
    done
    echo "started (storage: $(docker info -f '{{.Driver}}'))"
    ;;
  stop)
    [ -s "$PIDFILE" ] || exit 0
    pid=$(cat "$PIDFILE")
    if kill "$pid" 2>/dev/null; then
      i=0
      while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$PIDFILE"
    echo stopped
    ;;
  *) echo "usage: scripts/docker-engine.sh start|stop" >&2; exit 2 ;;
esac
