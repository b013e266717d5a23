"""Shared bench helpers: a scratch PostgreSQL database, Vietnamese-like names, a server
process, and wrk runs parsed into figures."""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BENCH_SECRET = "bench-secret-0123456789abcdef0123456789abcdef"

FAMILY = (
    ["Nguyễn"] * 38
    + ["Trần"] * 11
    + ["Lê"] * 10
    + ["Phạm"] * 7
    + ["Hoàng"] * 5
    + ["Huỳnh"] * 5
    + ["Phan"] * 4
    + ["Vũ"] * 4
    + ["Võ"] * 3
    + ["Đặng"] * 2
    + ["Bùi"] * 2
    + ["Đỗ"] * 2
    + ["Hồ", "Ngô", "Dương", "Lý"]
)
MIDDLE = [
    "Văn",
    "Thị",
    "Hữu",
    "Đức",
    "Minh",
    "Thanh",
    "Quốc",
    "Ngọc",
    "Xuân",
    "Thu",
    "Hồng",
    "Kim",
    "Anh",
    "Gia",
]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Đức",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hiếu",
    "Hoa",
    "Hùng",
    "Hương",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Minh",
    "Nam",
    "Nga",
    "Ngọc",
    "Phong",
    "Phúc",
    "Quang",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Thắng",
    "Thành",
    "Trang",
    "Trung",
    "Tuấn",
    "Tú",
    "Vân",
    "Việt",
    "Yến",
]


def vietnamese_name(rng: random.Random) -> str:
    middle = (
        rng.choice(MIDDLE) if rng.random() < 0.9 else f"{rng.choice(MIDDLE)} {rng.choice(MIDDLE)}"
    )
    return f"{rng.choice(FAMILY)} {middle} {rng.choice(GIVEN)}"


def dsn(server_url: str, database: str) -> str:
    return server_url.rsplit("/", 1)[0] + "/" + database


async def recreate_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "QD85_DATABASE_URL": database_url,
            "QD85_SECRET_KEY": BENCH_SECRET,
            "QD85_ENV": "development",
        }
    )
    env.update(extra)
    return env


def migrate(database_url: str) -> None:
    subprocess.run(
        [str(BIN / "qd85"), "migrate"],
        check=True,
        env=server_env(database_url),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`qd85 serve` in a child process (its own session, bound to 127.0.0.1); stopped by
    its PID. `log` names a file for the server's output (default: discarded). `factory`
    (e.g. "bench._noop_counters:create_app") serves another app factory with uvicorn,
    as `qd85 serve` would."""

    def __init__(
        self,
        database_url: str,
        port: int,
        workers: int,
        log: Path | None = None,
        factory: str | None = None,
        **env: str,
    ) -> None:
        self.port = port
        out = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115 - closed in stop()
        self._log = out if log is not None else None
        where = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        command = (
            [str(BIN / "qd85"), "serve", *where]
            if factory is None
            else [
                sys.executable,
                "-m",
                "uvicorn",
                factory,
                "--factory",
                "--no-access-log",
                "--timeout-keep-alive",
                "75",
                *where,
            ]
        )
        if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in env:
            env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="qd85-metrics-")
        self.proc = subprocess.Popen(
            command,
            env=server_env(database_url, **env),
            cwd=ROOT,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def wrk(
    url: str,
    *,
    headers: dict[str, str],
    duration: int,
    connections: int,
    threads: int,
    script: Path | None = None,
) -> WrkResult:
    if shutil.which("wrk") is None:
        sys.exit("wrk is required (Debian: apt-get install wrk)")
    # A 10 s timeout: slow requests count in the latency figures instead of vanishing
    # into "socket errors" (wrk's default is 2 s).
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    max_ms = _ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return WrkResult(rps, p50, p99, max_ms, requests, errors)


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]
