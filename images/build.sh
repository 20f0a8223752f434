#!/usr/bin/env bash
# Builds the fixture's three images offline (no registry): static binaries from
# the Go module proxy, each in a FROM scratch image with a stable tag.
# Skips an image whose tag already carries the hash of its inputs.
#   FORCE_BUILD=true          rebuild all three
#   BUILD_M3AGGREGATOR=true   rebuild m3aggregator only (likewise BUILD_M3COORDINATOR, BUILD_ETCD)
#   --with-debug, or M3_AGGREGATOR_DEBUG_MODE=true: also the debug image (m3aggregator -N -l + delve)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out="$here/.build"
started=$(date +%s)

step() { printf '[images %4ss] %s\n' "$(( $(date +%s) - started ))" "$*" >&2; }
fail() { printf '[images] FAILED at step "%s": %s\n' "$current_step" "$*" >&2; exit 1; }
current_step=setup
trap 'fail "command exited with status $? (see output above)"' ERR

json() { node -p "require('$here/images.json').$1"; }
truthy() { case "${1:-}" in 1|true|TRUE|yes) return 0;; *) return 1;; esac; }

current_step="docker engine"
step "checking the Docker engine"
bash "$root/scripts/ensure-docker.sh"
command -v go >/dev/null || fail "Go is not installed (needed to build m3 and etcd from the module proxy)"

m3_version=$(json m3Version)
# -checklinkname=0: m3 v1.5.0 pins a 2022 golang.org/x/net whose go:linkname use
# Go >= 1.23 refuses at link time. -s -w: smaller images, faster copies.
ldflags="-s -w -checklinkname=0 -X github.com/m3db/m3/src/x/instrument.Version=$m3_version"
export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"

# Hash of everything that determines an image, stored as a label on it.
with_debug=false
for arg in "$@"; do
  case "$arg" in
    --with-debug) with_debug=true ;;
    *) current_step="arguments"; fail "unknown argument $arg (known: --with-debug)" ;;
  esac
done
truthy "${M3_AGGREGATOR_DEBUG_MODE:-}" && with_debug=true

inputs_hash() { # dockerfile, module dirs...
  local dockerfile=$1; shift
  { for mod in "$@"; do cat "$mod/go.mod" "$mod/go.sum"; done; cat "$dockerfile" "$here/build.sh" "$here/go/probe/main.go"; } \
    | sha256sum | cut -c1-16
}

# Builds the probe every image context gets.
build_probe() { # context dir
  (cd "$here/go/probe" && go build -trimpath -ldflags "-s -w" -o "$1/m3agg-probe" .)
}

# True (and says so) when the image's inputs label matches and no rebuild is forced.
up_to_date() { # tag, inputs hash, force flag
  local have
  have=$(docker image inspect -f '{{index .Config.Labels "org.m3agg.inputs"}}' "$1" 2>/dev/null || true)
  if [ "$2" = "$have" ] && ! truthy "$3" && ! truthy "${FORCE_BUILD:-}"; then
    step "$1 is up to date (inputs $2), skipping"
    return 0
  fi
  return 1
}

build_image() { # name, module dir, go package, force flag
  local name=$1 mod=$2 pkg=$3 force=$4
  local tag dockerfile want ctx
  tag=$(json "local['$name']")
  dockerfile="$here/$name.Dockerfile"
  want=$(inputs_hash "$dockerfile" "$mod")
  up_to_date "$tag" "$want" "$force" && return
  ctx="$out/$name"
  mkdir -p "$ctx"
  current_step="go mod download ($name)"
  step "$name: downloading Go modules (cold cache: a few minutes)"
  (cd "$mod" && go mod download)
  current_step="go build ($name)"
  step "$name: go build $pkg"
  (cd "$mod" && go build -trimpath -ldflags "$ldflags" -o "$ctx/$name" "$pkg")
  build_probe "$ctx"
  docker_build "$name" "$tag" "$dockerfile" "$ctx" "$want"
}

docker_build() { # name, tag, dockerfile, context, inputs hash
  local name=$1 tag=$2 dockerfile=$3 ctx=$4 want=$5
  current_step="docker build ($name)"
  step "$name: docker build -t $tag"
  # Legacy builder (the CLI here has no buildx); its deprecation notice goes to the log.
  if ! DOCKER_BUILDKIT=0 docker build -q --label "org.m3agg.inputs=$want" -t "$tag" -f "$dockerfile" "$ctx" \
      >/dev/null 2>"$ctx/docker-build.log"; then
    cat "$ctx/docker-build.log" >&2
    fail "docker build of $tag failed"
  fi
  step "$name: built $tag ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

build_image m3aggregator "$here/go/m3" github.com/m3db/m3/src/cmd/services/m3aggregator/main "${BUILD_M3AGGREGATOR:-}"
build_image m3coordinator "$here/go/m3" github.com/m3db/m3/src/cmd/services/m3coordinator/main "${BUILD_M3COORDINATOR:-}"
build_image etcd "$here/go/etcd" . "${BUILD_ETCD:-}"

# Debug image: m3aggregator without optimisations and inlining (-N -l) plus delve.
build_debug_image() {
  local name=m3aggregator-debug tag dockerfile want ctx
  tag=$(json "local['m3aggregatorDebug']")
  dockerfile="$here/$name.Dockerfile"
  want=$(inputs_hash "$dockerfile" "$here/go/m3" "$here/go/delve")
  up_to_date "$tag" "$want" "${BUILD_M3AGGREGATOR:-}" && return
  ctx="$out/$name"
  mkdir -p "$ctx"
  current_step="go build ($name)"
  step "$name: go build -gcflags='all=-N -l' m3aggregator (cold cache: a few minutes)"
  (cd "$here/go/m3" && go mod download && go build -trimpath -gcflags='all=-N -l' \
    -ldflags "-checklinkname=0 -X github.com/m3db/m3/src/x/instrument.Version=$m3_version" \
    -o "$ctx/m3aggregator-debug" github.com/m3db/m3/src/cmd/services/m3aggregator/main)
  current_step="go build (dlv)"
  step "$name: go build delve"
  (cd "$here/go/delve" && go mod download && go build -trimpath -o "$ctx/dlv" github.com/go-delve/delve/cmd/dlv)
  build_probe "$ctx"
  docker_build "$name" "$tag" "$dockerfile" "$ctx" "$want"
}
if [ "$with_debug" = true ]; then build_debug_image; fi
current_step=done
step "images ready"
