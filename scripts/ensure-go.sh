#!/usr/bin/env bash
# Prints the bin directory of a Go toolchain new enough for the image builds (the highest `go`
# directive of images/go/*/go.mod). Uses the `go` on PATH when it is new enough; otherwise fetches
# the toolchain the way the Go command itself does (module golang.org/toolchain, version
# v0.0.1-<go version>.<os>-<arch>) from the first proxy of $GOPROXY into a cache folder, once:
#   - the zip is checked against the checksum database ($GOSUMDB, default sum.golang.org, looked up
#     through the same proxy, as `go` does): the h1: hash of its files must equal the database's record;
#   - progress of the download goes to stderr.
#   bash scripts/ensure-go.sh            → /path/to/go/bin (stdout); messages on stderr
#   M3AGG_GO_VERSION  the toolchain to fetch (default: images/images.json "goToolchain")
#   M3AGG_GO_CACHE    where it goes (default ${XDG_CACHE_HOME:-~/.cache}/m3agg/go)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "ensure-go: $*" >&2; }
die() { say "$*"; exit 1; }

# The Go version the modules need: the highest "go X.Y[.Z]" line of the image modules.
need=$(sed -n 's/^go \([0-9][0-9.]*\)$/\1/p' "$root"/images/go/*/go.mod | sort -t. -k1,1n -k2,2n -k3,3n | tail -1)
[ -n "$need" ] || die "no go directive found in images/go/*/go.mod"
version_ok() { # go binary → true when its version >= $need
  local v
  v=$("$1" env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
  [ -n "$v" ] || return 1
  [ "$(printf '%s\n%s\n' "$need" "$v" | sort -t. -k1,1n -k2,2n -k3,3n | head -1)" = "$need" ]
}
if command -v go >/dev/null && version_ok go; then dirname "$(command -v go)"; exit 0; fi

version=${M3AGG_GO_VERSION:-$(sed -n 's/.*"goToolchain": *"\(go[0-9.]*\)".*/\1/p' "$root/images/images.json")}
[ -n "$version" ] || die "no Go toolchain version: set M3AGG_GO_VERSION (e.g. go1.26.8) or goToolchain in images/images.json"
case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) die "no Go toolchain download for $(uname -s): install Go >= $need" ;; esac
case "$(uname -m)" in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) die "no Go toolchain download for $(uname -m): install Go >= $need" ;; esac
cache=${M3AGG_GO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/m3agg/go}
dest="$cache/$version.$os-$arch"
if [ -x "$dest/bin/go" ] && version_ok "$dest/bin/go"; then echo "$dest/bin"; exit 0; fi

# The first real proxy of GOPROXY ("direct" and "off" are not proxies).
proxy=""
IFS=',|' read -r -a proxies <<<"${GOPROXY:-https://proxy.golang.org,direct}"
for p in "${proxies[@]}"; do case "$p" in direct|off|"") ;; *) proxy=${p%/}; break ;; esac; done
[ -n "$proxy" ] || die "GOPROXY=${GOPROXY:-} names no proxy to fetch the Go toolchain from: install Go >= $need"
sumdb=${GOSUMDB:-sum.golang.org}
sumdb=${sumdb%%+*} # "name+key" → name
[ "$sumdb" != off ] || die "GOSUMDB=off: the toolchain cannot be verified; install Go >= $need yourself"

mod=golang.org/toolchain
ver="v0.0.1-$version.$os-$arch"
mkdir -p "$cache"
exec 9>"$cache/.lock"
command -v flock >/dev/null && flock 9
if [ -x "$dest/bin/go" ] && version_ok "$dest/bin/go"; then echo "$dest/bin"; exit 0; fi
work=$(mktemp -d "$cache/.fetch-XXXXXX")
trap 'rm -rf "$work"' EXIT

say "no Go >= $need on PATH; fetching $mod@$ver from $proxy (once, into $dest)"
curl -fL --retry 2 --progress-bar -o "$work/toolchain.zip" "$proxy/$mod/@v/$ver.zip" \
  || die "download of $proxy/$mod/@v/$ver.zip failed"
say "checking it against the checksum database $sumdb (through $proxy)"
record=$(curl -fsSL --retry 2 "$proxy/sumdb/$sumdb/lookup/$mod@$ver") || die "checksum database lookup of $mod@$ver failed"
want=$(awk -v m="$mod" -v v="$ver" '$1 == m && $2 == v { print $3; exit }' <<<"$record")
[[ "$want" == h1:* ]] || die "the checksum database has no h1 record for $mod@$ver"
mkdir "$work/x"
unzip -q "$work/toolchain.zip" -d "$work/x"
# Needs curl, unzip, sha256sum and node (the npm scripts' Node).
# Go's dirhash "h1": sha256 over the lines "<sha256 of file>  <file name in the zip>\n", names sorted.
got="h1:$(cd "$work/x" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sed 's#  \./#  #' \
  | node -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(0)).digest("base64"))')"
[ "$got" = "$want" ] || die "$mod@$ver does not match the checksum database (got $got, want $want): not installed"
rm -rf "$dest"
mv "$work/x/$mod@$ver" "$dest"
version_ok "$dest/bin/go" || die "$dest/bin/go does not run or is older than $need"
say "installed $("$dest/bin/go" version) into $dest (verified: $got)"
echo "$dest/bin"
