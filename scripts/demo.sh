#!/usr/bin/env bash
# Install, migrate a SQLite file, seed demo data (idempotent) and serve on 127.0.0.1:8000.
source "$(dirname "$0")/_venv.sh"
export QD85_DATABASE_URL=${QD85_DATABASE_URL:-sqlite+aiosqlite:///./qd85.db}
.venv/bin/qd85 migrate
.venv/bin/qd85 seed-demo
echo "serving on http://127.0.0.1:8000 (OpenAPI UI at /docs); Ctrl+C stops"
exec .venv/bin/qd85 serve --host 127.0.0.1 --port 8000
