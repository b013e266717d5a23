#!/usr/bin/env bash
# Install, build the SPA (web/dist) when Node.js 20+ is present, migrate a SQLite file,
# seed demo data (idempotent) and serve API and SPA on 127.0.0.1:8000.
source "$(dirname "$0")/_venv.sh"
if command -v node >/dev/null 2>&1 \
  && node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/index.html web/package-lock.json -newer web/dist/index.html -print -quit)" ]; then
    echo "building the web app (web/dist)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error && npx vite build --logLevel warn)
  fi
  web_url="the web app at http://127.0.0.1:8000/ (sign in as an.nv)"
else
  echo "Node.js 20+ not found: serving the API only. Install Node.js 20 or newer (https://nodejs.org/en/download) to get the web app." >&2
  web_url="no web app (Node.js 20+ missing)"
fi
export QD85_DATABASE_URL=${QD85_DATABASE_URL:-sqlite+aiosqlite:///./qd85.db}
.venv/bin/qd85 migrate
.venv/bin/qd85 seed-demo
echo "serving on http://127.0.0.1:8000: $web_url, OpenAPI UI at /docs; Ctrl+C stops"
exec .venv/bin/qd85 serve --host 127.0.0.1 --port 8000
