"""Keyset cursor pagination: opaque cursors over (sort key..., id), no OFFSET."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Select, literal, tuple_

from api.core.errors import Unprocessable
from api.core.i18n import msg

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="The next page's cursor; null on the last page (always sent)."
    )

    # Always sent, so required in the document (nullable), though optional in Python.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1–200).")]
CursorParam = Annotated[
    str | None,
    Query(max_length=1000, description="Opaque cursor from the previous page's `next_cursor`."),
]


def _encode_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def encode_cursor(kind: str, values: Sequence[Any]) -> str:
    raw = orjson.dumps([kind, [_encode_value(v) for v in values]])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, types: Sequence[type]) -> list[Any]:
    """Decode a cursor made by encode_cursor for the same `kind` (list + sort order)."""
    bad = Unprocessable(
        "invalid_cursor",
        msg("http.invalid_cursor"),
    )
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        got_kind, values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if got_kind != kind or not isinstance(values, list) or len(values) != len(types):
            raise bad
        out: list[Any] = []
        for value, typ in zip(values, types, strict=True):
            if typ is uuid.UUID:
                out.append(uuid.UUID(value))
            elif typ is datetime:
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise bad
                out.append(parsed.astimezone(UTC))  # OverflowError near datetime.min/max
            elif typ is str and type(value) is str and "\x00" in value:
                raise bad  # PostgreSQL text cannot hold NUL
            elif typ in (str, int, bool) and type(value) is typ:
                out.append(value)
            else:
                raise bad
        return out
    except (
        ValueError,
        TypeError,
        OverflowError,
        binascii.Error,
        orjson.JSONDecodeError,
        AttributeError,
    ) as exc:
        raise bad from exc


def after(
    columns: Sequence[Any], values: Sequence[Any], *, descending: bool = False
) -> ColumnElement[bool]:
    """Row-value comparison (c1, c2, ...) > (v1, v2, ...) (or <): one index range scan
    on PostgreSQL and SQLite (>= 3.15) alike."""
    left = tuple_(*columns)
    right = tuple_(*(literal(v, c.type) for v, c in zip(values, columns, strict=True)))
    return left < right if descending else left > right


def keyset(
    stmt: Select[Any],
    *,
    kind: str,
    columns: Sequence[Any],
    types: Sequence[type],
    cursor: str | None,
    limit: int,
    descending: bool = False,
) -> Select[Any]:
    """Apply cursor, order and limit+1 (the extra row tells whether a next page exists)."""
    if cursor:
        stmt = stmt.where(after(columns, decode_cursor(cursor, kind, types), descending=descending))
    order = [c.desc() for c in columns] if descending else list(columns)
    return stmt.order_by(*order).limit(limit + 1)


def page_of(
    rows: Sequence[T], *, kind: str, limit: int, key: Callable[[T], Sequence[Any]]
) -> tuple[list[T], str | None]:
    items = list(rows[:limit])
    next_cursor = encode_cursor(kind, key(items[-1])) if len(rows) > limit and items else None
    return items, next_cursor
