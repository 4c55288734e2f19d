#!/usr/bin/env bash
# Builds the Go tools pinned under tools/ (OPA, kube-apiserver, etcd) into .tools/bin: `tools.sh [NAME]`,
# no NAME builds all of them. Binaries are cached outside the checkout, keyed by what decides their bytes
# (module files, build arguments, Go version), so a fresh clone on a machine that built them once only
# links them, and editing one tool's line here does not rebuild the others (kube-apiserver takes minutes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${PORTCULLIS_TOOLS_CACHE:-$HOME/.cache/portcullis/tools}
mkdir -p "$cache" "$root/.tools/bin"

# build NAME MODULE_DIR PACKAGE [extra go build args...]
build() {
  local name=$1 dir=$2 pkg=$3
  shift 3
  local key
  key=$( { cat "$root/tools/$dir/go.mod" "$root/tools/$dir/go.sum"; go version; echo "$pkg $*"; } | sha256sum | cut -c1-16)
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

# The Kubernetes release pinned in tools/kube/go.mod; built from the module proxy the binary would
# otherwise report v0.0.0-master, and the API server derives its compatibility version from this.
kube_ldflags() {
  local v
  v=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$root/tools/kube/go.mod")
  [[ $v =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || { echo "tools: no k8s.io/kubernetes v1.Y.Z in tools/kube/go.mod" >&2; return 1; }
  local pkg=k8s.io/component-base/version
  echo "-X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=${BASH_REMATCH[1]} -X $pkg.gitTreeState=clean"
}

# `test` builds what npm test needs; `all` adds the benchmark tools (ghz, vegeta, opa-envoy).
want=${1:-all}
case "$want" in all|test|opa) build opa opa github.com/open-policy-agent/opa ;; esac
case "$want" in all|test|etcd) build etcd etcd go.etcd.io/etcd/server/v3 ;; esac
case "$want" in all|test|grpcurl) build grpcurl grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl ;; esac
case "$want" in all|ghz) build ghz ghz github.com/bojand/ghz/cmd/ghz ;; esac
case "$want" in all|vegeta) build vegeta vegeta github.com/tsenart/vegeta/v12 ;; esac
# The OPA reference server of bench:authz is our own main.go: its hash is a build argument, so editing it rebuilds.
case "$want" in all|opa-envoy) build opa-envoy opa-envoy . -ldflags "-X main.revision=$(sha256sum "$root/tools/opa-envoy/main.go" | cut -c1-16)" ;; esac
# helm template/lint for charts/; its own module, since it pins other k8s.io versions than tools/kube.
case "$want" in all|test|helm) build helm helm helm.sh/helm/v3/cmd/helm -ldflags "-X helm.sh/helm/v3/internal/version.version=$(awk '$1 == "helm.sh/helm/v3" { print $2; exit }' "$root/tools/helm/go.mod")" ;; esac
case "$want" in all|test|kube-apiserver)
  ldflags=$(kube_ldflags)
  build kube-apiserver kube k8s.io/kubernetes/cmd/kube-apiserver -ldflags "$ldflags" ;;
esac
