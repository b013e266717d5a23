"""CPU-heavy work off the event loop: in worker threads, with a bound per kind of work so
that a burst of one kind (logins, roster uploads) neither starves the others nor grows
memory without limit (an argon2 hash holds 64 MiB while it runs). argon2, zlib and
hashlib release the GIL, so the threads run on other cores while the loop serves
requests; pure-Python parsing shares the GIL but is cut into slices (a batch of rows at a
time), so the loop gets its turn between them."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Offload:
    """Run a callable in a worker thread, at most `limit` at a time per event loop."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.limit)
        async with gate:
            return await asyncio.to_thread(fn, *args)


PASSWORDS = Offload(4)  # argon2 hashing and verification
PARSING = Offload(2)  # roster bodies (CSV, NDJSON, JSON, XLSX), a batch of rows at a time
FILES = Offload(4)  # hashing and storing uploaded files
