#!/usr/bin/env bash
# `npm test`: type check, lint, unit and integration tests (real Redis and Neo4j, started and stopped by
# the harness), then the browser tests in Debian's Chromium against a production build.
# Prints each runner's own summary and a closing "N passed, N failed" line; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

results_dir="$(mktemp -d)"
status=0
step() { echo; echo "=== $* ==="; }

step "System packages"
bash scripts/ensure-system.sh redis neo4j chromium || exit 1

if [ ! -f node_modules/.package-lock.json ]; then
  step "npm install"
  npm install --no-audit --no-fund || exit 1
fi

step "Type check"
npx tsc --noEmit -p tsconfig.json || { echo "type check failed"; status=1; }

step "Lint"
npx eslint --max-warnings 0 . || { echo "lint failed"; status=1; }

step "Unit and integration tests"
npx vitest run --reporter=default --reporter=json --outputFile.json="$results_dir/vitest.json" || status=1

step "Web build"
if npx next build > "$results_dir/build.log" 2>&1; then
  tail -5 "$results_dir/build.log"
  step "Browser tests"
  PLAYWRIGHT_JSON_OUTPUT_NAME="$results_dir/playwright.json" npx playwright test --reporter=list,json || status=1
else
  cat "$results_dir/build.log"
  echo "web build failed; browser tests not run"
  status=1
fi

node scripts/test-summary.mjs "$results_dir" || status=1
rm -rf "$results_dir"
exit $status
