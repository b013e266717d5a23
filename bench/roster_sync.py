"""Roster sync benchmark (issue 3), on PostgreSQL, in one run:

1. a province-like tree (a province, 200 communes, ~4,800 party cells: 5,000 units) and
   a roster of 100,000 members with realistic Vietnamese names (CSV, Vietnamese headers,
   UTF-8 with BOM);
2. the floor: raw COPY of the same 100,000 member rows (keys precomputed) into a scratch
   table shaped and indexed like `members` (`CREATE TABLE … (LIKE members INCLUDING ALL)`);
3. over HTTP against `qd85 serve --workers 2`: a snapshot preview of the roster, its
   apply, a no-op resend (preview of the same body), a resend with 5% of the rows
   changed (preview + apply);
4. the server workers' peak resident memory (VmHWM from /proc/<pid>/status, reset after
   start-up so that it measures the syncs);
5. unless --skip-million: an upsert of 1,000,000 rows (the 100,000 plus 900,000 new),
   preview + apply, timed. Such a CSV is ~80 MB, over the 50 MB body limit, so the bench
   server runs with QD85_MAX_ROSTER_BODY=200000000 (said in the output).

6. unless --xlsx-rows 0: the roster (and new rows up to 200,000) as a CSV and as an XLSX,
   previewed side by side on a 1-worker server, the XLSX while another thread asks
   `/healthz` every 20 ms: parsing runs in a worker thread (api/core/offload.py), and the
   sheet itself in a child process (api/services/sheet_child.py), so the worker keeps
   answering (issue 13).

Targets: preview + apply of the first import within 10x the COPY time; the no-op preview
within 5x; server peak memory under 500 MB; /healthz p99 under 100 ms during the XLSX
preview; the XLSX preview within 2x the CSV preview of the same rows (issue 22).

    .venv/bin/python bench/roster_sync.py [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                                        [--members 100000] [--units 5000] [--skip-million]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
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
    vietnamese_name,
)

DB_NAME = "qd85_bench_roster"
HEADERS = [
    "STT",
    "Mã đảng viên",
    "Họ và tên",
    "Chi bộ",
    "Loại đảng viên",
    "Chức vụ",
    "Email",
    "Số điện thoại",
    "Cấp ủy",
]
POSITIONS = ["Bí thư chi bộ", "Phó bí thư chi bộ", "Chi ủy viên", "Trưởng thôn", "Cán bộ"]
MEMBER_COLUMNS = [
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
]


async def populate_units(
    url: str, units_count: int
) -> tuple[str, list[tuple[uuid.UUID, str]], uuid.UUID]:
    """The tree; returns (province code, cells as (id, code), partner client id)."""
    from api.core.text_vi import fold
    from api.services.units import child_path

    conn = await asyncpg.connect(url)
    try:
        now = datetime.now(UTC)
        root = uuid.uuid4()
        province = uuid.uuid4()
        rows = [
            (root, "TW", "Trung ương", "central", None, child_path(None, root), 0),
            (
                province,
                "HN",
                "Đảng bộ Thành phố",
                "provincial",
                root,
                child_path(child_path(None, root), province),
                1,
            ),
        ]
        communes = []
        for c in range(200):
            cid = uuid.uuid4()
            path = rows[1][5] + cid.hex + "/"
            communes.append((cid, path))
            rows.append((cid, f"HN.X{c:03d}", f"Đảng bộ xã {c}", "grassroots", province, path, 2))
        cells = []
        for c in range(units_count - len(rows)):
            cid = uuid.uuid4()
            parent, ppath = communes[c % len(communes)]
            code = f"HN.C{c:05d}"
            cells.append((cid, code))
            rows.append((cid, code, f"Chi bộ {c}", "cell", parent, ppath + cid.hex + "/", 3))
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
                for u in rows
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
        client_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO api_clients (id, client_id, name, secret_hash, role, unit_id, active,"
            " token_version, version, created_at, updated_at)"
            " VALUES ($1, 'bench-partner', 'Bench partner', 'x', 'partner', $2, true, 1, 1, "
            "$3, $3)",
            client_id,
            province,
            now,
        )
        await conn.execute("ANALYZE")
        return "HN", cells, client_id
    finally:
        await conn.close()


def roster_rows(
    n: int, cells: list[tuple[uuid.UUID, str]], seed: int, start: int = 0
) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(start, start + n):
        leader = rng.random() < 0.12
        rows.append(
            [
                f"HN{i:08d}",
                vietnamese_name(rng),
                rng.choice(cells)[1],
                "dự bị" if rng.random() < 0.08 else "chính thức",
                rng.choice(POSITIONS) if leader else "",
                f"dv{i}@hanoi.dcs.vn" if rng.random() < 0.3 else "",
                f"09{rng.randrange(10**8):08d}" if rng.random() < 0.6 else "",
                "x" if leader else "",
            ]
        )
    return rows


def to_xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADERS)
    for i, row in enumerate(rows, start=1):
        sheet.append([i, *row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def probed(port: int, work: Callable[[], object]) -> tuple[object, list[float]]:
    """Run `work` while another thread asks `/healthz` every 20 ms; the work's result
    and the probes' latencies (ms)."""
    latencies: list[float] = []
    done = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            while not done.is_set():
                started = time.perf_counter()
                client.get("/healthz").raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)
                time.sleep(0.02)

    thread = threading.Thread(target=probe)
    thread.start()
    try:
        result = work()
    finally:
        done.set()
        thread.join()
    return result, latencies


def to_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADERS)
    for i, row in enumerate(rows, start=1):
        writer.writerow([i, *row])
    return b"\xef\xbb\xbf" + out.getvalue().encode()


async def copy_floor(url: str, rows: list[list[str]], cells: list[tuple[uuid.UUID, str]]) -> float:
    """Seconds to COPY the rows, as member records with keys precomputed, into a scratch
    table shaped and indexed like `members`."""
    from api.core.text_vi import fold, name_sort_key
    from api.schemas.common import normalize_phone

    unit_of = {code: uid for uid, code in cells}
    now = datetime.now(UTC)
    records = [
        (
            uuid.uuid4(),
            r[0],
            r[1],
            fold(r[1]),
            name_sort_key(r[1]),
            unit_of[r[2]],
            "probationary" if r[3] == "dự bị" else "official",
            "active",
            r[4] or None,
            bool(r[7]),
            r[5] or None,
            normalize_phone(r[6]) if r[6] else None,
            "not_declared",
            None,
            1,
            now,
            now,
        )
        for r in rows
    ]
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP TABLE IF EXISTS copy_floor")
        await conn.execute("CREATE TABLE copy_floor (LIKE members INCLUDING ALL)")
        started = time.perf_counter()
        await conn.copy_records_to_table("copy_floor", records=records, columns=MEMBER_COLUMNS)
        elapsed = time.perf_counter() - started
        await conn.execute("DROP TABLE copy_floor")
        return elapsed
    finally:
        await conn.close()


def server_tree(pid: int) -> list[int]:
    """The server process and its descendants (uvicorn's supervisor and workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def reset_peaks(pid: int) -> bool:
    """Reset VmHWM of the server's processes (`echo 5 > /proc/PID/clear_refs`, Linux), so
    the peak reported is that of the syncs, not of start-up (imports peak at ~140 MB)."""
    done = True
    for p in server_tree(pid):
        try:
            with open(f"/proc/{p}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            done = False
    return done


def peak_rss_mb(pid: int) -> dict[int, float]:
    """VmHWM (peak resident set) of each process of the server, in MB."""
    peaks = {}
    for p in server_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peaks[p] = int(line.split()[1]) / 1024
        except OSError:
            continue
    return peaks


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.client = httpx.Client(
            base_url=base, timeout=1800, headers={"Authorization": f"Bearer {token}"}
        )

    def sync(
        self, body: bytes, content_type: str = "text/csv", **params: str
    ) -> tuple[float, dict[str, object]]:
        started = time.perf_counter()
        r = self.client.post(
            "/api/v1/roster/syncs",
            content=body,
            params=params,
            headers={"Content-Type": content_type},
        )
        elapsed = time.perf_counter() - started
        if r.status_code != 201:
            raise SystemExit(f"sync failed: {r.status_code} {r.text[:500]}")
        return elapsed, r.json()

    def apply(self, sync_id: str, **params: str) -> tuple[float, dict[str, object]]:
        started = time.perf_counter()
        r = self.client.post(f"/api/v1/roster/syncs/{sync_id}/apply", params=params)
        elapsed = time.perf_counter() - started
        if r.status_code != 200:
            raise SystemExit(f"apply failed: {r.status_code} {r.text[:500]}")
        return elapsed, r.json()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--million", type=int, default=1_000_000, help="rows of the large upsert")
    parser.add_argument("--skip-million", action="store_true", help="skip the large upsert")
    parser.add_argument(
        "--xlsx-rows",
        type=int,
        default=200_000,
        help="rows of the XLSX previewed while /healthz is probed (0: skip)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    os.environ["QD85_SECRET_KEY"] = BENCH_SECRET
    raw_url = dsn(args.pg, DB_NAME)
    sa_url = raw_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    asyncio.run(recreate_database(args.pg, DB_NAME))
    server = None
    figures: dict[str, float] = {}
    try:
        migrate(sa_url)
        scope, cells, client_id = asyncio.run(populate_units(raw_url, args.units))
        print(f"{len(cells) + 202:,} units; generating {args.members:,} members ...", flush=True)
        rows = roster_rows(args.members, cells, seed=85)
        body = to_csv(rows)
        print(f"CSV body: {len(body) / 1e6:.1f} MB", flush=True)
        figures["copy"] = asyncio.run(copy_floor(raw_url, rows, cells))
        print(
            f"COPY floor: {figures['copy']:.2f} s ({args.members / figures['copy']:,.0f} rows/s)",
            flush=True,
        )

        from api.core.security import create_access_token

        token, _ = create_access_token(client_id, "client", 1)
        server = Server(
            sa_url,
            args.port,
            args.workers,
            QD85_MAX_ROSTER_BODY="200000000",
            QD85_LOG_REQUESTS="false",
        )
        startup = max(peak_rss_mb(server.proc.pid).values())
        reset = reset_peaks(server.proc.pid)
        api = Api(f"http://127.0.0.1:{args.port}", token)
        snapshot = {"mode": "snapshot", "scope_unit_code": scope}

        figures["preview"], sync = api.sync(body, **snapshot)
        print(f"snapshot preview: {figures['preview']:.2f} s  counts {sync['counts']}", flush=True)
        figures["apply"], sync = api.apply(str(sync["id"]))
        print(f"apply:            {figures['apply']:.2f} s  status {sync['status']}", flush=True)
        figures["noop"], sync = api.sync(body, **snapshot)
        print(f"no-op preview:    {figures['noop']:.2f} s  counts {sync['counts']}", flush=True)

        rng = random.Random(5)
        changed = [list(r) for r in rows]
        for i in rng.sample(range(len(changed)), len(changed) // 20):
            kind = rng.random()
            if kind < 0.4:
                changed[i][1] = vietnamese_name(rng)
            elif kind < 0.8:
                changed[i][2] = rng.choice(cells)[1]
            else:
                changed[i][6] = f"03{rng.randrange(10**8):08d}"
        body5 = to_csv(changed)
        figures["p5"], sync = api.sync(body5, **snapshot)
        figures["a5"], sync5 = api.apply(str(sync["id"]))
        print(
            f"5% changed:       preview {figures['p5']:.2f} s + apply {figures['a5']:.2f} s  "
            f"counts {sync5['counts']}",
            flush=True,
        )
        peaks_100k = peak_rss_mb(server.proc.pid)

        if not args.skip_million:
            extra = roster_rows(args.million - args.members, cells, seed=86, start=args.members)
            big = to_csv(changed + extra)
            del extra
            print(f"1M upsert body: {len(big) / 1e6:.1f} MB", flush=True)
            figures["p1m"], sync = api.sync(big, mode="upsert", scope_unit_code=scope)
            figures["a1m"], sync = api.apply(str(sync["id"]))
            print(
                f"1M upsert:        preview {figures['p1m']:.2f} s + apply {figures['a1m']:.2f} s  "
                f"counts {sync['counts']}",
                flush=True,
            )
        peaks = peak_rss_mb(server.proc.pid)
        server.stop()
        server = None
        if args.xlsx_rows:
            extra = roster_rows(
                max(0, args.xlsx_rows - len(changed)), cells, seed=87, start=args.members
            )
            same = (changed + extra)[: args.xlsx_rows]
            xlsx = to_xlsx(same)
            same_csv = to_csv(same)
            del extra, same
            print(
                f"XLSX body: {args.xlsx_rows:,} rows, {len(xlsx) / 1e6:.1f} MB (the same rows as "
                f"CSV: {len(same_csv) / 1e6:.1f} MB); previewed on a 1-worker server, the XLSX "
                f"while /healthz is probed ...",
                flush=True,
            )
            port = free_port()
            server = Server(
                sa_url, port, 1, QD85_MAX_ROSTER_BODY="200000000", QD85_LOG_REQUESTS="false"
            )
            xlsx_api = Api(f"http://127.0.0.1:{port}", token)
            # The same rows as CSV first, side by side (issue 22: XLSX within 2x of CSV).
            figures["csv_same"], sync = xlsx_api.sync(
                same_csv, mode="upsert", scope_unit_code=scope
            )
            print(
                f"CSV preview:      {figures['csv_same']:.2f} s  counts {sync['counts']}",
                flush=True,
            )
            reset_peaks(server.proc.pid)
            figures["xlsx_same"], sync = xlsx_api.sync(
                xlsx,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                mode="upsert",
                scope_unit_code=scope,
            )
            print(
                f"XLSX preview:     {figures['xlsx_same']:.2f} s  counts {sync['counts']}",
                flush=True,
            )
            figures["xlsx_rss"] = max(peak_rss_mb(server.proc.pid).values())
            # Again, while /healthz is probed (the probes take CPU: not the side-by-side).
            started = time.perf_counter()
            (_, sync), health = probed(
                port,
                lambda: xlsx_api.sync(  # type: ignore[misc]
                    xlsx,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    mode="upsert",
                    scope_unit_code=scope,
                ),
            )
            figures["xlsx"] = time.perf_counter() - started
            health.sort()
            figures["health_p50"] = health[len(health) // 2]
            figures["health_p99"] = health[min(len(health) - 1, int(len(health) * 0.99))]
            figures["health_max"] = health[-1]
            figures["health_n"] = len(health)
            print(f"XLSX, probed:     {figures['xlsx']:.2f} s  counts {sync['counts']}", flush=True)
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            asyncio.run(drop_database(args.pg, DB_NAME))

    copy = figures["copy"]
    first = figures["preview"] + figures["apply"]
    print(
        f"\n{args.members:,} members in {args.units:,} units, CSV over HTTP, {args.workers} workers"
    )
    print(f"  COPY floor                {copy:7.2f} s   {args.members / copy:9,.0f} rows/s")
    print(f"  snapshot preview          {figures['preview']:7.2f} s")
    print(f"  apply                     {figures['apply']:7.2f} s")
    print(
        f"  preview + apply           {first:7.2f} s   {first / copy:5.1f}x COPY (target <= 10x: "
        f"{'met' if first <= 10 * copy else 'MISSED'})"
    )
    print(
        f"  no-op preview             {figures['noop']:7.2f} s   {figures['noop'] / copy:5.1f}x "
        "COPY "
        f"(target <= 5x: {'met' if figures['noop'] <= 5 * copy else 'MISSED'})"
    )
    print(f"  5% changed preview+apply  {figures['p5'] + figures['a5']:7.2f} s")
    worst100k = max(peaks_100k.values())
    worst = max(peaks.values())
    print(
        f"  server peak RSS (100k)    {worst100k:7.0f} MB  (max over {len(peaks_100k)} processes; "
        f"target < 500 MB: {'met' if worst100k < 500 else 'MISSED'})"
    )
    print(
        f"  (start-up peak {startup:.0f} MB; peaks "
        f"{'reset after start-up' if reset else 'NOT reset: include start-up'})"
    )
    print(
        "  per process peak RSS (MB): "
        + ", ".join(f"{pid}: {mb:.0f}" for pid, mb in sorted(peaks.items()))
    )
    if "xlsx" in figures:
        print(
            f"  {args.xlsx_rows:,}-row XLSX preview {figures['xlsx']:5.2f} s; /healthz on the same "
            f"1-worker server meanwhile ({figures['health_n']:.0f} probes): p50 "
            f"{figures['health_p50']:.1f} ms, p99 {figures['health_p99']:.1f} ms, max "
            f"{figures['health_max']:.0f} ms (target p99 < 100 ms: "
            f"{'met' if figures['health_p99'] < 100 else 'MISSED'})"
        )
        ratio = figures["xlsx_same"] / figures["csv_same"]
        print(
            f"  the same rows: CSV preview {figures['csv_same']:5.2f} s, XLSX preview "
            f"{figures['xlsx_same']:5.2f} s = {ratio:.2f}x CSV (target <= 2x: "
            f"{'met' if ratio <= 2 else 'MISSED'}); worker peak RSS during the XLSX preview "
            f"{figures['xlsx_rss']:.0f} MB (the sheet itself is read in a child process capped "
            f"at 200 MiB)"
        )
    if "p1m" in figures:
        print(
            f"  1M-row upsert             {figures['p1m'] + figures['a1m']:7.2f} s   (preview "
            f"{figures['p1m']:.1f} s + apply {figures['a1m']:.1f} s; body limit raised to 200 MB)"
        )
        print(f"  server peak RSS (all)     {worst:7.0f} MB")


if __name__ == "__main__":
    main()
