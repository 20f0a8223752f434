#!/usr/bin/env bash
# Builds the fixture's images offline (no registry): static binaries from the
# Go module proxy (or from a local m3 checkout), each in a FROM scratch image
# with a stable tag. Skips an image whose tag already carries the hash of its inputs.
#
#   images/build.sh                         m3 images of the default version (images.json) + its etcd
#   images/build.sh --m3-version v1.5.0     that version (repeatable); --all-versions: every supported one
#   images/build.sh --with-debug            also the debug image (m3aggregator -N -l + delve)
#   images/build.sh --list-inputs [...]     builds nothing: prints "<m3 version> <tag> <inputs hash>" per image
#                                           the other flags select (doctor and the image cache read this)
#   images/build.sh --toxiproxy-only        only the Toxiproxy image (every other run builds it too)
#   images/build.sh --m3-source DIR --source-tag TAG [--with-debug]
#                                           m3aggregator + m3coordinator built from a local m3 checkout,
#                                           tagged m3agg-src/<name>:TAG (the caller derives TAG from the
#                                           tree's content); the debug build keeps full source paths
# Every run also builds the Toxiproxy image (faults: true clusters; small, ~10 s cold).
# Env: FORCE_BUILD=true rebuilds all; BUILD_M3AGGREGATOR / BUILD_M3COORDINATOR / BUILD_ETCD / BUILD_TOXIPROXY / BUILD_LOADGEN one of them
# (the seed's variables); M3_AGGREGATOR_DEBUG_MODE=true = --with-debug; M3AGG_M3_VERSION = default version;
# M3AGG_BUILD_DIR = build contexts (default ~/.cache/m3agg/build, never inside the package).
# Platform: binaries are built for the Docker engine's own OS/architecture (`docker info`), not this
# machine's (a macOS host or an arm64 engine); M3AGG_PLATFORM=linux/arm64 forces one. A platform other than
# the engine's gets tags suffixed -<os>-<arch> (so the engine's own images stay), and contexts of their own.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out="${M3AGG_BUILD_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/m3agg/build}"
started=$(date +%s)

step() { printf '[images %4ss] %s\n' "$(( $(date +%s) - started ))" "$*" >&2; }
fail() { printf '[images] FAILED at step "%s": %s\n' "$current_step" "$*" >&2; exit 1; }
current_step=setup
trap 'fail "command exited with status $? (see output above)"' ERR

json() { node -p "const j = require('$here/images.json'); $1"; }
truthy() { case "${1:-}" in 1|true|TRUE|yes) return 0;; *) return 1;; esac; }

versions=()
with_debug=false
list_only=false
toxiproxy_only=false
source_dir=""
source_tag=""
while [ $# -gt 0 ]; do
  case "$1" in
    --with-debug) with_debug=true ;;
    --toxiproxy-only) toxiproxy_only=true ;;
    --m3-version) [ $# -ge 2 ] || { current_step=arguments; fail "--m3-version needs a value"; }; versions+=("$2"); shift ;;
    --list-inputs) list_only=true ;;
    --all-versions) mapfile -t all < <(json "Object.keys(j.m3Versions).join('\n')"); versions+=("${all[@]}") ;;
    --m3-source) [ $# -ge 2 ] || { current_step=arguments; fail "--m3-source needs a directory"; }; source_dir=$2; shift ;;
    --source-tag) [ $# -ge 2 ] || { current_step=arguments; fail "--source-tag needs a value"; }; source_tag=$2; shift ;;
    *) current_step=arguments; fail "unknown argument $1 (known: --m3-version V, --all-versions, --with-debug, --toxiproxy-only, --list-inputs, --m3-source DIR --source-tag TAG)" ;;
  esac
  shift
done
truthy "${M3_AGGREGATOR_DEBUG_MODE:-}" && with_debug=true
if [ ${#versions[@]} -eq 0 ] && [ -z "$source_dir" ] && [ "$toxiproxy_only" = false ]; then versions=("${M3AGG_M3_VERSION:-$(json j.defaultM3Version)}"); fi
for v in "${versions[@]}"; do
  [ "$(json "String(Boolean(j.m3Versions['$v']))")" = true ] || { current_step=arguments; fail "m3 version $v is not supported (supported: $(json "Object.keys(j.m3Versions).join(', ')"))"; }
done

if [ "$list_only" = true ]; then
  [ -z "$source_dir" ] || { current_step=arguments; fail "--list-inputs lists release images only"; }
else
current_step="docker engine"
step "checking the Docker engine"
bash "$root/scripts/ensure-docker.sh"
fi
if [ "$list_only" != true ]; then
  # A Go new enough for the modules: the one on PATH, else the toolchain fetched (and verified against
  # the checksum database) from the Go module proxy into a cache, once (scripts/ensure-go.sh).
  current_step="go toolchain"
  gobin=$(bash "$root/scripts/ensure-go.sh") || fail "no Go toolchain to build with (see above)"
  export PATH="$gobin:$PATH"
fi
export CGO_ENABLED=0 GOFLAGS="-buildvcs=false"

# The platform the binaries are for: the engine's (docker info), else (--list-inputs without an engine)
# this machine's. Part of every image's input hash.
go_arch() { case "$1" in x86_64|amd64) echo amd64 ;; aarch64|arm64) echo arm64 ;; armv7l|arm) echo arm ;; *) echo "$1" ;; esac; }
engine_platform=$(docker info --format '{{.OSType}}/{{.Architecture}}' 2>/dev/null || true)
if [ -n "$engine_platform" ]; then engine_platform="${engine_platform%%/*}/$(go_arch "${engine_platform#*/}")"
else engine_platform="linux/$(go_arch "$(uname -m)")"; fi
platform="${M3AGG_PLATFORM:-$engine_platform}"
[[ "$platform" =~ ^linux/(amd64|arm64|arm|386|ppc64le|s390x|riscv64)$ ]] \
  || { current_step=platform; fail "platform $platform is not one the images can be built for (linux/<amd64|arm64|…>: the images are Linux containers; M3AGG_PLATFORM or the engine's docker info)"; }
export GOOS="${platform%/*}" GOARCH="${platform#*/}"
tag_suffix=""
if [ "$platform" != "$engine_platform" ]; then tag_suffix="-$GOOS-$GOARCH"; out="$out/cross$tag_suffix"; fi
[ "$list_only" = true ] || step "platform $platform$([ -n "$tag_suffix" ] && echo " (not the engine's $engine_platform: tags end in $tag_suffix)")"
mkdir -p "$out"

# Runs a Go build step; on failure shows the tail of the compiler output and names the step.
go_step() { # step name, dir, go args...
  local name=$1 dir=$2; shift 2
  current_step=$name
  local log="$out/go-step.log"
  if ! (cd "$dir" && go "$@") >"$log" 2>&1; then
    printf -- '--- last 40 lines of %s ---\n' "go $*" >&2
    tail -n 40 "$log" >&2
    fail "go $1 failed in $dir"
  fi
}

# Hash of everything that determines an image, stored as a label on it.
inputs_hash() { # dockerfile, extra text, module dirs...
  local dockerfile=$1 extra=$2; shift 2
  { for mod in "$@"; do cat "$mod/go.mod" "$mod/go.sum"; done; printf '%s %s' "$extra" "$platform"; cat "$dockerfile" "$here/build.sh" "$here/go/probe/main.go"; } \
    | sha256sum | cut -c1-16
}

# True (and says so) when the image's inputs label matches and no rebuild is forced.
# With --list-inputs: prints the tag and hash instead and is always true (nothing is built).
up_to_date() { # tag, inputs hash, force flag
  if [ "$list_only" = true ]; then printf '%s %s %s\n' "$list_version" "$1" "$2"; return 0; fi
  local have
  have=$(docker image inspect -f '{{index .Config.Labels "org.m3agg.inputs"}}' "$1" 2>/dev/null || true)
  if [ "$2" = "$have" ] && ! truthy "$3" && ! truthy "${FORCE_BUILD:-}"; then
    step "$1 is up to date (inputs $2), skipping"
    return 0
  fi
  return 1
}

# The probe every image context gets (container-to-node checks: no shell in a scratch image).
build_probe() { # context dir
  go_step "go build (m3agg-probe)" "$here/go/probe" build -trimpath -ldflags "-s -w" -o "$1/m3agg-probe" .
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

m3_main() { echo "github.com/m3db/m3/src/cmd/services/$1/main"; }

# Release images of one m3 version, from images/go/m3-<version>.
build_version() { # m3 version
  list_version=$1
  local v=$1 mod="$here/go/m3-$1" extra etcd_version ldflags
  extra=$(json "j.m3Versions['$v'].ldflags || ''")
  etcd_version=$(json "j.m3Versions['$v'].etcd")
  # -s -w: smaller images, faster copies. Version: what build-information and the logs report.
  ldflags="-s -w $extra -X github.com/m3db/m3/src/x/instrument.Version=$v"
  for name in m3aggregator m3coordinator; do
    local tag="m3agg-local/$name:$v$tag_suffix" dockerfile="$here/$name.Dockerfile" force want ctx
    force=$([ "$name" = m3aggregator ] && echo "${BUILD_M3AGGREGATOR:-}" || echo "${BUILD_M3COORDINATOR:-}")
    want=$(inputs_hash "$dockerfile" "$ldflags" "$mod")
    up_to_date "$tag" "$want" "$force" && continue
    ctx="$out/$name-$v"; mkdir -p "$ctx"
    step "$name $v: downloading Go modules (cold cache: a few minutes)"
    go_step "go mod download ($name $v)" "$mod" mod download
    step "$name $v: go build"
    go_step "go build ($name $v)" "$mod" build -mod=readonly -trimpath -ldflags "$ldflags" -o "$ctx/$name" "$(m3_main "$name")"
    build_probe "$ctx"
    docker_build "$name" "$tag" "$dockerfile" "$ctx" "$want"
  done
  build_etcd "$etcd_version"
  build_loadgen "$v"
  if [ "$with_debug" = true ]; then
    build_debug "m3agg-local/m3aggregator-debug:$v$tag_suffix" "$mod" "-trimpath" "$extra -X github.com/m3db/m3/src/x/instrument.Version=$v" "$v"
  fi
}

# One binary of a module of images/go into its image: go mod download, a static stripped build, docker build.
build_module_image() { # name, version, module dir, package, binary, tag, dockerfile, inputs hash
  local name=$1 version=$2 mod=$3 package=$4 binary=$5 tag=$6 dockerfile=$7 want=$8 ctx="$out/$1-$2"
  mkdir -p "$ctx"
  go_step "go mod download ($name $version)" "$mod" mod download
  go_step "go build ($name $version)" "$mod" build -mod=readonly -trimpath -ldflags "-s -w" -o "$ctx/$binary" "$package"
  docker_build "$name" "$tag" "$dockerfile" "$ctx" "$want"
}

build_etcd() { # etcd version
  local ev=$1 mod="$here/go/etcd-$1" tag="m3agg-local/etcd:$1$tag_suffix" dockerfile="$here/etcd.Dockerfile" want
  want=$(inputs_hash "$dockerfile" "" "$mod")
  up_to_date "$tag" "$want" "${BUILD_ETCD:-}" && return
  step "etcd $ev: go build (etcd's own module)"
  build_module_image etcd "$ev" "$mod" . etcd "$tag" "$dockerfile" "$want"
}

# The load generator of `m3agg load --target kubernetes` (images/go/loadgen-<version>: m3's own
# aggregator client at the same m3 release, so Go's caches are shared with m3coordinator's build).
# A version without a loadgen module gets no loadgen image.
build_loadgen() { # m3 version
  local v=$1 mod="$here/go/loadgen-$1" tag="m3agg-local/loadgen:$1$tag_suffix" dockerfile="$here/loadgen.Dockerfile" want
  [ -d "$mod" ] || return 0
  want=$( { inputs_hash "$dockerfile" "" "$mod"; cat "$mod/main.go"; } | sha256sum | cut -c1-16)
  up_to_date "$tag" "$want" "${BUILD_LOADGEN:-}" && return
  step "loadgen $v: go build (shares m3's packages with m3coordinator)"
  build_module_image loadgen "$v" "$mod" . m3agg-loadgen "$tag" "$dockerfile" "$want"
}

# Toxiproxy (the fault proxy of faults: true clusters), from images/go/toxiproxy-<version>.
build_toxiproxy() {
  local tv mod tag dockerfile="$here/toxiproxy.Dockerfile" want
  tv=$(json j.toxiproxyVersion); mod="$here/go/toxiproxy-$tv"; tag="m3agg-local/toxiproxy:$tv$tag_suffix"
  want=$(inputs_hash "$dockerfile" "" "$mod")
  up_to_date "$tag" "$want" "${BUILD_TOXIPROXY:-}" && return
  step "toxiproxy $tv: go build (Toxiproxy's own module)"
  build_module_image toxiproxy "$tv" "$mod" github.com/Shopify/toxiproxy/v2/cmd/server toxiproxy "$tag" "$dockerfile" "$want"
}

# m3aggregator without optimisations and inlining (-N -l) plus delve.
build_debug() { # tag, dir to build in, path flag (-trimpath or empty), ldflags, label
  local tag=$1 dir=$2 pathflag=$3 ldflags=$4 label=$5 name=m3aggregator-debug dockerfile="$here/m3aggregator-debug.Dockerfile" want ctx
  want=$(inputs_hash "$dockerfile" "$ldflags $pathflag $label" "$here/go/delve")
  [ "$dir" = "$source_dir" ] || want=$(inputs_hash "$dockerfile" "$ldflags $pathflag $label" "$here/go/delve" "$dir")
  up_to_date "$tag" "$want" "${BUILD_M3AGGREGATOR:-}" && return
  ctx="$out/$name-$label"; mkdir -p "$ctx"
  step "$name $label: go build -gcflags='all=-N -l' m3aggregator (cold cache: a few minutes)"
  go_step "go build ($name $label)" "$dir" build $pathflag -gcflags='all=-N -l' -ldflags "$ldflags" -o "$ctx/m3aggregator-debug" "$(m3_main m3aggregator)"
  step "$name $label: go build delve"
  go_step "go mod download (dlv)" "$here/go/delve" mod download
  go_step "go build (dlv)" "$here/go/delve" build -mod=readonly -trimpath -o "$ctx/dlv" github.com/go-delve/delve/cmd/dlv
  build_probe "$ctx"
  docker_build "$name" "$tag" "$dockerfile" "$ctx" "$want"
}

# Images from a local m3 checkout. TAG comes from the tree's content, so an existing tag is up to date.
build_source() {
  [ -n "$source_tag" ] || { current_step=arguments; fail "--m3-source needs --source-tag"; }
  [ -f "$source_dir/go.mod" ] && grep -q '^module github.com/m3db/m3$' "$source_dir/go.mod" \
    || { current_step=arguments; fail "$source_dir is not an m3 checkout (no go.mod of module github.com/m3db/m3)"; }
  local version revision ldflags
  version=$(git -C "$source_dir" describe --tags --always 2>/dev/null || echo source)
  revision=$(git -C "$source_dir" rev-parse --short HEAD 2>/dev/null || echo none)
  ldflags="-X github.com/m3db/m3/src/x/instrument.Version=$version -X github.com/m3db/m3/src/x/instrument.Revision=$revision"
  for name in m3aggregator m3coordinator; do
    local tag="m3agg-src/$name:$source_tag$tag_suffix" ctx="$out/src-$name"
    if docker image inspect "$tag" >/dev/null 2>&1 && ! truthy "${FORCE_BUILD:-}"; then
      step "$tag is up to date (same source tree), skipping"
      continue
    fi
    mkdir -p "$ctx"
    step "$name: go build from $source_dir (Go's build cache keeps a rebuild fast)"
    go_step "go build ($name from source)" "$source_dir" build -trimpath -ldflags "-s -w $ldflags" -o "$ctx/$name" "./src/cmd/services/$name/main"
    build_probe "$ctx"
    docker_build "$name" "$tag" "$here/$name.Dockerfile" "$ctx" "source-$source_tag"
  done
  if [ "$with_debug" = true ]; then
    # No -trimpath: delve then reports the checkout's own paths, so IDE breakpoints need no path mapping.
    build_debug "m3agg-src/m3aggregator-debug:$source_tag$tag_suffix" "$source_dir" "" "$ldflags" "src-$source_tag"
  fi
}

if [ -n "$source_dir" ]; then build_source; fi
for v in "${versions[@]}"; do build_version "$v"; done
list_version=any # (--list-inputs) shared by every m3 version
build_toxiproxy
current_step=done
step "images ready"
