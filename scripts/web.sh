#!/usr/bin/env bash
# The SPA client (web/): locked install, generated API types in step with
# openapi/openapi.json, lint, type check, unit tests, build, first-load budget, and the
# end-to-end tests in the OS Chromium against a real server (needs .venv/bin/qd85, which
# scripts/test.sh creates). Screenshots land in web/e2e-artifacts.
set -euo pipefail
cd "$(dirname "$0")/../web"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || { echo "web: Node.js 20 or newer is needed (https://nodejs.org or your package manager)" >&2; exit 1; }
set -x
npm ci --no-audit --no-fund --loglevel=error
npm run --silent check:api
npm run --silent lint
npm run --silent typecheck
npm test --silent
npx vite build --logLevel warn
npm run --silent size
npx playwright test --reporter=line
