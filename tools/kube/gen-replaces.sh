#!/usr/bin/env bash
# Regenerates tools/kube/go.mod for a Kubernetes release: `tools/kube/gen-replaces.sh v1.37.2`.
# k8s.io/kubernetes replaces its staging modules (k8s.io/api, apiserver, client-go, ...) with local
# paths, which only work inside its own repository; from the module proxy each one has to be pointed
# at its published v0.<minor>.<patch> instead. The list comes from the release's own go.mod so that a
# version bump picks up staging modules added or removed upstream.
set -euo pipefail
version=${1:?usage: gen-replaces.sh vX.Y.Z (a k8s.io/kubernetes tag)}
[[ $version =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "gen-replaces: $version is not a v1.Y.Z release tag" >&2; exit 2; }
staging=v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}
dir=$(cd "$(dirname "$0")" && pwd)
cd "$dir"

upstream=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
[ -f "$upstream" ] || { echo "gen-replaces: no go.mod downloaded for k8s.io/kubernetes@$version" >&2; exit 1; }
replaces=$(sed -n 's#^\t\(k8s\.io/[^ ]*\) => \./staging/.*$#\1#p' "$upstream")
[ -n "$replaces" ] || { echo "gen-replaces: no staging replaces found in $upstream" >&2; exit 1; }
go_line=$(grep -m1 '^go ' "$upstream")

{
  echo "module portcullis/tools/kube"
  echo
  echo "$go_line"
  echo
  echo "tool k8s.io/kubernetes/cmd/kube-apiserver"
  echo
  echo "require k8s.io/kubernetes $version"
  echo
  echo "replace ("
  for m in $replaces; do printf '\t%s => %s %s\n' "$m" "$m" "$staging"; done
  echo ")"
} >go.mod
rm -f go.sum
go mod tidy
echo "gen-replaces: tools/kube/go.mod now builds kube-apiserver $version with staging modules at $staging" >&2
