#!/usr/bin/env bash
# `opa test` on policies/: every test verbosely, then coverage against a floor so untested Rego fails CI.
# Each test may take up to 60 s: opa runs them in parallel, and on a busy shared machine the default 5 s
# failed tests that are only slow there (speed is measured by the benchmarks, not by test deadlines).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
floor=${POLICY_COVERAGE_FLOOR:-90}
bash "$root/scripts/opa.sh" test -v --timeout 60s "$root/policies"
mkdir -p "$root/build"
bash "$root/scripts/opa.sh" test --timeout 60s --coverage --threshold "$floor" "$root/policies" > "$root/build/policies-coverage.json"
node -e 'const c = require(process.argv[1]); console.log(`policies: ${c.coverage.toFixed(1)}% of Rego lines covered by opa test (floor '"$floor"'%)`)' "$root/build/policies-coverage.json"
