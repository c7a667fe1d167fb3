#!/usr/bin/env bash
# Installs everything hotpath's build, tests and demo need, idempotently, caching under .cache/.
#   --quick   only what the demo needs (npm packages, one venv)
#   --bench   also the reference profilers for `npm run bench`
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-full}"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# >>> chromium: headless browser for test/live/flamegraph-browser.test.ts (skips without it) -------------------
if [ "$mode" != --quick ] && ! command -v chromium >/dev/null 2>&1; then
  (apt-get update && apt-get install -y chromium) ||
    echo "setup: could not install chromium; the flame graph browser test will be skipped" >&2
fi
# <<< chromium -------------------------------------------------------------------------------------------------
