"""Statistics benchmark (issue 7) on a national-shaped dataset.

Builds a scratch PostgreSQL database with 1,000,000 members in 50,000 units (6 levels),
1,500,000 declared accounts, 200,000 reports and 20 published documents with their
acknowledgements (COPY), rebuilds the counters (`qd85 recount`'s code), then measures in
one run:
  naive     the root's per-child figures aggregated straight from members, accounts and
            reports (what the API would cost without counters)
  api       GET /api/v1/stats/compliance for the root, a province and a cell, served by
            `qd85 serve --workers 2` (median and p95 of sequential requests)
  upkeep    what keeping the counters adds to a roster sync apply of 100,000 rows into one
            province's cells: the same kind of sync applied in-process with
            counters.touch as is and as a no-op
Targets: the root answers in under 50 ms median; upkeep adds at most 20% to the apply.

    .venv/bin/python bench/stats.py [--pg postgresql://postgres@127.0.0.1:5432/postgres]
        [--members 1000000] [--units 50000] [--requests 40] [--skip-upkeep]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import Server, drop_database, dsn, migrate, recreate_database, vietnamese_name

DB_NAME = "qd85_bench_stats"
PLATFORMS = ["facebook", "zalo", "youtube", "tiktok", "instagram", "x", "telegram"]
CATEGORIES = [
    "fake_news",
    "false_information",
    "distortion",
    "hostile_view",
    "defamation",
    "incitement",
    "secret_leak",
    "obscene",
    "impersonation",
    "scam",
    "other",
]
REPORT_STATUSES = ["submitted", "in_review", "escalated", "resolved", "dismissed", "withdrawn"]


def build_tree(n_units: int) -> list[tuple[uuid.UUID, str, str, str, uuid.UUID | None, str, int]]:
    """(id, code, name, level, parent, path, depth): 1 central, 63 provinces, 10 upper
    grassroots each, 10 grassroots each, then cells and groups to reach n_units."""
    from api.services.units import child_path

    root = uuid.uuid4()
    units = [(root, "TW", "Ban Chấp hành Trung ương", "central", None, child_path(None, root), 0)]
    levels = [
        (63, "provincial", "Đảng bộ tỉnh"),
        (10, "upper_grassroots", "Đảng bộ cấp trên cơ sở"),
        (10, "grassroots", "Đảng bộ cơ sở"),
    ]
    frontier = [units[0]]
    for fanout, level, label in levels:
        nxt = []
        for parent in frontier:
            for _ in range(fanout):
                uid = uuid.uuid4()
                unit = (
                    uid,
                    f"U{len(units):06d}",
                    f"{label} {len(units)}",
                    level,
                    parent[0],
                    child_path(parent[5], uid),
                    parent[6] + 1,
                )
                units.append(unit)
                nxt.append(unit)
        frontier = nxt
    grassroots = frontier
    remaining = n_units - len(units)
    cells = []
    for i in range(int(remaining * 0.94)):
        parent = grassroots[i % len(grassroots)]
        uid = uuid.uuid4()
        cell = (
            uid,
            f"U{len(units):06d}",
            f"Chi bộ {len(units)}",
            "cell",
            parent[0],
            child_path(parent[5], uid),
            parent[6] + 1,
        )
        units.append(cell)
        cells.append(cell)
    while len(units) < n_units:
        parent = cells[len(units) % len(cells)]
        uid = uuid.uuid4()
        units.append(
            (
                uid,
                f"U{len(units):06d}",
                f"Tổ đảng {len(units)}",
                "group",
                parent[0],
                child_path(parent[5], uid),
                parent[6] + 1,
            )
        )
    return units


async def populate(url: str, n_members: int, n_units: int) -> dict[str, object]:
    from api.core.security import hash_password
    from api.core.text_vi import fold, name_sort_key

    rng = random.Random(7)
    now = datetime.now(UTC)
    units = build_tree(n_units)
    conn = await asyncpg.connect(url)
    try:
        t = time.perf_counter()
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
        leaves = [u for u in units if u[3] in ("cell", "group", "grassroots")]
        members, _leaders = [], []
        for i in range(n_members):
            name = vietnamese_name(rng)
            unit = leaves[rng.randrange(len(leaves))]
            status = (
                "active"
                if rng.random() < 0.93
                else rng.choice(["exempt", "transferred", "deceased"])
            )
            leader = rng.random() < 0.08
            declaration = rng.choices(
                ["not_declared", "declared_none", "declared"], [0.3, 0.2, 0.5]
            )[0]
            mid = uuid.uuid4()
            members.append(
                (
                    mid,
                    f"DV{i:08d}",
                    name,
                    fold(name),
                    name_sort_key(name),
                    unit[0],
                    "official",
                    status,
                    None,
                    leader,
                    None,
                    None,
                    declaration,
                    None,
                    1,
                    now,
                    now,
                )
            )
        await conn.copy_records_to_table(
            "members",
            records=members,
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
        print(
            f"  units {len(units):,} and members {n_members:,} copied in "
            f"{time.perf_counter() - t:.1f} s"
        )
        t = time.perf_counter()
        declared = [m for m in members if m[12] == "declared"]
        accounts = []
        for i in range(int(n_members * 1.5)):
            member = declared[i % len(declared)]
            platform = rng.choice(PLATFORMS)
            status = rng.choices(
                ["pending", "verified", "rejected", "closed", "compromised"],
                [0.3, 0.55, 0.05, 0.08, 0.02],
            )[0]
            key = f"{platform}:user:acc{i:09d}"
            claim = key if status in ("pending", "verified", "compromised") else None
            accounts.append(
                (
                    uuid.uuid4(),
                    member[0],
                    platform,
                    "profile",
                    "personal",
                    f"https://x/{i}",
                    key,
                    f"https://x/{i}",
                    claim,
                    None,
                    status,
                    None,
                    None,
                    None,
                    1,
                    now,
                    now,
                )
            )
        await conn.copy_records_to_table(
            "social_accounts",
            records=accounts,
            columns=[
                "id",
                "member_id",
                "platform",
                "kind",
                "purpose",
                "url",
                "canonical_key",
                "canonical_url",
                "claim_key",
                "display_name",
                "status",
                "review_note",
                "reviewed_by_id",
                "reviewed_at",
                "version",
                "created_at",
                "updated_at",
            ],
        )
        del accounts
        print(f"  accounts {int(n_members * 1.5):,} copied in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        reports = []
        for i in range(n_members // 5):
            reporter = members[rng.randrange(len(members))]
            created = now - timedelta(hours=rng.uniform(1, 24 * 365))
            status = rng.choices(REPORT_STATUSES, [0.1, 0.08, 0.04, 0.55, 0.18, 0.05])[0]
            closed = (
                created + timedelta(hours=rng.uniform(1, 200))
                if status in ("resolved", "dismissed", "withdrawn")
                else None
            )
            category = rng.choice(CATEGORIES)
            url = f"https://tin.example.com.vn/bai-{i}"
            reports.append(
                (
                    uuid.uuid4(),
                    reporter[0],
                    reporter[5],
                    None,
                    None,
                    None,
                    None,
                    url,
                    url,
                    f"{i:064x}",
                    None,
                    rng.choice(PLATFORMS),
                    category,
                    "Nội dung sai sự thật",
                    "noi dung sai su that",
                    "refute",
                    None,
                    status,
                    "refuted" if status == "resolved" else None,
                    None,
                    None,
                    "normal",
                    None,
                    created + timedelta(hours=72),
                    closed,
                    None,
                    1,
                    1,
                    created,
                    closed or created,
                )
            )
        await conn.copy_records_to_table(
            "reports",
            records=reports,
            columns=[
                "id",
                "reporter_member_id",
                "unit_id",
                "subject_member_id",
                "subject_unit_id",
                "impersonated_unit_id",
                "impersonated_member_id",
                "url",
                "canonical_url",
                "content_hash",
                "open_key",
                "platform",
                "category",
                "description",
                "description_search",
                "proposed_action",
                "observed_at",
                "status",
                "outcome",
                "authority",
                "reference",
                "priority",
                "assignee_id",
                "due_at",
                "closed_at",
                "duplicate_of",
                "report_count",
                "version",
                "created_at",
                "updated_at",
            ],
        )
        print(f"  reports {len(reports):,} copied in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        root = units[0]
        provinces = [u for u in units if u[3] == "provincial"]
        audiences = [root, root, *rng.sample(provinces, 18)]
        active_by_path: list[tuple[str, uuid.UUID]] = []
        unit_path = {u[0]: u[5] for u in units}
        for m in members:
            if m[7] == "active":
                active_by_path.append((unit_path[m[5]], m[0]))
        acks = []
        for d, audience in enumerate(audiences):
            doc_id = uuid.uuid4()
            await conn.execute(
                "INSERT INTO documents (id, code, title, search_text, doc_type, issuer, "
                "issued_on, summary, body,"
                " audience_unit_id, requires_ack, status, revision, published_at, version, "
                "created_at,"
                " updated_at) VALUES ($1, $2, $3, $4, 'guidance', 'Ban Bí thư', $5, NULL, 'Nội "
                "dung', $6, true,"
                " 'published', 1, $7, 1, $7, $7)",
                doc_id,
                f"{d + 1}-HD/TW",
                f"Văn bản {d + 1}",
                f"{d + 1}-hd/tw van ban {d + 1}",
                now.date(),
                audience[0],
                now,
            )
            for path, member_id in active_by_path:
                if path.startswith(audience[5]) and rng.random() < 0.4:
                    acks.append((uuid.uuid4(), doc_id, 1, member_id, now, now, now))
        await conn.copy_records_to_table(
            "document_acknowledgements",
            records=acks,
            columns=[
                "id",
                "document_id",
                "revision",
                "member_id",
                "acknowledged_at",
                "created_at",
                "updated_at",
            ],
        )
        print(
            f"  20 documents and {len(acks):,} acknowledgements in {time.perf_counter() - t:.1f} s"
        )
        admin_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO users (id, username, password_hash, active, token_version, version, "
            "created_at,"
            " updated_at) VALUES ($1, 'bench.admin', $2, true, 1, 1, $3, $3)",
            admin_id,
            hash_password("bench-password"),
            now,
        )
        await conn.execute(
            "INSERT INTO grants (id, user_id, role, unit_id, created_at) VALUES ($1, $2, "
            "'admin', NULL, $3)",
            uuid.uuid4(),
            admin_id,
            now,
        )
        await conn.execute("ANALYZE")
        province = provinces[0]
        cell = next(u for u in units if u[3] == "cell")
        # The sync is a province's roster (as in bench/roster_sync.py): its cells only.
        cells = [u[0] for u in units if u[3] == "cell" and u[5].startswith(province[5])]
        return {
            "root": root,
            "province": province,
            "cell": cell,
            "cells": cells,
            "codes": {u[0]: u[1] for u in units},
        }
    finally:
        await conn.close()


NAIVE_SQL = """
WITH scope AS (SELECT id, substr(path, 1, length($1) + 33) AS prefix FROM units
               WHERE path > $1 AND path < $2)
SELECT s.prefix,
       count(*) FILTER (WHERE m.status = 'active') AS members_active,
       count(*) FILTER (WHERE m.status = 'active' AND m.is_leader) AS leaders_active,
       count(*) FILTER (WHERE m.status = 'active' AND m.declaration <> 'not_declared') AS declared,
       count(*) FILTER (WHERE m.status = 'active' AND EXISTS (
           SELECT 1 FROM social_accounts a
           WHERE a.member_id = m.id AND a.claim_key IS NOT NULL)) AS with_accounts,
       (SELECT count(*) FROM social_accounts a JOIN members mm ON mm.id = a.member_id
         JOIN scope s2 ON s2.id = mm.unit_id
         WHERE s2.prefix = s.prefix AND a.claim_key IS NOT NULL) AS accounts,
       (SELECT count(*) FROM reports r JOIN scope s3 ON s3.id = r.unit_id
         WHERE s3.prefix = s.prefix) AS reports
FROM members m JOIN scope s ON s.id = m.unit_id
GROUP BY s.prefix
"""


async def naive(url: str, root_path: str) -> float:
    conn = await asyncpg.connect(url)
    try:
        times = []
        for _ in range(3):
            t = time.perf_counter()
            await conn.fetch(NAIVE_SQL, root_path, root_path[:-1] + "0")
            times.append(time.perf_counter() - t)
        return statistics.median(times)
    finally:
        await conn.close()


async def recount(url: str) -> float:
    import os

    os.environ["QD85_DATABASE_URL"] = url.replace("postgresql://", "postgresql+asyncpg://")
    from api.core.config import get_settings
    from api.core.db import db
    from api.services.counters import recount_all

    get_settings.cache_clear()
    t = time.perf_counter()
    async with db.sessionmaker() as session, session.begin():
        await recount_all(session)
    elapsed = time.perf_counter() - t
    await db.dispose()
    return elapsed


async def upkeep(
    sa_url: str, cells: list[uuid.UUID], codes: dict[uuid.UUID, str], rows: int, rounds: int
) -> tuple[float, float]:
    """Median apply time of a `rows`-row upsert of new members, with the counters kept
    (as shipped) and with counters.touch made a no-op, alternating, in-process (the same
    ASGI app and code path as over HTTP, without the network)."""
    import os

    os.environ["QD85_DATABASE_URL"] = sa_url
    os.environ["QD85_MAX_ROSTER_BODY"] = str(200_000_000)
    os.environ["QD85_LOG_REQUESTS"] = "false"
    from api.core.config import get_settings

    get_settings.cache_clear()
    from api.core.db import db
    from api.main import create_app
    from api.services import counters

    real_touch = counters.touch

    async def no_touch(*_args: object, **_kwargs: object) -> None:
        return None

    app = create_app()
    rng = random.Random(11)
    timings: dict[bool, list[float]] = {True: [], False: []}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", timeout=600
    ) as client:
        token = (
            await client.post(
                "/api/v1/auth/token",
                data={
                    "grant_type": "password",
                    "username": "bench.admin",
                    "password": "bench-password",
                },
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
        batch = 0
        for _ in range(rounds):
            for keep in (False, True):
                batch += 1
                lines = ["external_id,full_name,unit_code,membership"]
                for i in range(rows):
                    unit = cells[rng.randrange(len(cells))]
                    lines.append(
                        f"UP{batch:02d}{i:07d},{vietnamese_name(rng)},{codes[unit]},official"
                    )
                body = ("\n".join(lines) + "\n").encode()
                r = await client.post(
                    "/api/v1/roster/syncs", params={"mode": "upsert"}, content=body, headers=headers
                )
                r.raise_for_status()
                counters.touch = real_touch if keep else no_touch  # type: ignore[assignment]
                t = time.perf_counter()
                r = await client.post(
                    f"/api/v1/roster/syncs/{r.json()['id']}/apply", headers=headers
                )
                timings[keep].append(time.perf_counter() - t)
                counters.touch = real_touch  # type: ignore[assignment]
                r.raise_for_status()
    await db.dispose()
    return statistics.median(timings[False]), statistics.median(timings[True])


def measure(port: int, token: str, unit_id: uuid.UUID, n: int) -> tuple[float, float]:
    times = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        headers = {"Authorization": f"Bearer {token}"}
        for i in range(n + 3):
            t = time.perf_counter()
            r = client.get(
                "/api/v1/stats/compliance", params={"unit_id": str(unit_id)}, headers=headers
            )
            elapsed = time.perf_counter() - t
            r.raise_for_status()
            if i >= 3:  # warm-up
                times.append(elapsed * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--sync-rows", type=int, default=100_000)
    parser.add_argument("--sync-rounds", type=int, default=2)
    parser.add_argument("--skip-upkeep", action="store_true")
    args = parser.parse_args()

    raw_url = dsn(args.pg, DB_NAME)
    sa_url = raw_url.replace("postgresql://", "postgresql+asyncpg://")
    print(f"building {args.members:,} members in {args.units:,} units …")
    asyncio.run(recreate_database(args.pg, DB_NAME))
    try:
        migrate(sa_url)
        ids = asyncio.run(populate(raw_url, args.members, args.units))
        rebuilt = asyncio.run(recount(raw_url))
        print(f"  counters rebuilt from scratch (qd85 recount) in {rebuilt:.1f} s")
        root, province, cell = ids["root"], ids["province"], ids["cell"]  # type: ignore[misc]
        naive_s = asyncio.run(naive(raw_url, root[5]))  # type: ignore[index]
        server = Server(sa_url, args.port, 2)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{args.port}") as client:
                token = client.post(
                    "/api/v1/auth/token",
                    data={
                        "grant_type": "password",
                        "username": "bench.admin",
                        "password": "bench-password",
                    },
                ).json()["access_token"]
            results = {
                name: measure(args.port, token, unit[0], args.requests)  # type: ignore[index]
                for name, unit in (("root", root), ("province", province), ("cell", cell))
            }
        finally:
            server.stop()
        upkept = None
        if not args.skip_upkeep:
            upkept = asyncio.run(
                upkeep(
                    sa_url,
                    ids["cells"],
                    ids["codes"],
                    args.sync_rows,  # type: ignore[arg-type]
                    args.sync_rounds,
                )
            )
        print()
        print("| measure | median | p95 | target |")
        print("|---|---|---|---|")
        print(f"| naive SQL, root per-child figures | {naive_s * 1000:,.0f} ms | | |")
        for name, (median, p95) in results.items():
            target = " < 50 ms" + (" ✔" if median < 50 else " ✘") if name == "root" else ""
            print(f"| API /stats/compliance {name} | {median:.1f} ms | {p95:.1f} ms |{target} |")
        if upkept is not None:
            without, kept = upkept
            extra = (kept - without) / without * 100
            verdict = "✔" if extra <= 20 else "✘"
            print(f"| {args.sync_rows:,}-row roster apply without counters | {without:.2f} s | | |")
            print(f"| same with counters kept | {kept:.2f} s | | +{extra:.0f}% (≤ 20%) {verdict} |")
    finally:
        if not args.keep:
            asyncio.run(drop_database(args.pg, DB_NAME))


if __name__ == "__main__":
    sys.exit(main())
