"""Database plumbing: declarative Base, portable column types, engine and sessions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, ExceptionContext
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool

from api.core.config import get_settings
from api.core.resilience import is_protocol_desync

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both backends (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def binary_string(length: int) -> String:
    """A string compared byte by byte: materialised paths and sort keys must order
    the same way on SQLite (BINARY) and PostgreSQL (collation "C") so that range
    scans on their indexes are exact."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def upsert_insert(dialect_name: str, table: Any) -> Any:
    """`INSERT` with `ON CONFLICT` (`on_conflict_do_nothing`/`…_do_update`) for the
    dialect named: PostgreSQL's and SQLite's take the same arguments."""
    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# A new connection that takes longer than this is an outage (503), not a hung request.
CONNECT_TIMEOUT_SECONDS = 5.0


def _discard_desynced(context: ExceptionContext) -> None:
    """A driver failure between Parse and Sync leaves the server inside the statement's
    implicit transaction, holding its locks (see api/core/resilience.py): treat it as a
    disconnect of that connection alone, so it is closed instead of going back to the
    pool (where a later ALTER/TRUNCATE of the table would wait on it forever)."""
    if is_protocol_desync(context.original_exception):
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = False


def _drop_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """On checkout, a pooled connection the server has closed meanwhile (a restart, an
    administrator's shutdown or pg_terminate_backend) is replaced at once instead of
    failing the request that draws it: asyncpg learns of the close from the socket, so
    the check is free (no round trip, unlike pool_pre_ping)."""
    driver = getattr(dbapi_connection, "_connection", None)
    is_closed = getattr(driver, "is_closed", None)
    if callable(is_closed) and is_closed():
        raise DisconnectionError("connection closed by the server")


def _sqlite_begin_before_savepoint(conn: Connection, _name: str | None) -> None:
    """The sqlite3 module (under aiosqlite) sends BEGIN only before DML. A SAVEPOINT sent
    while no transaction is open (a service that has only read so far) opens one of its
    own, and its RELEASE commits it: the savepoint's write would survive a rollback of
    the request. Open the transaction first, so RELEASE only ends the savepoint."""
    driver = conn.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str | None = None) -> AsyncEngine:
    settings = get_settings()
    url = url or settings.database_url
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, echo=settings.db_echo, poolclass=NullPool, hide_parameters=True
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "savepoint", _sqlite_begin_before_savepoint)
        return engine
    engine = create_async_engine(
        url,
        echo=settings.db_echo,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=False,
        # Errors (and the 503/500 log lines made of them) name the statement, never its
        # values: a failed INSERT must not write e-mails, phones or stored responses
        # (Idempotency-Key records hold response bodies) into the logs.
        hide_parameters=True,
        connect_args={"timeout": CONNECT_TIMEOUT_SECONDS} if "+asyncpg" in url else {},
    )
    event.listen(engine.sync_engine, "handle_error", _discard_desynced)
    event.listen(engine.sync_engine, "checkout", _drop_closed)
    return engine


class Database:
    """The process's engine and session factory, created on first use."""

    def __init__(self) -> None:
        self._engine: AsyncEngine | None = None
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._read_sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._probe: AsyncEngine | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            self.configure(make_engine())
        assert self._engine is not None
        return self._engine

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        if self._sessionmaker is None:
            self.configure(make_engine())
        assert self._sessionmaker is not None
        return self._sessionmaker

    @property
    def read_sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for safe (GET/HEAD) requests: autocommit, so a read costs no
        BEGIN/COMMIT round trips; each statement sees committed data."""
        if self._read_sessionmaker is None:
            self.configure(make_engine())
        assert self._read_sessionmaker is not None
        return self._read_sessionmaker

    def configure(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._read_sessionmaker = async_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            autoflush=False,
        )

    async def ping(self) -> None:
        """SELECT 1 on a connection of its own, outside the pool (readiness): whether the
        database answers, not whether a pool busy with requests has a free slot."""
        engine = self.engine
        if self._probe is None or self._probe.url != engine.url:
            if self._probe is not None:
                await self._probe.dispose()
            asyncpg = engine.url.drivername.endswith("+asyncpg")
            self._probe = create_async_engine(
                engine.url,
                poolclass=NullPool,
                connect_args={"timeout": CONNECT_TIMEOUT_SECONDS} if asyncpg else {},
            )
        async with self._probe.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def dispose(self) -> None:
        if self._probe is not None:
            await self._probe.dispose()
            self._probe = None
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = None
        self._sessionmaker = None
        self._read_sessionmaker = None


db = Database()


# Work that must stand whatever becomes of the request goes through one of these two, so
# that a service neither calls `commit()` itself nor opens a session of its own for it.


@asynccontextmanager
async def own_transaction() -> AsyncIterator[AsyncConnection]:
    """A connection and a transaction of its own, committed when the block ends (rolled
    back if it raises): a rate-limit count survives the failed login it counts, a sync
    marked `failed` survives the rollback of the apply that failed.

    Never while the request's transaction holds a lock the block needs: on SQLite a
    request that has written holds the database's one write lock, and the block would
    wait for it. Use `commit_so_far` then."""
    async with db.engine.begin() as conn:
        yield conn


async def commit_so_far(session: AsyncSession) -> None:
    """Commit what the request's own session wrote so far; what follows runs in a new
    transaction of the same session, committed or rolled back with the request. A roster
    preview is kept as evidence although its apply is refused; a refresh-token family
    stays revoked although the refresh that found the reuse fails."""
    await session.commit()
