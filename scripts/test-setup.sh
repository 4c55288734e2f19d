#!/usr/bin/env bash
# What `npm test` needs beyond the npm packages, set up by `npm test` itself before anything runs, so that
# `npm install && npm test` passes on a fresh machine with nothing else typed: the Debian packages the
# tests drive as real peers, and the Go tools pinned under tools/ (scripts/tools.sh; cached after the first
# build). Anything that cannot be had stops here with one message naming it, before any test runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
start=$SECONDS

fail() {
  echo "test setup: $*" >&2
  exit 1
}

node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  fail "Node.js 20 or newer is needed (this is $(node --version))"

# Debian package, and the file the tests run from it.
debian_packages=(
  "nginx-light /usr/sbin/nginx"   # nginx auth_request in front of the ext_authz HTTP mode
  "iptables /usr/sbin/iptables-nft-restore"  # the sidecar's redirect, installed in network namespaces (test/sidecar)
  "iproute2 /usr/sbin/ip"         # the network namespaces and veth pairs of that test
  "util-linux /usr/bin/setpriv"   # its connections made as the proxy's and the application's UIDs
)
missing=()
for entry in "${debian_packages[@]}"; do
  read -r package file <<<"$entry"
  [ -e "$file" ] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null ||
    fail "the tests need ${missing[*]} (Debian package names) and this machine has no apt-get: install their equivalents"
  if [ "$(id -u)" = 0 ]; then
    sudo=()
  elif sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    fail "the tests need the Debian packages ${missing[*]}: run 'sudo apt-get install ${missing[*]}' once, or npm test as root"
  fi
  echo "test setup: installing ${missing[*]} with apt-get (Debian packages; about a minute)" >&2
  log=$(mktemp)
  "${sudo[@]}" apt-get update -qq >"$log" 2>&1 ||
    { cat "$log" >&2; fail "apt-get update failed: the Debian mirror is needed once, to install ${missing[*]}"; }
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1 ||
    { cat "$log" >&2; fail "apt-get could not install ${missing[*]}"; }
  rm -f "$log"
fi

bash "$root/scripts/tools.sh" test
echo "test setup: ready in $((SECONDS - start))s (nginx, iptables, iproute2, and from tools/: opa, etcd, kube-apiserver, helm, grpcurl, kustomize, envoy-validate; opa-envoy-plugin when its source is there)" >&2
