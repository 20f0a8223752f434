#!/usr/bin/env bash
# Builds the OCI registry of the push tests from the Go module proxy: the CNCF Distribution
# registry (`go install github.com/distribution/distribution/v3/cmd/registry@v3.1.2`, checked
# against the checksum database like every module). A binary, not an image: it runs as a process
# on 127.0.0.1 (Docker treats registries on 127.0.0.0/8 as insecure, so push and pull need no TLS).
# Cached like the images, keyed by the hash of the inputs: a second run with the same inputs
# builds nothing.
#
#   images/build-registry.sh        build (or find) it; prints the binary's path on stdout
# Env: M3AGG_REGISTRY_DIR = cache (default ~/.cache/m3agg/registry); FORCE_BUILD=true rebuilds;
#      M3AGG_GO_PARALLEL = go build -p (default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=v3.1.2
cache="${M3AGG_REGISTRY_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/m3agg/registry}"
started=$(date +%s)
step() { printf '[registry %4ss] %s\n' "$(( $(date +%s) - started ))" "$*" >&2; }

# A Go new enough for the module: the one on PATH, else the toolchain fetched from the Go module proxy (as images/build.sh).
gobin=$(bash "$here/../scripts/ensure-go.sh") || { echo "[registry] no Go toolchain to build the registry with (see above)" >&2; exit 1; }
export PATH="$gobin:$PATH"
hash=$({ cat "$0"; echo "distribution $version"; go env GOVERSION GOOS GOARCH; } | sha256sum | cut -c1-16)
bin="$cache/$hash/bin"
if [ -x "$bin/registry" ] && [ "${FORCE_BUILD:-}" != true ]; then
  step "up to date (inputs $hash)"
  echo "$bin/registry"
  exit 0
fi
tmp="$cache/$hash/tmp-$$"
rm -rf "$tmp"; mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
export CGO_ENABLED=0 GOFLAGS="-buildvcs=false"
step "go install github.com/distribution/distribution/v3/cmd/registry@$version (cold: a few minutes)"
GOBIN="$tmp" go install -p "${M3AGG_GO_PARALLEL:-2}" -trimpath -ldflags "-s -w" "github.com/distribution/distribution/v3/cmd/registry@$version"
mkdir -p "$bin"
mv "$tmp/registry" "$bin/registry"
step "built in $(( $(date +%s) - started )) s"
echo "$bin/registry"
