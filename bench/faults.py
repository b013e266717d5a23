"""Faults (issue 8): PostgreSQL stopped and restarted under load, and a roster apply
interrupted mid-way. Runs against a throwaway PostgreSQL cluster of its own (initdb into a
temporary directory, a free port of 127.0.0.1), never against a shared server:

1. the load of bench/load.py (same dataset, same mix, `--clients` clients) against
   `qd85 serve --workers 2`; after `--warmup` seconds PostgreSQL is stopped
   (`pg_ctl stop -m fast`, or `--stop-mode immediate`: a crash) for `--outage` seconds,
   then started again; the load goes on for `--after` seconds. A prober asks `/readyz`,
   `/healthz` and a normal read every 0.2 s. Checks:
   - during the outage every answer is a normal one (requests that got their data in
     time) or a 503 `application/problem+json` with code `service_unavailable` and
     `Retry-After`; no other 5xx, no transport error; every 503 comes within `--bound`
     seconds of the stop (or of its request);
   - `/readyz` answers 503 during the outage, `/healthz` 200 throughout;
   - after the restart, without restarting uvicorn, `/readyz` and a normal read answer
     200 within `--recover-bound` seconds, and no 5xx follows later in the run;
   - every write that got a 2xx is in the database; the statistics equal a recount.
2. a roster sync preview of `--roster-rows` new members, applied while PostgreSQL is
   stopped (`-m immediate`) mid-apply, and another one whose apply's backend is killed
   (`pg_terminate_backend`). Checks, for each: the apply answers a 503 problem, the
   members table (a checksum of every member's columns) and the units equal the snapshot
   taken before the apply, the sync is still `previewed`, and a retry of the apply after
   recovery answers 200 `applied` with every member created.

    .venv/bin/python bench/faults.py [--outage 10] [--clients 64] [--stop-mode fast]

Needs the PostgreSQL 15 binaries (`--pg-bin /usr/lib/postgresql/15/bin`). PostgreSQL does
not run as root: as root the cluster runs as the `postgres` user (`runuser`). Exit status
1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import os
import pwd
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import Server, free_port, migrate, vietnamese_name
from bench.load import (
    KEEPALIVE_SECONDS,
    Sample,
    Workload,
    World,
    add_world_arguments,
    bench_environment,
    build_world,
    percentile,
    print_figures,
    recount,
    settle,
    stats_equal_recount,
    verify_writes,
)

DB_NAME = "qd85_faults"


# --------------------------------------------------------------------------- PostgreSQL


class Cluster:
    """A throwaway PostgreSQL cluster: initdb into a temporary directory, served on a
    free port of 127.0.0.1 (socket in the same directory), trust authentication."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="qd85-faults-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "-N",
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.dir}'\nmax_connections = 200\n"
                "shared_buffers = 128MB\nfsync = off\nfull_page_writes = off\n"
            )
        self.server_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _cmd(self, tool: str, *args: str) -> list[str]:
        cmd = [str(self.bin / tool), *args]
        return ["runuser", "-u", self.user, "--", *cmd] if self.user else cmd

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            self._cmd(tool, *args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self, mode: str) -> None:
        await asyncio.to_thread(self.stop, mode)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.running():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------- outage


@dataclass
class Probe:
    at: float
    what: str  # readyz | healthz | read
    status: int | str
    code: str | None
    seconds: float


@dataclass
class Outage:
    stop_at: float = 0.0  # pg_ctl stop issued
    stopped_at: float = 0.0  # pg_ctl stop returned
    start_at: float = 0.0  # pg_ctl start issued
    up_at: float = 0.0  # pg_ctl start returned (accepting connections)
    probes: list[Probe] = field(default_factory=list)


async def probe(base: str, world: World, outage: Outage, until: float) -> None:
    member = world.members_by_district[0][0]
    reads = {"Authorization": f"Bearer {world.reviewer_tokens[0]}"}
    limits = httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        while time.monotonic() < until:
            for what, url, headers in (
                ("readyz", "/readyz", {}),
                ("healthz", "/healthz", {}),
                ("read", f"/api/v1/members/{member}", reads),
            ):
                t0 = time.monotonic()
                try:
                    r = await client.get(url, headers=headers)
                    code = r.json().get("code") if r.status_code >= 400 else None
                    outage.probes.append(
                        Probe(t0, what, r.status_code, code, time.monotonic() - t0)
                    )
                except (httpx.HTTPError, ValueError) as exc:
                    outage.probes.append(
                        Probe(t0, what, type(exc).__name__, None, time.monotonic() - t0)
                    )
            await asyncio.sleep(0.2)


async def outage_run(
    cluster: Cluster, base: str, world: World, args: argparse.Namespace
) -> tuple[Workload, Outage, float]:
    workload = Workload(base, world, clients=args.clients, seed=2, timeout=args.timeout)
    outage = Outage()
    total = args.warmup + args.outage + args.after

    async def fault() -> None:
        await asyncio.sleep(args.warmup)
        outage.stop_at = time.monotonic()
        print(
            f"  t={outage.stop_at - t0:5.1f} s  stopping PostgreSQL (-m {args.stop_mode})",
            flush=True,
        )
        await cluster.astop(args.stop_mode)
        outage.stopped_at = time.monotonic()
        await asyncio.sleep(max(0.0, args.outage - (outage.stopped_at - outage.stop_at)))
        outage.start_at = time.monotonic()
        print(f"  t={outage.start_at - t0:5.1f} s  starting PostgreSQL", flush=True)
        await cluster.astart()
        outage.up_at = time.monotonic()
        print(f"  t={outage.up_at - t0:5.1f} s  PostgreSQL accepts connections", flush=True)

    t0 = time.monotonic()
    results = await asyncio.gather(
        workload.run(total), probe(base, world, outage, t0 + total), fault()
    )
    return workload, outage, float(results[0])


def _first_ok(probes: list[Probe], what: str, after: float) -> float | None:
    for p in probes:
        if p.what == what and p.at >= after and p.status == 200:
            return p.at + p.seconds - after
    return None


def check_outage(workload: Workload, outage: Outage, args: argparse.Namespace) -> list[str]:
    failures: list[str] = []
    samples = workload.samples
    during = [
        s for s in samples if s.start + s.seconds >= outage.stop_at and s.start <= outage.up_at
    ]
    later = [s for s in samples if s.start > outage.up_at]
    print(
        f"\noutage: PostgreSQL down {outage.up_at - outage.stop_at:.1f} s "
        f"(stop took {outage.stopped_at - outage.stop_at:.1f} s, start "
        f"{outage.up_at - outage.start_at:.1f} s)"
    )
    answers = Counter(f"{s.status} {s.code}" if s.code else str(s.status) for s in during)
    print(
        "  answers during the outage: " + ", ".join(f"{k}: {v:,}" for k, v in answers.most_common())
    )
    unavailable = [s.seconds * 1000 for s in during if s.status == 503]
    if unavailable:
        print(
            f"  503 answers: p50 {statistics.median(unavailable):.0f} ms, p99 "
            f"{percentile(unavailable, 0.99):.0f} ms, max {max(unavailable):.0f} ms"
        )

    def bad(s: Sample) -> bool:
        if isinstance(s.status, str):
            return True
        if s.status == 503:
            return s.code != "service_unavailable" or s.content_type != "application/problem+json"
        return s.status >= 500

    wrong = [s for s in during if bad(s)]
    if wrong:
        failures.append(
            f"outage: {len(wrong)} answers other than a 503 problem or a normal answer: "
            + ", ".join(
                f"{k}: {v}"
                for k, v in Counter(f"{s.op} {s.status} {s.code}" for s in wrong).most_common(8)
            )
        )
    # No hang: every failure answer (503) to a request in flight at the stop or sent
    # during the outage comes within the bound of the stop (or of the request). Normal
    # answers may come later: their requests waited for the database and were served.
    failed = [s for s in during if isinstance(s.status, str) or s.status >= 500]
    waits = [s.start + s.seconds - max(s.start, outage.stop_at) for s in failed]
    if waits and max(waits) > args.bound:
        failures.append(
            f"outage: {sum(w > args.bound for w in waits)} failure answers came more than "
            f"{args.bound:.0f} s after the stop or the request (max {max(waits):.1f} s)"
        )
    served = [
        s.start + s.seconds - outage.up_at
        for s in during
        if not isinstance(s.status, str) and s.status < 500 and s.start + s.seconds > outage.up_at
    ]
    sent_down = [
        s.seconds * 1000 for s in during if s.start >= outage.stopped_at and s.status == 503
    ]
    if sent_down:
        print(
            f"  503 answers to requests sent while PostgreSQL was down: {len(sent_down):,}, p50 "
            f"{statistics.median(sent_down):.0f} ms, p99 {percentile(sent_down, 0.99):.0f} ms, "
            f"max {max(sent_down):.0f} ms"
        )
    if waits:
        print(f"  longest 503 after the stop or the request: {max(waits):.1f} s")
    if served:
        print(
            f"  {len(served)} requests sent during the outage were served after it, the last "
            f"{max(served):.1f} s after PostgreSQL was back (waiting behind the queued writes)"
        )
    slow = [s for s in samples if s.seconds > args.bound]
    if slow:
        print(
            f"  note: {len(slow)} answers over the whole run took more than {args.bound:.0f} s "
            f"(max {max(s.seconds for s in slow):.1f} s): "
            f"{Counter(s.op for s in slow).most_common(4)}"
        )
    if not any(s.status == 503 for s in during):
        failures.append("outage: no 503 during the outage (did PostgreSQL stop?)")
    if any(s.retry_after is None for s in during if s.status == 503):
        failures.append("outage: a 503 without Retry-After")

    down = [
        p
        for p in outage.probes
        if outage.stopped_at <= p.at and p.at + p.seconds <= outage.start_at
    ]
    ready_down = [p for p in down if p.what == "readyz"]
    if not ready_down or any(
        p.status != 503 or p.code != "service_unavailable" for p in ready_down
    ):
        failures.append(
            f"/readyz during the outage: {Counter(str(p.status) for p in ready_down)} (want "
            "only 503)"
        )
    health = [p for p in outage.probes if p.what == "healthz"]
    if any(p.status != 200 for p in health):
        failures.append(f"/healthz: {Counter(str(p.status) for p in health)} (want only 200)")
    ready_after = _first_ok(outage.probes, "readyz", outage.up_at)
    around = [
        p for p in outage.probes if p.what == "readyz" and p.at + p.seconds >= outage.up_at - 1
    ]
    print(
        "  /readyz probes around the restart (sent at, relative to PostgreSQL up: status in "
        "seconds): "
        + ", ".join(
            f"{p.at - outage.up_at:+.2f}: {p.status} in {p.seconds:.2f}" for p in around[:8]
        )
    )
    read_after = _first_ok(outage.probes, "read", outage.up_at)
    print(
        f"  /readyz during the outage: {Counter(str(p.status) for p in ready_down)}; "
        f"/healthz throughout: {Counter(str(p.status) for p in health)}"
    )
    fmt = lambda v: "never" if v is None else f"{v:.2f} s"  # noqa: E731
    print(
        f"  after PostgreSQL is back: first /readyz 200 after {fmt(ready_after)}, "
        f"first normal read 200 after {fmt(read_after)}"
    )
    for name, value in (("/readyz", ready_after), ("a normal read", read_after)):
        if value is None or value > args.recover_bound:
            failures.append(
                f"recovery: {name} not 200 within {args.recover_bound:.0f} s ({fmt(value)})"
            )
    late_errors = [s for s in later if isinstance(s.status, str) or s.status >= 500]
    settle = outage.up_at + args.recover_bound
    after_settle = [s for s in late_errors if s.start > settle]
    print(
        f"  after the restart: {len(later):,} requests, {len(late_errors)} 5xx/transport errors "
        f"({Counter(f'{s.status} {s.code}' for s in late_errors).most_common(4)}), "
        f"{len(after_settle)} of them more than {args.recover_bound:.0f} s after"
    )
    if after_settle:
        failures.append(
            f"recovery: {len(after_settle)} 5xx more than {args.recover_bound:.0f} s after the "
            "restart"
        )
    wrong_later = [s for s in late_errors if s.status != 503 or s.code != "service_unavailable"]
    if wrong_later:
        failures.append(
            f"after the restart: {len(wrong_later)} answers other than 503 problems: "
            f"{Counter(f'{s.op} {s.status} {s.code}' for s in wrong_later).most_common(5)}"
        )
    return failures


# --------------------------------------------------------------------------- roster apply


MEMBERS_CHECKSUM = (
    "SELECT count(*) AS n, md5(coalesce(string_agg(concat_ws('|', id, external_id, full_name, "
    "name_search,"
    " name_sort, unit_id, membership, status, position, is_leader, email, phone, declaration, "
    "version,"
    " updated_at), ',' ORDER BY id), '')) AS sum FROM members"
)
UNITS_CHECKSUM = (
    "SELECT count(*) AS n, md5(coalesce(string_agg(concat_ws('|', id, code, name, status, version),"
    " ',' ORDER BY id), '')) AS sum FROM units"
)
COUNTERS_CHECKSUM = (
    "SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM"
    " (SELECT * FROM unit_rollups) t"
)


async def roster_state(url: str) -> tuple[Any, ...]:
    conn = await asyncpg.connect(url)
    try:
        m = await conn.fetchrow(MEMBERS_CHECKSUM)
        u = await conn.fetchrow(UNITS_CHECKSUM)
        c = await conn.fetchval(COUNTERS_CHECKSUM)
        return (m["n"], m["sum"], u["n"], u["sum"], c)
    finally:
        await conn.close()


async def partner_token(url: str, world: World) -> tuple[str, str]:
    """A partner client at the first province; (token, province code)."""
    from api.core.security import create_access_token

    conn = await asyncpg.connect(url)
    try:
        province = uuid.UUID(world.province_ids[0])
        code = await conn.fetchval("SELECT code FROM units WHERE id = $1", province)
        client_id = await conn.fetchval(
            "SELECT id FROM api_clients WHERE client_id = 'faults-partner'"
        )
        if client_id is None:
            client_id = uuid.uuid4()
            now = datetime.now(UTC)
            await conn.execute(
                "INSERT INTO api_clients (id, client_id, name, secret_hash, role, unit_id, active,"
                " token_version, version, created_at, updated_at)"
                " VALUES ($1, 'faults-partner', 'Faults partner', 'x', 'partner', $2, true, 1, "
                "1, $3, $3)",
                client_id,
                province,
                now,
            )
        return create_access_token(client_id, "client", 1)[0], str(code)
    finally:
        await conn.close()


def roster_csv(rows: int, cells: list[str], batch: int, seed: int) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Mã đảng viên", "Họ và tên", "Chi bộ", "Loại đảng viên"])
    for i in range(rows):
        writer.writerow(
            [f"F{batch}-{i:07d}", vietnamese_name(rng), rng.choice(cells), "chính thức"]
        )
    return out.getvalue().encode()


async def _apply_backend(url: str, until: float) -> int | None:
    """The pid of the backend running the apply's member INSERT (seen in pg_stat_activity)."""
    conn = await asyncpg.connect(url)
    try:
        while time.monotonic() < until:
            pid = await conn.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state = 'active'"
                " AND pid <> pg_backend_pid() AND query ILIKE 'INSERT INTO members%'",
                DB_NAME,
            )
            if pid is not None:
                return int(pid)
            await asyncio.sleep(0.02)
        return None
    finally:
        await conn.close()


async def interrupted_apply(
    cluster: Cluster,
    base: str,
    raw_url: str,
    admin_url: str,
    world: World,
    args: argparse.Namespace,
    how: str,
    batch: int,
) -> list[str]:
    """Preview a roster, start its apply, interrupt it (`stop`: PostgreSQL stopped
    immediately; `terminate`: pg_terminate_backend on the apply's backend), and check
    that nothing of it stayed and that a retry applies it."""
    failures: list[str] = []
    token, province_code = await partner_token(raw_url, world)
    conn = await asyncpg.connect(raw_url)
    try:
        cells = [
            r["code"]
            for r in await conn.fetch(
                "SELECT u.code FROM units u JOIN units p ON p.id = u.parent_id"
                " WHERE u.level = 'cell' AND p.parent_id = $1",
                uuid.UUID(world.province_ids[0]),
            )
        ]
    finally:
        await conn.close()
    body = roster_csv(args.roster_rows, cells, batch, seed=batch)
    headers = {"Authorization": f"Bearer {token}"}
    label = "PostgreSQL stopped (-m immediate)" if how == "stop" else "pg_terminate_backend"
    async with httpx.AsyncClient(base_url=base, timeout=600, headers=headers) as client:
        t = time.monotonic()
        r = await client.post(
            "/api/v1/roster/syncs",
            content=body,
            params={"mode": "upsert", "scope_unit_code": province_code},
            headers={"Content-Type": "text/csv"},
        )
        if r.status_code != 201:
            return [f"roster ({how}): preview answered {r.status_code} {r.text[:300]}"]
        sync = r.json()
        print(
            f"\nroster apply interrupted by {label}: preview of {args.roster_rows:,} rows in "
            f"{time.monotonic() - t:.1f} s, counts {sync['counts']}",
            flush=True,
        )
        # The counters as folded: the statistics folder merges what earlier writes left
        # pending, which changes the rollups but not the figures.
        if (late := await settle(raw_url)) is not None:
            return [*failures, f"roster ({how}): {late}"]
        before = await roster_state(raw_url)
        apply = asyncio.create_task(client.post(f"/api/v1/roster/syncs/{sync['id']}/apply"))
        t = time.monotonic()
        pid = await _apply_backend(admin_url, t + 60)
        if pid is None or apply.done():
            apply.cancel()
            return [
                f"roster ({how}): the apply was not seen running (finished before it could be "
                "interrupted?)"
            ]
        await asyncio.sleep(args.interrupt_after)
        if apply.done():
            return [
                f"roster ({how}): the apply finished before the interruption; raise --roster-rows"
            ]
        t_cut = time.monotonic()
        if how == "stop":
            await cluster.astop("immediate")
        else:
            admin = await asyncpg.connect(admin_url)
            try:
                await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()
        try:
            answer = await asyncio.wait_for(apply, timeout=args.bound)
        except TimeoutError:
            answer = None
        waited = time.monotonic() - t_cut
        if how == "stop":
            await asyncio.sleep(2)
            await cluster.astart()
        if answer is None:
            failures.append(
                f"roster ({how}): the interrupted apply did not answer within {args.bound:.0f} s"
            )
            status, code = "timeout", None
        else:
            status = answer.status_code
            code = answer.json().get("code") if answer.status_code >= 400 else None
            if status != 503 or code != "service_unavailable":
                failures.append(
                    f"roster ({how}): the interrupted apply answered {status} {answer.text[:300]}"
                )
        print(
            f"  interrupted {t_cut - t:.1f} s into the apply; it answered {status} {code or ''} "
            f"{waited:.2f} s later",
            flush=True,
        )
        ready = await _wait_ready(client, 60)
        if ready is None:
            return [
                *failures,
                f"roster ({how}): /readyz not 200 within 60 s after the interruption",
            ]
        if (late := await settle(raw_url)) is not None:
            return [*failures, f"roster ({how}): {late}"]
        after = await roster_state(raw_url)
        same = before == after
        print(
            f"  members ({before[0]:,}), units and counters after the interruption equal the "
            "snapshot "
            f"before the apply: {same}"
        )
        if not same:
            failures.append(
                f"roster ({how}): the roster changed: before {before[:1]}/{before[1][:8]}, "
                f"after {after[:1]}/{after[1][:8]} (members n/md5)"
            )
        r = await client.get(f"/api/v1/roster/syncs/{sync['id']}")
        state = r.json().get("status") if r.status_code == 200 else r.status_code
        print(f"  the sync is {state!r}", flush=True)
        if state != "previewed":
            failures.append(f"roster ({how}): the sync is {state!r}, not 'previewed'")
        t = time.monotonic()
        retry = await client.post(f"/api/v1/roster/syncs/{sync['id']}/apply")
        applied = retry.status_code == 200 and retry.json().get("status") == "applied"
        final = await roster_state(raw_url)
        grown = final[0] - before[0]
        print(
            f"  retry of the apply: {retry.status_code} "
            f"{retry.json().get('status') or retry.json().get('code')} "
            f"in {time.monotonic() - t:.1f} s; members {before[0]:,} -> {final[0]:,}",
            flush=True,
        )
        if not applied:
            failures.append(
                f"roster ({how}): the retry answered {retry.status_code} {retry.text[:300]}"
            )
        elif grown != sync["counts"]["created"]:
            failures.append(
                f"roster ({how}): the retry created {grown} members, the preview said "
                f"{sync['counts']['created']}"
            )
    return failures


async def _wait_ready(client: httpx.AsyncClient, seconds: float) -> float | None:
    t = time.monotonic()
    while time.monotonic() - t < seconds:
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get("/readyz")).status_code == 200:
                return time.monotonic() - t
        await asyncio.sleep(0.1)
    return None


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-bin", type=Path, default=Path("/usr/lib/postgresql/15/bin"))
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=20, help="seconds of load before the stop")
    parser.add_argument("--outage", type=float, default=10, help="seconds PostgreSQL stays down")
    parser.add_argument("--after", type=float, default=30, help="seconds of load after the restart")
    parser.add_argument("--stop-mode", choices=["smart", "fast", "immediate"], default="fast")
    parser.add_argument(
        "--bound",
        type=float,
        default=10,
        help="seconds within which every request in flight at the stop or sent during the "
        "outage answers",
    )
    parser.add_argument(
        "--recover-bound",
        type=float,
        default=5,
        help="seconds after PostgreSQL is back within which the service answers 200",
    )
    parser.add_argument("--timeout", type=float, default=60, help="client timeout per request (s)")
    parser.add_argument("--roster-rows", type=int, default=100_000)
    parser.add_argument(
        "--interrupt-after",
        type=float,
        default=0.3,
        help="seconds after the apply's member INSERT is seen running",
    )
    parser.add_argument(
        "--skip-load", action="store_true", help="only the roster apply interruptions"
    )
    parser.add_argument("--skip-roster", action="store_true", help="only the outage under load")
    parser.add_argument(
        "--server-log", type=Path, default=None, help="keep the server's output in this file"
    )
    parser.add_argument(
        "--log-requests", action="store_true", help="the server logs every request (--server-log)"
    )
    parser.add_argument(
        "--samples", type=Path, default=None, help="write every request of the load (CSV)"
    )
    add_world_arguments(parser)
    args = parser.parse_args()
    if not (args.pg_bin / "initdb").exists():
        sys.exit(f"no initdb in {args.pg_bin} (--pg-bin)")

    bench_environment()
    cluster = Cluster(args.pg_bin)
    server = None
    failures: list[str] = []
    try:
        cluster.start()
        print(f"PostgreSQL cluster in {cluster.dir} on 127.0.0.1:{cluster.port}", flush=True)
        admin_url = cluster.server_url
        raw_url = admin_url.rsplit("/", 1)[0] + "/" + DB_NAME
        sa_url = raw_url.replace("postgresql://", "postgresql+asyncpg://", 1)
        os.environ["QD85_DATABASE_URL"] = sa_url

        async def create() -> None:
            conn = await asyncpg.connect(admin_url)
            try:
                await conn.execute(f'CREATE DATABASE "{DB_NAME}"')
            finally:
                await conn.close()

        asyncio.run(create())
        migrate(sa_url)
        world = build_world(args, raw_url)
        asyncio.run(recount(sa_url))
        port = free_port()
        server = Server(
            sa_url,
            port,
            args.workers,
            log=args.server_log,
            QD85_LOG_REQUESTS=str(args.log_requests).lower(),
            QD85_MAX_ROSTER_BODY="200000000",
        )
        base = f"http://127.0.0.1:{port}"
        if not args.skip_load:
            print(
                f"load: {args.clients} clients, {args.workers} workers; PostgreSQL stopped after "
                f"{args.warmup:.0f} s for {args.outage:.0f} s, then {args.after:.0f} s more",
                flush=True,
            )
            workload, outage, seconds = asyncio.run(outage_run(cluster, base, world, args))
            print_figures(workload.samples, seconds, "whole run (outage included)")
            failures += check_outage(workload, outage, args)
            if args.samples is not None:
                with open(args.samples, "w", newline="") as f:
                    out = csv.writer(f)
                    out.writerow(["op", "start_s", "seconds", "status", "code"])
                    for s in workload.samples:
                        out.writerow(
                            [
                                s.op,
                                f"{s.start - outage.stop_at:.3f}",
                                f"{s.seconds:.3f}",
                                s.status,
                                s.code,
                            ]
                        )
                print(f"  samples (start relative to the stop) written to {args.samples}")
            if workload.anomalies:
                failures.append(
                    f"{len(workload.anomalies)} unexpected answers, e.g. "
                    + " | ".join(workload.anomalies[:5])
                )
            print()
            failures += asyncio.run(verify_writes(raw_url, world, workload.writes))
            print(
                f"  writes whose answer was lost (may or may not have committed): "
                f"{workload.writes.maybe_reports} reports, {workload.writes.maybe_accounts} "
                "accounts, "
                f"{sum(1 for t in workload.writes.handled.values() if t.uncertain)} transitions"
            )
            failures += asyncio.run(stats_equal_recount(raw_url, sa_url, base, world))
        if not args.skip_roster:
            for batch, how in enumerate(("terminate", "stop"), start=1):
                failures += asyncio.run(
                    interrupted_apply(cluster, base, raw_url, admin_url, world, args, how, batch)
                )
            failures += asyncio.run(stats_equal_recount(raw_url, sa_url, base, world))
    finally:
        if server is not None:
            server.stop()
        cluster.destroy()
    print()
    if failures:
        for f in failures:
            print(f"FAIL {f}")
        return 1
    print(
        "PASS 503 problems during the outage, /readyz 503 then 200, recovery without restart, "
        "every 2xx write kept, statistics equal a recount, interrupted roster applies left "
        "nothing and applied on retry"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
