#!/usr/bin/env bash
# Install the dev dependencies, then: format check, lint, type check, the import
# contracts (layering, pyproject.toml [tool.importlinter]), the supply-chain
# audit of the locked dependencies (scripts/audit.py), the test suite on SQLite, and
# again on PostgreSQL when QD85_TEST_POSTGRES_URL names a server (each run creates and
# drops its own database there).
VENV_EXTRAS="[dev]" source "$(dirname "$0")/_venv.sh"
set -x
.venv/bin/ruff format --check .
.venv/bin/ruff check .
.venv/bin/mypy api
.venv/bin/lint-imports
.venv/bin/python scripts/audit.py constraints.txt
QD85_TEST_DATABASE_URL="sqlite+aiosqlite:///$(mktemp -d)/qd85-test.db" .venv/bin/pytest -q "$@"
if [ -n "${QD85_TEST_POSTGRES_URL:-}" ]; then
  QD85_TEST_DATABASE_URL="$QD85_TEST_POSTGRES_URL" .venv/bin/pytest -q "$@"
fi
