#!/usr/bin/env bash
# Builds the Go tools pinned under tools/ (OPA, and whatever else is listed at the bottom) into .tools/bin.
# Binaries are cached outside the checkout, keyed by the hash of their module files, so a fresh clone on a
# machine that built them once only links them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${PORTCULLIS_TOOLS_CACHE:-$HOME/.cache/portcullis/tools}
mkdir -p "$cache" "$root/.tools/bin"

# build NAME MODULE_DIR PACKAGE [extra go build args...]
build() {
  local name=$1 dir=$2 pkg=$3
  shift 3
  local key
  key=$(cat "$root/tools/$dir/go.mod" "$root/tools/$dir/go.sum" "$0" | sha256sum | cut -c1-16)
  local cached="$cache/$name-$key"
  if [ ! -x "$cached" ]; then
    echo "tools: building $name from tools/$dir (first run on this machine; cached afterwards)" >&2
    local start=$SECONDS
    (cd "$root/tools/$dir" && CGO_ENABLED=0 go build -trimpath "$@" -o "$cached.tmp" "$pkg")
    mv "$cached.tmp" "$cached"
    echo "tools: built $name in $((SECONDS - start))s" >&2
  fi
  ln -sf "$cached" "$root/.tools/bin/$name"
}

want=${1:-all}
case "$want" in all|opa) build opa opa github.com/open-policy-agent/opa ;; esac
