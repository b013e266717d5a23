"""Reading back what the app stored: rows in fresh sessions (never a stale snapshot),
every page of a list, audit actions, and the fingerprint of everything stored (every
table and the file store), which proves that a refused request wrote nothing."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, literal, select

from api.core.config import get_settings
from api.core.db import Base, db

# Written by design on refused logins (the failed-attempt counters), so not compared.
UNCOMPARED_TABLES = frozenset({"rate_limit_buckets"})


async def count_rows(model: Any, *where: Any) -> int:
    """Rows of `model` matching `where`, read in a fresh session (never a stale snapshot)."""
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def fetch(model: Any, ident: uuid.UUID) -> Any:
    """The current committed row, read in a fresh session."""
    async with db.sessionmaker() as s:
        return await s.get(model, ident)


async def audit_actions(entity_id: uuid.UUID) -> list[str]:
    """Actions of the audit events about one entity, oldest first."""
    from api.models import AuditEvent

    async with db.sessionmaker() as s:
        rows = await s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
        return list(rows.all())


async def walk(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any
) -> list[list[dict[str, Any]]]:
    """Every page of a list, following next_cursor until it is null."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        r = await client.get(url, params=query, headers=headers)
        assert r.status_code == 200, r.text
        pages.append(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "pagination does not terminate"


# --- the fingerprint of everything stored ---------------------------------------------------


def _table_fingerprint() -> Any:
    columns = []
    for table in Base.metadata.sorted_tables:
        if table.name in UNCOMPARED_TABLES:
            continue
        columns.append(select(func.count()).select_from(table).scalar_subquery().label(table.name))
        if "version" in table.c:
            sub = select(func.coalesce(func.sum(table.c.version), 0)).scalar_subquery()
            columns.append(sub.label(f"{table.name}.version"))
        if "updated_at" in table.c:
            sub = select(func.max(table.c.updated_at)).scalar_subquery()
            columns.append(sub.label(f"{table.name}.updated_at"))
        for column in table.c:
            # Nullable timestamps (rotated_at, revoked_at, closed_at…): how many are set.
            if column.nullable and column.name.endswith("_at"):
                sub = select(func.count(column)).select_from(table).scalar_subquery()
                columns.append(sub.label(f"{table.name}.{column.name}"))
    return select(literal(1).label("one"), *columns)


_FINGERPRINT = _table_fingerprint()


def storage_root() -> Path:
    return Path(get_settings().storage_dir)


def stored_files() -> set[str]:
    """Every file under the storage directory, temporary ones included."""
    root = storage_root()
    if not root.exists():
        return set()
    return {str(Path(d, f).relative_to(root)) for d, _, names in os.walk(root) for f in names}


async def fingerprint() -> dict[str, Any]:
    """Row count (and version sum, latest update) of every table, and the stored files."""
    async with db.sessionmaker() as s:
        row = (await s.execute(_FINGERPRINT)).mappings().one()
    return {**{k: str(v) for k, v in row.items()}, "files": sorted(stored_files())}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: (before[k], after.get(k)) for k in before if before[k] != after.get(k)}
