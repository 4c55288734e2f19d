#!/usr/bin/env bash
# Builds the Go tools pinned under tools/ into .tools/bin: `tools.sh [NAME|test|all]`, no argument builds
# all of them. Binaries are cached outside the checkout, keyed by what decides their bytes (module files,
# build arguments, Go version), so a fresh clone on a machine that built them once only links them, and
# editing one tool's line here does not rebuild the others (kube-apiserver takes minutes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${PORTCULLIS_TOOLS_CACHE:-$HOME/.cache/portcullis/tools}
mkdir -p "$cache" "$root/.tools/bin"

command -v go >/dev/null || {
  echo "tools: Go is needed to build the pinned tools (OPA, etcd, kube-apiserver, helm, grpcurl, kustomize, envoy-validate): install Go 1.26 from https://go.dev/dl and put it on PATH" >&2
  exit 1
}

# build NAME MODULE_DIR PACKAGE FIRST_BUILD_TIME [extra go build args...]
# FIRST_BUILD_TIME is said before a build starts, so nobody wonders whether it hangs.
build() {
  local name=$1 dir=$2 pkg=$3
  local key
  key=$( { cat "$root/tools/$dir/go.mod" "$root/tools/$dir/go.sum"; go version; shift 4; echo "$pkg $*"; } | sha256sum | cut -c1-16)
  build_keyed "$key" "$root/tools/$dir" "$@"
}

# build_keyed KEY SOURCE_DIR NAME MODULE_DIR PACKAGE FIRST_BUILD_TIME [extra go build args...]
build_keyed() {
  local key=$1 src=$2 name=$3 pkg=$5 takes=$6
  shift 6
  local cached="$cache/$name-$key"
  if [ ! -x "$cached" ]; then
    # Several checkouts may ask at once (worktrees, a test run beside a benchmark): one builds, the rest wait.
    exec {lock}>"$cached.lock"
    if ! flock -n "$lock"; then
      echo "tools: waiting for another build of $name to finish" >&2
      flock "$lock"
    fi
    if [ ! -x "$cached" ]; then
      echo "tools: building $name from $src with Go: $takes the first time on 2 cores (cached afterwards in $cache)" >&2
      local start=$SECONDS
      (cd "$src" && CGO_ENABLED=0 go build -trimpath "$@" -o "$cached.tmp" "$pkg") || {
        echo "tools: could not build $name (Go's reason is above): it is built from the Go module proxy ($(go env GOPROXY)) with the Go that $src/go.mod asks for ($(awk '$1 == "go" { print $2; exit }' "$src/go.mod")+; this is $(go env GOVERSION))" >&2
        exit 1
      }
      mv "$cached.tmp" "$cached"
      echo "tools: built $name in $((SECONDS - start))s" >&2
    fi
    exec {lock}>&-
  fi
  ln -sf "$cached" "$root/.tools/bin/$name"
}

# opa-envoy-plugin, the reference the ext_authz door is compared with (test/authz/differential.test.ts,
# bench:authz). The Go module proxy refuses the module itself (not its dependencies), so it is built from a
# source checkout: OPA_ENVOY_PLUGIN_SRC, else a directory reference/opa-envoy-plugin beside this repository
# (../<any>/reference/opa-envoy-plugin). Cached like the others, keyed by the checkout's Go sources. In the
# test set it is optional: without a checkout the differential test says it was skipped and why.
opa_envoy_plugin() {
  local optional=${1:-}
  local src=${OPA_ENVOY_PLUGIN_SRC:-}
  if [ -z "$src" ]; then
    for d in "$root"/../*/reference/opa-envoy-plugin; do
      if [ -f "$d/go.mod" ]; then src=$d; break; fi
    done
  fi
  if [ -z "$src" ] || ! grep -qs '^module github.com/open-policy-agent/opa-envoy-plugin$' "$src/go.mod"; then
    echo "tools: opa-envoy-plugin source not found: set OPA_ENVOY_PLUGIN_SRC to a checkout of github.com/open-policy-agent/opa-envoy-plugin (no ../*/reference/opa-envoy-plugin beside $root)" >&2
    [ "$optional" = optional ] && return 0
    exit 1
  fi
  src=$(cd "$src" && pwd)
  local key
  key=$( { cd "$src" && find . \( -name '*.go' -o -name go.mod -o -name go.sum \) -type f | LC_ALL=C sort | xargs sha256sum; go version; } | sha256sum | cut -c1-16)
  build_keyed "$key" "$src" opa-envoy-plugin . ./cmd/opa-envoy-plugin "about 3 minutes"
}

# The Kubernetes release pinned in tools/kube/go.mod; built from the module proxy the binary would
# otherwise report v0.0.0-master, and the API server derives its compatibility version from this.
kube_ldflags() {
  local v
  v=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$root/tools/kube/go.mod")
  [[ $v =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || { echo "tools: no k8s.io/kubernetes v1.Y.Z in tools/kube/go.mod" >&2; return 1; }
  local pkg=k8s.io/component-base/version
  echo "-X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=${BASH_REMATCH[1]} -X $pkg.gitTreeState=clean"
}

# `test` builds what npm test needs; `all` adds the benchmark tools (ghz, vegeta).
want=${1:-all}
case "$want" in all|test|opa) build opa opa github.com/open-policy-agent/opa "about 2 minutes" ;; esac
case "$want" in all|test|etcd) build etcd etcd go.etcd.io/etcd/server/v3 "about 1 minute" ;; esac
case "$want" in all|test|grpcurl) build grpcurl grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl "about 1 minute" ;; esac
# Checks the Envoy bootstraps the sidecar template renders against Envoy's API (go-control-plane's generated validations).
case "$want" in all|test|envoy-validate) build envoy-validate envoy-validate . "about 2 minutes" ;; esac
case "$want" in all|ghz) build ghz ghz github.com/bojand/ghz/cmd/ghz "about 2 minutes" ;; esac
case "$want" in all|vegeta) build vegeta vegeta github.com/tsenart/vegeta/v12 "about 1 minute" ;; esac
case "$want" in all|test) opa_envoy_plugin optional ;; opa-envoy-plugin) opa_envoy_plugin ;; esac
# kustomize build, whose output `portcullis eval` is tested on (test/posture/eval.test.ts).
case "$want" in all|test|kustomize) build kustomize kustomize sigs.k8s.io/kustomize/kustomize/v5 "about 2 minutes" ;; esac
# helm template/lint for charts/; its own module, since it pins other k8s.io versions than tools/kube.
case "$want" in all|test|helm) build helm helm helm.sh/helm/v3/cmd/helm "about 8 minutes" -ldflags "-X helm.sh/helm/v3/internal/version.version=$(awk '$1 == "helm.sh/helm/v3" { print $2; exit }' "$root/tools/helm/go.mod")" ;; esac
case "$want" in all|test|kube-apiserver)
  ldflags=$(kube_ldflags)
  build kube-apiserver kube k8s.io/kubernetes/cmd/kube-apiserver "10 to 15 minutes" -ldflags "$ldflags" ;;
esac
