#!/usr/bin/env bash
# Makes sure a Docker engine answers. On a fresh Debian machine (no registry,
# no systemd) that means: install docker.io, start dockerd without iptables.
# Idempotent: does nothing when `docker info` already works.
set -euo pipefail

log=${M3AGG_DOCKERD_LOG:-/var/log/m3agg-dockerd.log}

say() { printf '[ensure-docker] %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

if docker info >/dev/null 2>&1; then
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ]; then
  fail "DOCKER_HOST=$DOCKER_HOST is set but does not answer 'docker info'; start that engine or unset DOCKER_HOST"
fi

if ! command -v dockerd >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "no Docker engine and not root: install Docker (Debian: apt-get install docker.io) and start it"
  say "installing Debian's docker.io (step: apt-get install docker.io)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || fail "apt-get update"
  apt-get install -y -qq docker.io >/dev/null || fail "apt-get install docker.io"
fi

[ "$(id -u)" = 0 ] || fail "dockerd is installed but not running, and starting it needs root"
say "starting dockerd --iptables=false (log: $log)"
# setsid: the engine must outlive this script and the npm process that ran it.
setsid nohup dockerd --iptables=false >"$log" 2>&1 < /dev/null &

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    say "dockerd is up ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 0.5
done
tail -n 20 "$log" >&2 || true
fail "dockerd did not answer within 30 s (last lines of $log above)"
