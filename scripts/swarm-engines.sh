#!/usr/bin/env bash
# Two Docker engines forming a Swarm, on one machine, for the multi-engine test layer.
#
#   scripts/swarm-engines.sh up ID [IMAGE…]   two network namespaces joined by a veth (addresses only
#                                              inside them), a dockerd in each (started with
#                                              nsenter --net: `ip netns exec` remounts /sys and dockerd
#                                              fails), a Swarm over the veth, the nodes labelled with the
#                                              isolation groups group-1 / group-2, the images copied
#                                              (docker save | docker load: no registry), and a relay in
#                                              each namespace (scripts/netns-relay.mjs) so the test
#                                              process reaches published ports through unix sockets
#                                              and the containers reach the test's sink the same way.
#                                              Prints one JSON line describing the engines.
#   scripts/swarm-engines.sh down ID           removes all of it (also what a failed `up` left)
#   scripts/swarm-engines.sh sweep             `down` for every ID whose owner process (OWNER_PID given
#                                              to `up`, default its parent) is gone
#
# `up` runs `down` on every failure path. ID: 1–8 lowercase letters or digits.
# Needs root (network namespaces), dockerd, containerd, docker, ip, nsenter, node.
# Network rule: no address outside the two namespaces is ever used; the test process talks to
# 127.0.0.1 only, and to the engines through unix sockets.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}
id=${2:-}
if [ "$cmd" = sweep ]; then
  for dir in /run/m3agg-swarm/*/; do
    [ -d "$dir" ] || continue
    owner=$(cat "$dir/owner" 2>/dev/null || echo 0)
    if [ "$owner" = 0 ] || ! kill -0 "$owner" 2>/dev/null; then bash "$0" down "$(basename "$dir")"; fi
  done
  exit 0
fi
[[ "$cmd" == up || "$cmd" == down ]] && [[ "$id" =~ ^[a-z0-9]{1,8}$ ]] || {
  echo "usage: $0 up|down ID [IMAGE…] | sweep   (ID: 1-8 lowercase letters or digits)" >&2; exit 2; }
shift 2

root="/run/m3agg-swarm/$id"          # sockets, pids, exec roots
data="/var/lib/m3agg-swarm/$id"      # data roots
subnet="10.213.0"                     # exists only inside the two namespaces
ns=("m3s-$id-a" "m3s-$id-b")
veth=("m3s${id}a" "m3s${id}b")
addr=("$subnet.1" "$subnet.2")
log() { printf '[swarm-engines %s] %s\n' "$id" "$*" >&2; }
dk() { docker -H "unix://$root/$1.sock" "${@:2}"; }

down() {
  set +e
  for i in 1 0; do
    [ -S "$root/$i.sock" ] && timeout 20 docker -H "unix://$root/$i.sock" swarm leave --force >/dev/null 2>&1
  done
  for pidfile in "$root"/relay-*.pid "$root"/dockerd-*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null
    fi
    rm -f "$pidfile"
  done
  # containerd-shims of the engines' containers die with their containerd; mounts left under the roots go.
  for dir in "$root" "$data"; do
    grep -o " $dir[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  done
  for n in "${ns[@]}"; do ip netns del "$n" 2>/dev/null; done
  rm -rf "$root" "$data"
  set -e
}

if [ "$cmd" = down ]; then down; log "removed"; exit 0; fi

trap 'rc=$?; log "failed (exit $rc): removing everything"; down; exit $rc' ERR
down  # leftovers of an earlier run with the same id
mkdir -p "$root" "$data"
echo "${OWNER_PID:-$PPID}" >"$root/owner"

log "network namespaces ${ns[*]} joined by a veth ($subnet.0/24, inside them only)"
for i in 0 1; do ip netns add "${ns[$i]}"; done
ip link add "${veth[0]}" type veth peer name "${veth[1]}"
for i in 0 1; do
  ip link set "${veth[$i]}" netns "${ns[$i]}"
  ip -n "${ns[$i]}" addr add "${addr[$i]}/24" dev "${veth[$i]}"
  ip -n "${ns[$i]}" link set lo up
  ip -n "${ns[$i]}" link set "${veth[$i]}" up
done

for i in 0 1; do
  log "dockerd $i in ${ns[$i]} (${addr[$i]}), socket $root/$i.sock"
  mkdir -p "$data/$i" "$root/exec-$i"
  # --host-gateway-ip: host.docker.internal in the containers is this engine's own address,
  # where its relay forwards to the test process (the sink).
  nsenter --net="/run/netns/${ns[$i]}" dockerd \
    --data-root "$data/$i" --exec-root "$root/exec-$i" --pidfile "$root/dockerd-$i.pid" \
    -H "unix://$root/$i.sock" --iptables=false --ip6tables=false --bridge=none \
    --host-gateway-ip "${addr[$i]}" --log-level warn \
    >"$root/dockerd-$i.log" 2>&1 &
done
for i in 0 1; do
  for _ in $(seq 1 300); do dk "$i" version >/dev/null 2>&1 && break; sleep 0.2; done
  dk "$i" version >/dev/null 2>&1 || { tail -20 "$root/dockerd-$i.log" >&2; false; }
done

log "swarm: manager on engine 0, engine 1 joins"
dk 0 swarm init --advertise-addr "${addr[0]}" --listen-addr "${addr[0]}:2377" >/dev/null
token=$(dk 0 swarm join-token -q worker)
dk 1 swarm join --token "$token" --advertise-addr "${addr[1]}" --listen-addr "${addr[1]}:2377" "${addr[0]}:2377" >/dev/null
for i in 0 1; do
  node=$(dk "$i" info -f '{{.Swarm.NodeID}}')
  dk 0 node update --label-add "m3agg-isolation-group=group-$((i + 1))" "$node" >/dev/null
done

if [ $# -gt 0 ]; then
  log "copying ${#} images to both engines (docker save | docker load; no registry)"
  docker save "$@" >"$data/images.tar"
  for i in 0 1; do dk "$i" load -q -i "$data/images.tar" >/dev/null; done
  rm -f "$data/images.tar"
fi

for i in 0 1; do
  nsenter --net="/run/netns/${ns[$i]}" node "$here/netns-relay.mjs" "$root/relay-$i.sock" "$root/sink.sock" "${addr[$i]}" \
    >"$root/relay-$i.log" 2>&1 &
  echo $! >"$root/relay-$i.pid"
done
for i in 0 1; do
  for _ in $(seq 1 100); do [ -S "$root/relay-$i.sock" ] && break; sleep 0.1; done
  [ -S "$root/relay-$i.sock" ] || { cat "$root/relay-$i.log" >&2; false; }
done

trap - ERR
log "ready"
printf '{"id":"%s","engines":[{"host":"unix://%s/0.sock","address":"%s","relay":"%s/relay-0.sock"},{"host":"unix://%s/1.sock","address":"%s","relay":"%s/relay-1.sock"}],"sinkSocket":"%s/sink.sock"}\n' \
  "$id" "$root" "${addr[0]}" "$root" "$root" "${addr[1]}" "$root" "$root"
