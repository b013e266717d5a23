"""HTTP benchmark (issue 2): the hot read paths against the ceiling of a bare endpoint.

Starts `qd85 serve` with 2 uvicorn workers on a scratch PostgreSQL database holding
100,000 members, then measures with wrk over loopback, in one run:
  ceiling   GET /healthz (no auth, no database)
  get       GET /api/v1/members/{id}   (random ids; admin token)
  page1     GET /api/v1/members?limit=50
  deep      GET /api/v1/members?limit=50&cursor=<cursor 90,000 rows deep>
and the same member GET / first page for a *manager* token (scope joined in the query).
Targets: get >= 15% of ceiling rps, page1 >= 8%, deep <= 1.3x the cost of page1.

    .venv/bin/python bench/http_api.py [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                                  [--members 100000] [--duration 10] [--connections 64]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import uuid
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import (
    BENCH_SECRET,
    Server,
    WrkResult,
    drop_database,
    dsn,
    migrate,
    recreate_database,
    vietnamese_name,
    wrk,
)

DB_NAME = "qd85_bench_http"


async def populate(url: str, members: int, units_count: int) -> dict[str, object]:
    from api.core.security import hash_password
    from api.core.text_vi import fold, name_sort_key
    from api.services.units import child_path

    rng = random.Random(85)
    conn = await asyncpg.connect(url)
    try:
        root_id = uuid.uuid4()
        units = [(root_id, "TW", "Trung ương", "central", None, child_path(None, root_id), 0)]
        provinces = []
        for p in range(10):
            pid = uuid.uuid4()
            provinces.append((pid, units[0][5] + pid.hex + "/"))
            units.append(
                (pid, f"P{p:02d}", f"Đảng bộ tỉnh {p}", "provincial", root_id, provinces[-1][1], 1)
            )
        cells = []
        for c in range(units_count - len(units)):
            cid = uuid.uuid4()
            parent_id, parent_path = provinces[c % len(provinces)]
            cells.append(cid)
            units.append(
                (cid, f"C{c:05d}", f"Chi bộ {c}", "cell", parent_id, parent_path + cid.hex + "/", 2)
            )
        now = __import__("datetime").datetime.now(__import__("datetime").UTC)
        await conn.copy_records_to_table(
            "units",
            records=[
                (
                    u[0],
                    u[1],
                    u[2],
                    fold(u[2]),
                    u[3],
                    u[4],
                    u[5],
                    u[6],
                    "active",
                    None,
                    True,
                    30,
                    1,
                    now,
                    now,
                )
                for u in units
            ],
            columns=[
                "id",
                "code",
                "name",
                "name_search",
                "level",
                "parent_id",
                "path",
                "depth",
                "status",
                "merged_into_id",
                "declaration_required",
                "declaration_deadline_days",
                "version",
                "created_at",
                "updated_at",
            ],
        )
        rows = []
        for i in range(members):
            name = vietnamese_name(rng)
            rows.append(
                (
                    uuid.uuid4(),
                    f"DV{i:08d}",
                    name,
                    fold(name),
                    name_sort_key(name),
                    rng.choice(cells),
                    "official",
                    "active",
                    None,
                    rng.random() < 0.1,
                    None,
                    None,
                    "not_declared",
                    None,
                    1,
                    now,
                    now,
                )
            )
        await conn.copy_records_to_table(
            "members",
            records=rows,
            columns=[
                "id",
                "external_id",
                "full_name",
                "name_search",
                "name_sort",
                "unit_id",
                "membership",
                "status",
                "position",
                "is_leader",
                "email",
                "phone",
                "declaration",
                "declared_at",
                "version",
                "created_at",
                "updated_at",
            ],
        )
        admin_id, manager_id = uuid.uuid4(), uuid.uuid4()
        pw = hash_password("bench-password")
        await conn.executemany(
            "INSERT INTO users (id, username, password_hash, active, token_version, version, "
            "created_at, updated_at)"
            " VALUES ($1, $2, $3, true, 1, 1, $4, $4)",
            [(admin_id, "bench.admin", pw, now), (manager_id, "bench.manager", pw, now)],
        )
        await conn.executemany(
            "INSERT INTO grants (id, user_id, role, unit_id, created_at) VALUES ($1, $2, $3, "
            "$4, $5)",
            [
                (uuid.uuid4(), admin_id, "admin", None, now),
                (uuid.uuid4(), manager_id, "manager", root_id, now),
            ],
        )
        await conn.execute("ANALYZE")
        # The cursor of the row 90% deep in name order, as the API would hand it out.
        from api.core.pagination import encode_cursor

        deep = await conn.fetchrow(
            "SELECT name_sort, id FROM members ORDER BY name_sort, id OFFSET $1 LIMIT 1",
            int(members * 0.9) - 1,
        )
        return {
            "admin_id": admin_id,
            "manager_id": manager_id,
            "member_ids": [r[0] for r in rows[:: max(1, members // 5000)]],
            "deep_cursor": encode_cursor("members:name", [deep["name_sort"], deep["id"]]),
        }
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--duration", type=int, default=8, help="seconds per scenario and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    import os

    os.environ["QD85_SECRET_KEY"] = BENCH_SECRET
    raw_url = dsn(args.pg, DB_NAME)
    sa_url = raw_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    asyncio.run(recreate_database(args.pg, DB_NAME))
    server = None
    try:
        migrate(sa_url)
        print(f"populating {args.members:,} members in {args.units:,} units ...", flush=True)
        data = asyncio.run(populate(raw_url, args.members, args.units))
        from api.core.security import create_access_token

        admin_token, _ = create_access_token(data["admin_id"], "user", 1)  # type: ignore[arg-type]
        manager_token, _ = create_access_token(data["manager_id"], "user", 1)  # type: ignore[arg-type]
        script = Path(tempfile.mkdtemp()) / "ids.lua"
        ids = ",".join(f'"{i}"' for i in data["member_ids"])  # type: ignore[attr-defined]
        script.write_text(
            f"local ids = {{{ids}}}\nrequest = function()\n"
            '  return wrk.format("GET", "/api/v1/members/" .. ids[math.random(#ids)])\nend\n'
        )
        # Pool sized to the load: each worker holds connections/workers requests at once.
        pool = str(max(1, args.connections // args.workers))
        server = Server(
            sa_url, args.port, args.workers, QD85_DB_POOL_SIZE=pool, QD85_DB_MAX_OVERFLOW="0"
        )
        base = f"http://127.0.0.1:{args.port}"
        opts = {"duration": args.duration, "connections": args.connections, "threads": args.threads}
        admin = {"Authorization": f"Bearer {admin_token}"}
        manager = {"Authorization": f"Bearer {manager_token}"}
        wrk(
            f"{base}/healthz",
            headers={},
            duration=3,
            connections=args.connections,
            threads=args.threads,
        )  # warm-up
        scenarios = {
            "ceiling  GET /healthz": (f"{base}/healthz", {}, None),
            "get      GET /members/{id} (admin)": (base, admin, script),
            "page1    GET /members?limit=50 (admin)": (
                f"{base}/api/v1/members?limit=50",
                admin,
                None,
            ),
            "deep     GET /members?limit=50&cursor=90k (admin)": (
                f"{base}/api/v1/members?limit=50&cursor={data['deep_cursor']}",
                admin,
                None,
            ),
            "get      GET /members/{id} (manager of root)": (base, manager, script),
            "page1    GET /members?limit=50 (manager of root)": (
                f"{base}/api/v1/members?limit=50",
                manager,
                None,
            ),
        }
        # Rounds interleave the scenarios; each figure is the median round (by req/s), so a
        # burst of background work on this 2-core box does not decide a ratio alone.
        runs: dict[str, list[WrkResult]] = {name: [] for name in scenarios}
        for _ in range(args.rounds):
            for name, (url, headers, lua) in scenarios.items():
                runs[name].append(wrk(url, headers=headers, script=lua, **opts))
        results = {name: sorted(rs, key=lambda r: r.rps)[len(rs) // 2] for name, rs in runs.items()}
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            asyncio.run(drop_database(args.pg, DB_NAME))

    ceiling = results["ceiling  GET /healthz"].rps
    print(
        f"\n{args.members:,} members, {args.workers} workers (pool "
        f"{args.connections // args.workers} each), wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s, median of {args.rounds} interleaved rounds\n"
    )
    print(
        f"{'scenario':<50} {'req/s':>9} {'% ceil':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'errors':>7}"
    )
    for name, r in results.items():
        print(
            f"{name:<50} {r.rps:>9.0f} {100 * r.rps / ceiling:>6.1f}% {r.p50_ms:>8.2f} "
            f"{r.p99_ms:>8.2f} {r.max_ms:>8.0f} {r.errors:>7}"
        )
    get = results["get      GET /members/{id} (admin)"].rps / ceiling
    page = results["page1    GET /members?limit=50 (admin)"].rps / ceiling
    deep = (
        results["page1    GET /members?limit=50 (admin)"].rps
        / results["deep     GET /members?limit=50&cursor=90k (admin)"].rps
    )
    print()
    print(
        f"member GET   {100 * get:5.1f}% of ceiling (target >= 15%)  "
        f"{'PASS' if get >= 0.15 else 'FAIL'}"
    )
    print(
        f"list page    {100 * page:5.1f}% of ceiling (target >=  8%)  "
        f"{'PASS' if page >= 0.08 else 'FAIL'}"
    )
    print(
        f"deep / first {deep:5.2f}x cost          (target <= 1.3x)  "
        f"{'PASS' if deep <= 1.3 else 'FAIL'}"
    )
    if any(r.errors for r in results.values()):
        print("FAIL some requests failed (non-2xx or socket errors): see the errors column")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
