"""`qd85 migrate` started on several nodes at once (the Dockerfile runs it on every container
start): on PostgreSQL the upgrade holds an advisory lock (migrations/env.py), so two
runs started together on an empty database both succeed and leave the schema at head.
Runs on the PostgreSQL server named by QD85_TEST_DATABASE_URL, in a database of its own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import _SERVER_URL

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not _SERVER_URL.startswith("postgresql"),
    reason="the migration lock is PostgreSQL's (QD85_TEST_DATABASE_URL=postgresql+asyncpg://…)",
)


async def _admin(statement: str) -> None:
    engine = create_async_engine(_SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _head() -> str:
    from alembic.script import ScriptDirectory

    from api.cli import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head
    return head


class TestMigrateTogether:
    async def test_two_migrations_started_together_on_an_empty_database_both_succeed(
        self,
    ) -> None:
        name = f"qd85_migrate_{uuid.uuid4().hex[:10]}"
        url = _SERVER_URL.rsplit("/", 1)[0] + "/" + name
        await _admin(f'CREATE DATABASE "{name}"')
        try:
            env = {**os.environ, "QD85_DATABASE_URL": url}
            procs = [
                subprocess.Popen(  # noqa: ASYNC220 - waited in worker threads below
                    [sys.executable, "-m", "api.cli", "migrate"],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
                for _ in range(2)
            ]
            done = await asyncio.gather(
                *(asyncio.to_thread(p.communicate, timeout=120) for p in procs)
            )
            outputs = [out.decode() for out, _ in done]
            for proc, out in zip(procs, outputs, strict=True):
                assert proc.returncode == 0, out
                assert "database is at the latest migration" in out
            engine = create_async_engine(url)
            try:
                async with engine.connect() as conn:
                    versions = (
                        (await conn.execute(text("SELECT version_num FROM alembic_version")))
                        .scalars()
                        .all()
                    )
                    tables = await conn.scalar(
                        text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
                    )
            finally:
                await engine.dispose()
            assert versions == [_head()]
            assert (tables or 0) > 10
        finally:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
