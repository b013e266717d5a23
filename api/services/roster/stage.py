"""Staging: rows into temporary tables, in batches (no FastAPI here).

The spooled body is parsed and validated in Python (api/services/roster/parse.py) and
loaded in batches of 5,000 into a temporary table (`roster_stage`): COPY through
asyncpg on PostgreSQL, a batched executemany on SQLite. Memory holds one batch. The
apply stages the sort and search keys of new names the same way (`roster_keys`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from api.core.db import binary_string
from api.services.roster.common import BATCH
from api.services.roster.rows import STAGE_COLUMNS, StagedRow

_temp = MetaData()
STAGE = Table(
    "roster_stage",
    _temp,
    Column("row_no", Integer),
    Column("external_id", String(64)),
    Column("full_name", String(200)),
    Column("unit_code", binary_string(64)),
    Column("membership", String(32)),
    Column("status", String(32)),
    Column("position", String(200)),
    Column("is_leader", Boolean),
    Column("email", String(254)),
    Column("phone", String(20)),
    *(
        Column(f"has_{f}", Boolean)
        for f in ("membership", "status", "position", "is_leader", "email", "phone")
    ),
    Column("error_code", String(64)),
    Column("error_field", String(32)),
    Column("error_detail", String(500)),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
KEYS = Table(
    "roster_keys",
    _temp,
    Column("row_no", Integer, primary_key=True),
    Column("name_search", String(200)),
    Column("name_sort", binary_string(400)),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
assert tuple(c.name for c in STAGE.columns) == STAGE_COLUMNS


async def is_pg(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


def temp_name(conn: AsyncConnection, table: Table) -> str:
    """Qualified, so that a DROP can only ever reach the temporary table."""
    return f"{'pg_temp' if conn.dialect.name == 'postgresql' else 'temp'}.{table.name}"


async def create_temp(conn: AsyncConnection, table: Table) -> None:
    await drop_temp(conn, table)
    await conn.run_sync(lambda sync_conn: table.create(sync_conn))


async def bulk_settings(conn: AsyncConnection) -> None:
    """PostgreSQL: room for the sorts and hashes of 100,000-row joins in memory, for this
    transaction only."""
    if await is_pg(conn):
        await conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")


async def drop_temp(conn: AsyncConnection, table: Table) -> None:
    await conn.exec_driver_sql(f"DROP TABLE IF EXISTS {temp_name(conn, table)}")


async def load(conn: AsyncConnection, table: Table, rows: Sequence[StagedRow]) -> None:
    """Rows (tuples in column order) into a temporary table: COPY on PostgreSQL, one
    batched executemany on SQLite."""
    if not rows:
        return
    names = [c.name for c in table.columns]
    if await is_pg(conn):
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(table.name, records=rows, columns=names)
    else:
        marks = ", ".join("?" for _ in names)
        await conn.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})",  # noqa: S608 - fixed names
            rows,
        )


def batches(rows: Iterator[StagedRow], size: int = BATCH) -> Iterator[list[StagedRow]]:
    batch: list[StagedRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
