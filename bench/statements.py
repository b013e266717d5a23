"""Database load per request (issue 18's sizing): how many SQL statements, and how many
of them write, each operation of `bench/load.py`'s mix sends to PostgreSQL.

A scratch PostgreSQL database is seeded with `bench/load.py`'s world (smaller), the app
runs in this process (httpx's ASGI transport: no server, no folder task), and one client
runs the mix sequentially for `--requests` requests while a SQLAlchemy event counts the
statements of each request. A statement is one round trip to the database; each
transaction adds two more, BEGIN and COMMIT, not counted here. The figures are per
request, averaged over the operation's requests (a replay answered from the idempotency
record is its own operation); the last column is the median time of one request, alone
on the machine: what the operation costs (in-process: no HTTP parsing, no network).

    .venv/bin/python bench/statements.py [--pg postgresql://postgres@127.0.0.1:5432/postgres]
        [--requests 2000] [--members 20000] [--show declare_account]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import BENCH_SECRET, drop_database, dsn, migrate, recreate_database
from bench.load import Workload, populate, recount

DB_NAME = "qd85_bench_statements"
WRITES = ("INSERT", "UPDATE", "DELETE")


class Counted(Workload):
    """The mix, one request at a time, with every statement counted against the
    operation of the request in flight."""

    def __init__(self, app: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__("http://bench", *args, clients=1, **kwargs)
        self.app = app
        self.current = ""
        self.statements: dict[str, list[int]] = defaultdict(list)  # op -> [all, writes]
        self.requests: dict[str, int] = defaultdict(int)
        self.show = ""
        self.shown: list[str] = []

    def on_statement(self, statement: str) -> None:
        if self.current == self.show and self.requests[self.current] == 1:
            self.shown.append(" ".join(statement.split())[:160])
        counts = self.statements.setdefault(self.current, [0, 0])
        counts[0] += 1
        counts[1] += statement.lstrip().split(None, 1)[0].upper() in WRITES

    async def request(self, op: str, *args: Any, **kwargs: Any) -> httpx.Response | None:
        self.current = op
        self.requests[op] += 1
        return await super().request(op, *args, **kwargs)

    async def run_requests(self, total: int) -> None:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url=self.base_url) as client:
            self._client = client
            rng = random.Random(7)
            while sum(self.requests.values()) < total:
                await self.step(rng)


async def measure(sa_url: str, raw_url: str, args: argparse.Namespace) -> Counted:
    from sqlalchemy import event

    from api.core.db import db
    from api.main import create_app

    world = await populate(
        raw_url,
        members=args.members,
        provinces=2,
        districts=5,
        cells=10,
        member_users=2_000,
        seeded_reports=600,
    )
    await recount(sa_url)
    app = create_app()
    workload = Counted(app, world)
    workload.show = args.show

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        workload.on_statement(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    await workload.run_requests(args.requests)
    await db.dispose()
    return workload


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--pg-url", "--pg", dest="pg", default="postgresql://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument(
        "--show", default="", help="print the statements of this operation's first request"
    )
    args = parser.parse_args()
    raw_url = dsn(args.pg, DB_NAME)
    sa_url = raw_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    os.environ.update(
        {
            "QD85_DATABASE_URL": sa_url,
            "QD85_SECRET_KEY": BENCH_SECRET,
            "QD85_ENV": "development",
            "QD85_LOG_REQUESTS": "false",
        }
    )
    asyncio.run(recreate_database(args.pg, DB_NAME))
    try:
        migrate(sa_url)
        workload = asyncio.run(measure(sa_url, raw_url, args))
    finally:
        asyncio.run(drop_database(args.pg, DB_NAME))
    failed = [s for s in workload.samples if not isinstance(s.status, int) or s.status >= 500]
    print(f"\n{sum(workload.requests.values()):,} requests, one at a time, in process\n")
    print(
        f"{'operation':<20} {'requests':>9} {'statements':>11} {'of them writes':>15} "
        f"{'ms (median)':>12}"
    )
    for op in sorted(workload.requests, key=lambda o: -workload.requests[o]):
        n = workload.requests[op]
        total, writes = workload.statements.get(op, [0, 0])
        ms = statistics.median(s.seconds * 1000 for s in workload.samples if s.op == op)
        print(f"{op:<20} {n:>9,} {total / n:>11.1f} {writes / n:>15.1f} {ms:>12.1f}")
    if workload.shown:
        print(f"\nthe statements of one {args.show}:")
        print("\n".join(f"  {n}. {text}" for n, text in enumerate(workload.shown, 1)))
    if failed:
        print(f"FAIL: {len(failed)} answers were 5xx or transport errors")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
