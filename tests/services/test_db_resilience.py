"""The database plumbing under failure (api/core/db.py, api/core/resilience.py): a
savepoint never commits on its own (SQLite), a connection left half-way through a
statement is discarded (PostgreSQL), a connection the server closed is replaced at
checkout, and outages are told apart from bugs."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from api.core.db import db
from api.core.resilience import is_protocol_desync, is_unavailable
from api.models import Report, Unit
from tests.support.factories import make_unit


async def _units_named(name: str) -> int:
    async with db.sessionmaker() as s:
        return int(
            await s.scalar(select(func.count()).select_from(Unit).where(Unit.name == name)) or 0
        )


class TestSavepoints:
    async def test_a_released_savepoint_is_undone_by_the_outer_rollback(self, session) -> None:  # type: ignore[no-untyped-def]
        """SQLite drivers open a transaction only before DML: a SAVEPOINT sent first
        opened one itself and its RELEASE committed it, so a write made in a savepoint
        survived the rollback of the request (a report filed, then a 409)."""
        parent = await make_unit(session)
        name = f"savepoint {uuid.uuid4().hex[:8]}"
        async with db.sessionmaker() as s:
            await s.execute(select(Unit.id).limit(1))  # reads only, as services do first
            async with s.begin_nested():
                s.add(
                    Unit(
                        code=f"SP{uuid.uuid4().hex[:8]}",
                        name=name,
                        name_search=name,
                        level="cell",
                        parent_id=parent.id,
                        path=parent.path + uuid.uuid4().hex + "/",
                        depth=1,
                    )
                )
            await s.rollback()
        assert await _units_named(name) == 0

    async def test_the_outer_commit_keeps_the_savepoint(self, session) -> None:  # type: ignore[no-untyped-def]
        parent = await make_unit(session)
        name = f"savepoint {uuid.uuid4().hex[:8]}"
        async with db.sessionmaker() as s:
            await s.execute(select(Unit.id).limit(1))
            async with s.begin_nested():
                s.add(
                    Unit(
                        code=f"SP{uuid.uuid4().hex[:8]}",
                        name=name,
                        name_search=name,
                        level="cell",
                        parent_id=parent.id,
                        path=parent.path + uuid.uuid4().hex + "/",
                        depth=1,
                    )
                )
            await s.commit()
        assert await _units_named(name) == 1

    async def test_a_failed_savepoint_leaves_the_transaction_usable(self, session) -> None:  # type: ignore[no-untyped-def]
        unit = await make_unit(session)
        async with db.sessionmaker() as s:
            await s.execute(select(Unit.id).limit(1))
            with pytest.raises(IntegrityError):
                async with s.begin_nested():
                    s.add(
                        Unit(
                            code=unit.code,
                            name="dup",
                            name_search="dup",
                            level="cell",
                            path=f"/{uuid.uuid4().hex}/",
                            depth=0,
                        )
                    )
            assert await s.scalar(select(func.count()).select_from(Unit)) == 1
            await s.rollback()


@pytest.mark.usefixtures("database")
class TestPostgresConnections:
    @pytest.fixture(autouse=True)
    def _postgres_only(self, is_postgres: bool) -> None:
        if not is_postgres:
            pytest.skip("PostgreSQL (asyncpg) behaviour")

    async def _backends(self, database: str) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(database.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return list(
                await conn.fetch(
                    "SELECT a.pid, a.state, c.relname FROM pg_stat_activity a"
                    " LEFT JOIN pg_locks l ON l.pid = a.pid AND l.relation IS NOT NULL"
                    " LEFT JOIN pg_class c ON c.oid = l.relation"
                    " WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()"
                )
            )
        finally:
            await conn.close()

    async def test_a_parameter_the_driver_cannot_encode_leaves_no_lock_behind(
        self, database: str
    ) -> None:
        """asyncpg sends Parse/Describe, then fails to encode the argument on the client and
        sends no Sync: the backend stayed 'active' inside the statement's implicit
        transaction with an AccessShareLock on the table, and an autocommit (GET)
        connection went back to the pool like that — a later TRUNCATE/ALTER of `reports`
        waited forever. The connection is now discarded."""
        async with db.read_sessionmaker() as s:
            with pytest.raises(DBAPIError) as caught:
                await s.execute(select(Report.id).where(Report.report_count == 2**40))
            await s.rollback()
        assert is_protocol_desync(caught.value)
        assert not is_unavailable(caught.value)  # a bug or bad input (500), not an outage
        held = [r for r in await self._backends(database) if r["relname"] == "reports"]
        assert held == []
        async with db.engine.begin() as conn:  # and the table can be locked at once
            await conn.execute(text("SET LOCAL lock_timeout = '2s'"))
            await conn.execute(text("LOCK TABLE reports IN ACCESS EXCLUSIVE MODE"))

    async def test_a_connection_the_server_closed_is_replaced_at_checkout(
        self, database: str
    ) -> None:
        async with db.read_sessionmaker() as s:
            pid = await s.scalar(text("SELECT pg_backend_pid()"))
        conn = await asyncpg.connect(database.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await conn.close()
        for _ in range(50):  # the close reaches the pooled connection's socket
            if pid not in {r["pid"] for r in await self._backends(database)}:
                break
        async with db.read_sessionmaker() as s:
            assert await s.scalar(text("SELECT pg_backend_pid()")) != pid


class _Driver(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _wrapped(orig: Exception, cls: type[DBAPIError] = DBAPIError) -> DBAPIError:
    return cls("SELECT 1", {}, orig)


class TestClassification:
    @pytest.mark.parametrize(
        ("error", "unavailable"),
        [
            (ConnectionRefusedError(111, "Connection refused"), True),
            (TimeoutError(), True),
            (
                _wrapped(_Driver("terminating connection due to administrator command", "57P01")),
                True,
            ),
            (_wrapped(_Driver("the database system is starting up", "57P03")), True),
            (_wrapped(_Driver("the database system is shutting down", "57P03")), True),
            (_wrapped(_Driver("sorry, too many clients already", "53300")), True),
            (_wrapped(_Driver("connection failure", "08006")), True),
            (_wrapped(_Driver("connection is closed"), InterfaceError), True),
            (_wrapped(_Driver("database is locked"), OperationalError), True),
            (_wrapped(_Driver("duplicate key value", "23505")), False),
            (_wrapped(_Driver("deadlock detected", "40P01")), False),
            (
                _wrapped(_Driver("invalid input for query argument $1: 1099511627776", "22000")),
                False,
            ),
            (RuntimeError("a bug"), False),
        ],
    )
    def test_outages_and_bugs(self, error: Exception, unavailable: bool) -> None:
        assert is_unavailable(error) is unavailable

    def test_an_outage_raised_while_handling_another_error_counts(self) -> None:
        try:
            try:
                raise RuntimeError("while rolling back")
            except RuntimeError as inner:
                raise OSError(111, "Connection refused") from inner
        except OSError as exc:
            outer = RuntimeError("wrapper")
            outer.__cause__ = exc
            assert is_unavailable(outer)


class TestReadiness:
    async def test_a_database_that_never_answers_makes_readyz_503_within_its_bound(
        self,
        app,
        monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
    ) -> None:
        """A server that accepts the connection and then says nothing (a hung host, a
        full backlog): the probe answers 503 after READY_TIMEOUT_SECONDS, not never."""
        import asyncio
        import time

        import httpx
        from sqlalchemy.ext.asyncio import create_async_engine

        from api.routers.health import READY_TIMEOUT_SECONDS
        from tests.support.problems import assert_problem

        silent: list[asyncio.StreamWriter] = []

        async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            silent.append(writer)

        server = await asyncio.start_server(accept, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        hung = create_async_engine(f"postgresql+asyncpg://qd85@127.0.0.1:{port}/none")
        monkeypatch.setattr(db, "_engine", hung)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                started = time.monotonic()
                r = await c.get("/readyz")
                elapsed = time.monotonic() - started
        finally:
            for writer in silent:
                writer.close()
            server.close()
            await hung.dispose()
        assert_problem(r, 503, "service_unavailable")
        assert READY_TIMEOUT_SECONDS - 0.5 < elapsed < READY_TIMEOUT_SECONDS + 2


class TestErrorsHideValues:
    async def test_a_failed_statement_names_no_parameter_value(self, session) -> None:  # type: ignore[no-untyped-def]
        """Outages and bugs are logged from the exception's text: it must not carry the
        values bound to the statement (personal data, stored responses)."""
        unit = await make_unit(session)
        secret = f"secret-{uuid.uuid4().hex}"
        async with db.sessionmaker() as s:
            s.add(
                Unit(
                    code=unit.code,
                    name=secret,
                    name_search=secret,
                    level="cell",
                    path=f"/{uuid.uuid4().hex}/",
                    depth=0,
                )
            )
            with pytest.raises(IntegrityError) as caught:
                await s.flush()
            await s.rollback()
        assert secret not in str(caught.value)
        assert "hidden" in str(caught.value)
