#!/usr/bin/env bash
# Builds the control plane of the API test layer from the Go module proxy: kube-apiserver,
# kube-controller-manager and kube-scheduler (wrapper module images/go/kube-v1.37.2) and kwok
# (simulated nodes and pods, `go install sigs.k8s.io/kwok/cmd/kwok@v0.8.0`). Binaries, not
# images: they run as processes on 127.0.0.1. Cached like the images, keyed by the hash of the
# inputs: a second run with the same inputs does nothing.
#
#   images/build-kube.sh            build (or find) them; prints the bin directory on stdout
# Env: M3AGG_KUBE_DIR = cache (default ~/.cache/m3agg/kube); FORCE_BUILD=true rebuilds;
#      M3AGG_GO_PARALLEL = go build -p (default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mod="$here/go/kube-v1.37.2"
kwok_version=v0.8.0
cache="${M3AGG_KUBE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/m3agg/kube}"
started=$(date +%s)
step() { printf '[kube %4ss] %s\n' "$(( $(date +%s) - started ))" "$*" >&2; }

# A Go new enough for the module: the one on PATH, else the toolchain fetched from the Go module proxy (as images/build.sh).
gobin=$(bash "$here/../scripts/ensure-go.sh") || { echo "[kube] no Go toolchain to build the control plane with (see above)" >&2; exit 1; }
export PATH="$gobin:$PATH"
hash=$({ cat "$mod/go.mod" "$mod/go.sum" "$mod/tools.go" "$0"; echo "kwok $kwok_version"; go env GOVERSION; } | sha256sum | cut -c1-16)
bin="$cache/$hash/bin"
if [ -x "$bin/kwok" ] && [ -x "$bin/kube-apiserver" ] && [ "${FORCE_BUILD:-}" != true ]; then
  step "up to date (inputs $hash)"
  echo "$bin"
  exit 0
fi
tmp="$cache/$hash/tmp-$$"
rm -rf "$tmp"; mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
export CGO_ENABLED=0 GOFLAGS="-buildvcs=false"
for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
  step "go build $cmd (cold: many minutes; the three share most packages)"
  (cd "$mod" && go build -p "${M3AGG_GO_PARALLEL:-2}" -mod=readonly -trimpath -ldflags "-s -w" -o "$tmp/$cmd" "k8s.io/kubernetes/cmd/$cmd")
done
step "go install kwok $kwok_version"
GOBIN="$tmp" go install -p "${M3AGG_GO_PARALLEL:-2}" -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok_version"
mkdir -p "$bin"
mv "$tmp"/kube-apiserver "$tmp"/kube-controller-manager "$tmp"/kube-scheduler "$tmp"/kwok "$bin/"
step "built in $(( $(date +%s) - started )) s"
echo "$bin"
