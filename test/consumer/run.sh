#!/usr/bin/env bash
# Consumer test: the package as a user gets it. Packs this checkout, installs the tarball
# into a new project (its other dependencies from the npm registry), and there:
#   - runs the bin: `npx m3agg help`, `npx m3agg images` (must find the images up to date),
#   - type-checks every ```ts block of the README against the installed package,
#   - runs a jest suite and a vitest suite that import only the package name (README examples),
#   - checks that no fixture container is left.
# Needs the cluster images already built (npm run images) and Node >= 22.22 (run it through
# scripts/ensure-node.sh). Starts containers: on shared machines run it under
# `flock /tmp/m3agg-docker.lock`. M3AGG_OLD_NODE=/path/to/node20 also checks the clear error
# the package gives on a too-old Node. M3AGG_CONSUMER_VITEST=3 tests with vitest 3 (default 4).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/test/consumer"
work=$(mktemp -d "${TMPDIR:-/tmp}/m3agg-consumer-XXXXXX")
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
step() { printf '[consumer %4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

step "node $(node --version); packing $repo"
(cd "$repo" && npm pack --silent --pack-destination "$work" >/dev/null)
tarball=$(ls "$work"/m3-aggregator-testcontainers-*.tgz)
listing=$(tar -tzf "$tarball") # (not piped into grep -q: pipefail would see tar's SIGPIPE)
for f in dist/index.js dist/vitest.mjs dist/cli/main.js images/build.sh scripts/ensure-docker.sh fixtures/m3aggregator.yml proto/m3msg-aggregated.proto; do
  grep -qx "package/$f" <<<"$listing" || fail "the tarball has no $f"
done
! grep -q '^package/images/.build/' <<<"$listing" || fail "the tarball ships images/.build"

step "installing $(basename "$tarball") into a new project"
cp -r "$here/project" "$work/project"
cd "$work/project"
# Versions a user would pick today; the package itself brings testcontainers, undici, protobufjs.
npm install --no-audit --no-fund --prefer-offline --loglevel=error \
  "$tarball" jest@30 ts-jest@29 typescript@5 @types/jest@30 @types/node@24 "vitest@${M3AGG_CONSUMER_VITEST:-4}" >/dev/null
[ ! -e node_modules/m3-aggregator-testcontainers/src ] || fail "the package ships its TypeScript sources"

step "npx m3agg help"
help=$(npx --no-install m3agg help) || fail "m3agg help exited non-zero"
grep -q '^usage: m3agg' <<<"$help" || fail "m3agg help printed no usage"

step "npx m3agg images (the images this checkout built must be up to date)"
# The images `m3agg images` builds by default: the default m3 version's, and the etcd paired with it.
tags=$(node -e 'const j = require(process.argv[1]); const v = j.defaultM3Version;
console.log([`m3agg-local/m3aggregator:${v}`, `m3agg-local/m3coordinator:${v}`, `m3agg-local/etcd:${j.m3Versions[v].etcd}`].join(" "));' \
  "$PWD/node_modules/m3-aggregator-testcontainers/images/images.json")
[ -n "$tags" ] || fail "images.json names no local image"
ids() { for t in $tags; do docker image inspect -f '{{.Id}}' "$t" 2>/dev/null || echo "missing:$t"; done; }
before=$(ids)
t0=$(date +%s)
npx --no-install m3agg images 2>"$work/images.log" || { cat "$work/images.log" >&2; fail "m3agg images exited non-zero"; }
after=$(ids)
[ "$before" = "$after" ] || { cat "$work/images.log" >&2; fail "m3agg images rebuilt images that should be up to date"; }
step "m3agg images: all up to date in $(( $(date +%s) - t0 )) s ($tags)"

if [ -n "${M3AGG_OLD_NODE:-}" ]; then
  step "a too-old Node ($("$M3AGG_OLD_NODE" --version)) gets a clear error"
  if out=$("$M3AGG_OLD_NODE" node_modules/m3-aggregator-testcontainers/dist/cli/main.js help 2>&1); then fail "m3agg ran on $("$M3AGG_OLD_NODE" --version)"; fi
  grep -q 'needs Node >= 22.22' <<<"$out" || fail "no clear error on an old Node: $out"
fi

step "type-checking the README's ts blocks against the installed package"
node "$here/readme-blocks.mjs" "$repo/README.md" readme
npx --no-install tsc -p tsconfig.readme.json

left() { docker ps -aq --filter label=org.m3agg.cluster | wc -l; }
step "jest suite (README examples)"
npx --no-install jest --ci
[ "$(left)" = 0 ] || fail "fixture containers left after jest"
step "vitest suite (README example, vitest entry and global hooks)"
npx --no-install vitest run
[ "$(left)" = 0 ] || fail "fixture containers left after vitest"
step "consumer test passed"
