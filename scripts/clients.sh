#!/usr/bin/env bash
# Proof that openapi/openapi.json generates correct typed clients (issue 15), run by .ci/run:
#   1. lint: Redocly (recommended rules) and Spectral (spectral:oas), 0 errors each;
#   2. TypeScript: openapi-typescript types + tests/clients/typescript/journey.ts under
#      `tsc --strict` (its @ts-expect-error lines must stay errors);
#   3. Python: openapi-python-client generates a client, which runs
#      tests/clients/python_journey.py against a live server on a temporary SQLite
#      database seeded with `qd85 seed-demo` (127.0.0.1:$QD85_CLIENTS_PORT, default 18150).
# The npm tools come from tools/clients/package-lock.json (`npm ci`), the Python generator
# from tools/clients/requirements.txt (pinned), in .venv-clients.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh  # the project's .venv (qd85 itself)
ROOT=$(pwd)
DOC="$ROOT/openapi/openapi.json"
TOOLS="$ROOT/tools/clients"
PORT=${QD85_CLIENTS_PORT:-18150}
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The committed document must be what the app serves (tests/routers/test_conventions.py
# checks it too); a stale one would prove nothing.
.venv/bin/qd85 openapi --out "$work/served.json" >/dev/null
cmp -s "$work/served.json" "$DOC" || { echo "openapi/openapi.json is stale: run qd85 openapi --out openapi/openapi.json" >&2; exit 1; }

# --- npm tools, from the lockfile -----------------------------------------------------------
if [ ! -f "$TOOLS/node_modules/.package-lock.json" ] || [ "$TOOLS/package-lock.json" -nt "$TOOLS/node_modules/.package-lock.json" ]; then
  (cd "$TOOLS" && npm ci --no-audit --no-fund --loglevel=error)
fi
bin="$TOOLS/node_modules/.bin"

echo "== Redocly lint (recommended)"
(cd "$ROOT/tests/clients" && "$bin/redocly" lint "$DOC" --format=summary 2>&1 | grep -v "║\|╔\|╚" | sed '/^\s*$/d')

echo "== Spectral lint (spectral:oas)"
"$bin/spectral" lint "$DOC" --ruleset "$ROOT/tests/clients/spectral.yaml" --fail-severity=error --format=text
echo

echo "== TypeScript: openapi-typescript + tsc --strict"
# --default-non-nullable false: a field with a default stays optional in request types.
"$bin/openapi-typescript" "$DOC" --default-non-nullable false -o "$ROOT/tests/clients/typescript/schema.d.ts" >/dev/null
"$bin/tsc" -p "$ROOT/tests/clients/typescript"
echo "tsc --strict: journey.ts compiles; every @ts-expect-error is an error"

# --- Python client ---------------------------------------------------------------------------
echo "== Python: openapi-python-client + a journey against a live server"
if [ ! -x .venv-clients/bin/python ] || [ "$TOOLS/requirements.txt" -nt .venv-clients/.installed ]; then
  "${PY:-python3}" -m venv .venv-clients
  .venv-clients/bin/python -m pip install --quiet --disable-pip-version-check -r "$TOOLS/requirements.txt"
  touch .venv-clients/.installed
fi
PATH="$ROOT/.venv-clients/bin:$PATH" .venv-clients/bin/openapi-python-client generate --path "$DOC" \
  --meta none --output-path "$work/client/qd85_client" --config "$TOOLS/openapi-python-client.yaml" \
  > "$work/generate.log" 2>&1 || { cat "$work/generate.log" >&2; exit 1; }
# The one piece it leaves out: NDJSON roster bodies (it has no text body type).
if grep "WARNING" "$work/generate.log" | grep -v "POST /api/v1/roster/syncs" | grep -q .; then
  cat "$work/generate.log" >&2; echo "unexpected generator warnings" >&2; exit 1
fi

export QD85_DATABASE_URL="sqlite+aiosqlite:///$work/journey.db"
export QD85_STORAGE_DIR="$work/files"
export QD85_ENV=development
.venv/bin/qd85 migrate >/dev/null
.venv/bin/qd85 seed-demo >/dev/null
.venv/bin/qd85 serve --host 127.0.0.1 --port "$PORT" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 60); do
  if .venv/bin/python -c "import httpx, sys; sys.exit(httpx.get('http://127.0.0.1:$PORT/healthz').status_code != 200)" 2>/dev/null; then
    break
  fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.5
done
timeout 180 .venv-clients/bin/python tests/clients/python_journey.py "http://127.0.0.1:$PORT" "$work/client" \
  || { echo "--- server log" >&2; tail -n 40 "$work/server.log" >&2; exit 1; }
echo "clients proof passed"
