#!/usr/bin/env bash
# The end-to-end tests' server: a fresh SQLite database with the demo seed, and
# `qd85 serve` serving the built SPA (web/dist) on 127.0.0.1:$E2E_PORT, as in production.
# Started and stopped by Playwright (webServer in playwright.config.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
QD85=${QD85_BIN:-../.venv/bin/qd85}
work=$(mktemp -d "${TMPDIR:-/tmp}/qd85-e2e.XXXXXX")
trap 'rm -rf "$work"' EXIT
export QD85_DATABASE_URL="sqlite+aiosqlite:///$work/e2e.db"
export QD85_STORAGE_DIR="$work/files"
export QD85_WEB_DIR="$PWD/dist"
export QD85_LOG_REQUESTS=false
"$QD85" migrate >/dev/null
"$QD85" seed-demo >/dev/null
# Not exec: the trap must remove the database when Playwright stops the server.
"$QD85" serve --host 127.0.0.1 --port "${E2E_PORT:-18161}" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT INT TERM
wait "$server"
