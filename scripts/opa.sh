#!/usr/bin/env bash
# Runs the pinned OPA (tools/opa), building it on first use.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/tools.sh" opa
exec "$root/.tools/bin/opa" "$@"
