"""Alembic environment (async). The database URL is QD85_DATABASE_URL unless the caller
set sqlalchemy.url on the config (the CLI and the tests do)."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

import api.models  # noqa: F401 - registers every table
from api.core.config import get_settings
from api.core.db import Base, make_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# Containers that start at once all run `qd85 migrate` (the Dockerfile does on every start):
# on PostgreSQL the upgrade holds this transaction-scoped advisory lock, so one runs the
# migrations and the others wait, then find the schema at head and do nothing. (SQLite
# serialises writers by itself.) The number is arbitrary but fixed: "qd85" in ASCII.
MIGRATION_LOCK = 0x71643835


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Taken before Alembic reads the version table (inside run_migrations), so a
            # waiter reads it only after the holder committed.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = make_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
