#!/usr/bin/env bash
# Runs a command under a Node new enough for this package (>= 22.22: Testcontainers
# 12.2 needs it, and undici 8 crashes at import on Node 20). Uses the `node` on PATH
# when it is new enough; otherwise installs Node 24 from the npm registry
# (package node-<os>-<arch>@24) into a cache folder once, and runs the command with
# that node first on PATH, so `#!/usr/bin/env node` tools (jest, tsx) use it too.
#   bash scripts/ensure-node.sh jest test/integration
#   M3AGG_NODE_CACHE   where Node 24 goes (default ${XDG_CACHE_HOME:-~/.cache}/m3agg/node24)
#   M3AGG_USE_NODE24=1 use Node 24 even when the PATH node is new enough (CI tests on 24)
#   M3AGG_NODE_MAJOR=22 use that major instead (installed the same way, into .../m3agg/node22);
#                      CI runs the consumer test on 22 as well
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: ensure-node.sh COMMAND [ARGS...]" >&2; exit 2; }

min_major=22 min_minor=22
new_enough() { # node binary
  "$1" -e "const [a, b] = process.versions.node.split('.').map(Number);
process.exit(a > $min_major || (a === $min_major && b >= $min_minor) ? 0 : 1)" 2>/dev/null
}

want=${M3AGG_NODE_MAJOR:-24}
[ -z "${M3AGG_NODE_MAJOR:-}" ] || M3AGG_USE_NODE24=1 # an explicit major is always used
is_wanted() { [ "$("$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" = "$want" ]; }
if command -v node >/dev/null && new_enough node; then
  if [ -z "${M3AGG_USE_NODE24:-}" ] || is_wanted node; then exec "$@"; fi
fi

case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) os="" ;; esac
case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) arch="" ;; esac
have=$(node --version 2>/dev/null || echo "no node")
if [ -z "$os" ] || [ -z "$arch" ]; then
  echo "ensure-node: this package needs Node >= $min_major.$min_minor (found: $have), and no Node build is known for $(uname -s)/$(uname -m); install Node $want yourself" >&2
  exit 1
fi

cache=${M3AGG_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/m3agg/node$want}
bin="$cache/node_modules/node-$os-$arch/bin"
if ! { [ -x "$bin/node" ] && new_enough "$bin/node" && is_wanted "$bin/node"; }; then
  mkdir -p "$cache"
  # One installer at a time (parallel npm scripts); the second finds it installed.
  exec 9>"$cache/.lock"
  command -v flock >/dev/null && flock 9
  if ! { [ -x "$bin/node" ] && new_enough "$bin/node" && is_wanted "$bin/node"; }; then
    echo "ensure-node: installing node-$os-$arch@$want from the npm registry into $cache (once; node on PATH: $have)" >&2
    npm install --prefix "$cache" --no-audit --no-fund --no-save --loglevel=error "node-$os-$arch@$want" >&2
  fi
  exec 9>&-
  new_enough "$bin/node" || { echo "ensure-node: $bin/node did not install, or is not >= $min_major.$min_minor" >&2; exit 1; }
fi
[ -n "${M3AGG_ENSURE_NODE_QUIET:-}" ] || echo "ensure-node: node $have $([ -n "${M3AGG_NODE_MAJOR:-}" ] && echo "(M3AGG_NODE_MAJOR=$want)" || { [ -n "${M3AGG_USE_NODE24:-}" ] && echo "(M3AGG_USE_NODE24 set)"; } || echo "is too old"); using $("$bin/node" --version) from $cache" >&2
export PATH="$bin:$PATH"
exec "$@"
