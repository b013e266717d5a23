"""Run the installed `qd85` command as an operator would: its own process, its own
connections (the caller disposes of the test's pool first when the command must not
wait on it)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

QD85 = Path(sys.executable).with_name("qd85")


async def run_qd85(
    *args: str, env: dict[str, str] | None = None, seconds: float = 120
) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `qd85 *args`, in this environment plus `env`."""
    async with asyncio.timeout(seconds):
        proc = await asyncio.create_subprocess_exec(
            str(QD85),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
