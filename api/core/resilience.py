"""Classifying database failures: outages become 503 problems instead of 500s, and a
connection whose wire protocol was left half-way is thrown away instead of pooled."""

from __future__ import annotations

import errno
from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

_UNAVAILABLE_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EPIPE, errno.ETIMEDOUT}

# SQLSTATEs that mean "the server cannot serve this session now" (PostgreSQL appendix A):
# class 08 (connection exception), operator intervention (admin/crash shutdown, cannot
# connect now: the server is starting or stopping), too many connections.
_UNAVAILABLE_SQLSTATE_CLASSES = ("08",)
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}

# asyncpg prepares a statement (Parse/Describe) and only then encodes the arguments; when
# the encoding fails on the client no Sync follows, so the server stays inside the
# statement's implicit transaction, holding its AccessShareLocks. Outside an explicit
# transaction nothing ends it (no ROLLBACK is sent on an autocommit connection).
_DESYNC_MESSAGE = "invalid input for query argument"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, the driver's exception it wraps, and their causes."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen or len(seen) > 10:
            continue
        seen.add(id(item))
        yield item
        orig = getattr(item, "orig", None)
        todo.extend(
            [
                orig if isinstance(orig, BaseException) else None,
                item.__cause__,
                item.__context__,
            ]
        )


def is_protocol_desync(exc: BaseException) -> bool:
    """True when the driver failed between preparing a statement and executing it (a
    parameter it could not encode): the connection must be discarded, not pooled."""
    return any(
        _DESYNC_MESSAGE in str(e)
        for e in _chain(exc)
        if type(e).__module__.startswith(("asyncpg", "sqlalchemy"))
    )


def _sqlstate(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None)
    return state if isinstance(state, str) else None


def is_unavailable(exc: BaseException) -> bool:
    """True when the error means 'the database cannot be reached right now'."""
    if is_protocol_desync(exc):
        # A bad parameter, not an outage (its connection is invalidated on purpose).
        return False
    for e in _chain(exc):
        if isinstance(e, PoolTimeout | ConnectionError | TimeoutError):
            return True
        if isinstance(e, OSError) and e.errno in _UNAVAILABLE_ERRNOS:
            return True
        if isinstance(e, DBAPIError) and e.connection_invalidated:
            return True
        state = _sqlstate(e)
        if state is not None and (
            state in _UNAVAILABLE_SQLSTATES or state.startswith(_UNAVAILABLE_SQLSTATE_CLASSES)
        ):
            return True
        if type(e).__name__ in ("ConnectionDoesNotExistError", "ConnectionFailureError"):
            return True
        if isinstance(e, InterfaceError | OperationalError):
            text = str(e).lower()
            if any(
                s in text for s in ("connect", "connection", "database is locked", "shutting down")
            ):
                return True
    return False
