#!/usr/bin/env bash
# Every bench/*.py at a small size, so that benchmarks cannot silently rot (issue 21): the
# same code paths as the full runs, sized to still cross the limits that once broke them
# (thousands of units in one write), a few seconds each. Each bench exits non-zero on any
# non-2xx answer or failed check; so does this script, and on a bench it has no size for.
# Needs PostgreSQL (QD85_BENCH_PG, default the local server) and wrk for bench/http_api.py.
source "$(dirname "$0")/_venv.sh"
PG=${QD85_BENCH_PG:-postgresql://postgres@127.0.0.1:5432/postgres}
declare -A SMOKE=(
  [http_api]="--members 6000 --units 3000 --duration 1 --rounds 1 --connections 8"
  [roster_sync]="--members 6000 --units 3000 --skip-million --xlsx-rows 10000"
  [stats]="--members 8000 --units 8000 --requests 5 --sync-rows 6000 --sync-rounds 1"
  [load]="--duration 5 --clients 8 --upkeep both --members 6000 --provinces 3 --districts 10 --cells 100 --member-users 300 --seeded-reports 100"
  [xlsx_bomb]="--mib 8 0"
  [storage]="--sizes 1 --clients 4 --uploads 8"
  [statements]="--requests 150 --members 3000"
  [faults]="--warmup 3 --outage 3 --after 6 --clients 8 --roster-rows 6000 --members 6000 --provinces 3 --districts 10 --cells 100 --member-users 300 --seeded-reports 100"
)
failed=0
for file in bench/*.py; do
  name=$(basename "$file" .py)
  case "$name" in _*) continue ;; esac
  if [ -z "${SMOKE[$name]+set}" ]; then
    echo "bench smoke: no smoke size for $file (add it to scripts/bench_smoke.sh)" >&2
    failed=1
    continue
  fi
  pg_arg=(--pg "$PG")
  case "$name" in faults|xlsx_bomb) pg_arg=() ;; esac  # its own cluster / no database
  echo "== bench smoke: $name ${SMOKE[$name]}"
  start=$SECONDS
  # shellcheck disable=SC2086
  if ! timeout 300 .venv/bin/python "$file" "${pg_arg[@]}" ${SMOKE[$name]}; then
    echo "bench smoke: $name FAILED" >&2
    failed=1
  fi
  echo "== $name: $((SECONDS - start)) s"
done
exit $failed
