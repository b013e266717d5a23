"""Keeping the database and the file store in agreement (issue 18), for `qd85 storage`:

- gc: an object no row references (written for a request that then failed, or whose
  document got another file) and older than a grace period is removed. A request in flight
  has written its object but not yet committed its row; the grace period covers it, and an
  upload of content already stored refreshes the object's time (Storage.put), so gc does
  not remove what a request is about to reference.
- verify: every referenced object exists with the recorded size; a random sample is read
  back and hashed.
- migrate: copies a local store into the s3 bucket, skipping what is already there with
  the right size (so it resumes), each object verified by the store against its SHA-256.

Both work page by page (keyset over the keys), never holding every key in memory."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy import Select, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import utcnow
from api.models import Document, DocumentRevision, ReportEvidence
from api.services.files import LocalStorage, Storage, StoreUnavailable

PAGE = 1000
PARALLEL = 16


def _references() -> Select[tuple[str, int]]:
    """Every (key, size) a row points at, each key once."""
    parts = union(
        select(ReportEvidence.sha256.label("key"), ReportEvidence.size.label("size")),
        select(Document.file_sha256, Document.file_size).where(Document.file_sha256.is_not(None)),
        select(DocumentRevision.file_sha256, DocumentRevision.file_size).where(
            DocumentRevision.file_sha256.is_not(None)
        ),
    ).subquery()
    return select(parts.c.key, parts.c.size)


async def referenced(session: AsyncSession) -> AsyncIterator[list[tuple[str, int]]]:
    """The referenced (key, size) pairs, a page at a time, in key order."""
    refs = _references().subquery()
    last = ""
    while True:
        rows = (
            await session.execute(
                select(refs.c.key, refs.c.size)
                .where(refs.c.key > last)
                .order_by(refs.c.key)
                .limit(PAGE)
            )
        ).all()
        if not rows:
            return
        yield [(str(k), int(s or 0)) for k, s in rows]
        last = rows[-1][0]


async def referenced_among(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    refs = _references().subquery()
    rows = await session.scalars(select(refs.c.key).where(refs.c.key.in_(list(keys))).distinct())
    return set(rows)


T = TypeVar("T")


async def _gather_limited(jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs, at most PARALLEL at a time."""
    gate = asyncio.Semaphore(PARALLEL)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(j) for j in jobs)))


@dataclass
class GcResult:
    scanned: int = 0
    young: int = 0
    referenced: int = 0
    removed: list[str] = field(default_factory=list)


async def gc(
    session: AsyncSession,
    store: Storage,
    *,
    grace: timedelta,
    dry_run: bool = False,
    now: datetime | None = None,
) -> GcResult:
    """Remove the objects that no row references and that are older than `grace`."""
    cutoff = (now or utcnow()) - grace
    result = GcResult()
    batch: list[str] = []

    async def sweep() -> None:
        keep = await referenced_among(session, batch)
        result.referenced += len(keep)
        doomed = [k for k in batch if k not in keep]
        if not dry_run:
            await _gather_limited([partial(store.delete, k) for k in doomed])
        result.removed.extend(doomed)
        batch.clear()

    async for item in store.list():
        result.scanned += 1
        if item.modified > cutoff:
            result.young += 1
            continue
        batch.append(item.key)
        if len(batch) >= PAGE:
            await sweep()
    if batch:
        await sweep()
    return result


@dataclass
class VerifyResult:
    checked: int = 0
    hashed: int = 0
    missing: list[str] = field(default_factory=list)
    wrong_size: list[tuple[str, int, int]] = field(default_factory=list)
    wrong_hash: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.wrong_size or self.wrong_hash)


async def _sha256_of(store: Storage, key: str) -> str:
    digest = hashlib.sha256()
    async for chunk in await store.open(key):
        digest.update(chunk)
    return digest.hexdigest()


async def verify(
    session: AsyncSession, store: Storage, *, sample: int = 100, rng: random.Random | None = None
) -> VerifyResult:
    """Every referenced object exists with its recorded size; `sample` of them, chosen at
    random (reservoir sampling), are read back and hashed."""
    rng = rng or random.Random()  # noqa: S311 - a sample, not a secret
    result = VerifyResult()
    chosen: list[str] = []
    async for page in referenced(session):
        sizes = await _gather_limited([partial(store.size, k) for k, _ in page])
        for (key, size), found in zip(page, sizes, strict=True):
            result.checked += 1
            if found is None:
                result.missing.append(key)
                continue
            if found != size:
                result.wrong_size.append((key, size, found))
                continue
            # Reservoir sampling over the objects that exist with the right size.
            seen = result.checked - len(result.missing) - len(result.wrong_size)
            if len(chosen) < sample:
                chosen.append(key)
            elif (j := rng.randrange(seen)) < sample:
                chosen[j] = key
    hashes = await _gather_limited([partial(_sha256_of, store, k) for k in chosen])
    result.hashed = len(chosen)
    result.wrong_hash = [k for k, h in zip(chosen, hashes, strict=True) if h != k]
    return result


@dataclass
class MigrateResult:
    copied: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


async def migrate(source: LocalStorage, target: Storage) -> MigrateResult:
    """Copy every object of the local store into `target`. An object already there with
    the right size is skipped (a run that stopped part-way resumes). Each copy goes
    through target.put, which hashes the file and has the store check that hash, and is
    then checked to be the key it should be, with its size."""
    result = MigrateResult()

    async def copy(key: str, size: int) -> None:
        if await target.size(key) == size:
            result.skipped += 1
            return
        path = source.path_of(key)
        with await asyncio.to_thread(path.open, "rb") as handle:
            stored = await target.put(handle)
        if stored.key != key or await target.size(key) != size:
            result.failed.append((key, f"stored as {stored.key}, {stored.size} bytes"))
        else:
            result.copied += 1

    async def guarded(key: str, size: int) -> None:
        try:
            await copy(key, size)
        except Exception as exc:  # report the object, go on with the others
            if isinstance(exc, StoreUnavailable):
                raise
            result.failed.append((key, f"{type(exc).__name__}: {exc}"))

    batch: list[tuple[str, int]] = []
    async for item in source.list():
        batch.append((item.key, item.size))
        if len(batch) >= PAGE:
            await _gather_limited([partial(guarded, k, s) for k, s in batch])
            batch.clear()
    if batch:
        await _gather_limited([partial(guarded, k, s) for k, s in batch])
    return result
