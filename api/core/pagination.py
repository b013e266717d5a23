"""Keyset cursor pagination: opaque cursors over (sort key..., id), no OFFSET."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, TypeVar, TypeVarTuple

import orjson
from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Row, Select, TypeDecorator, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.core.errors import Unprocessable
from api.core.i18n import msg

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
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
    if isinstance(value, date):  # a datetime too
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


@dataclass(frozen=True)
class Order:
    """A list's sort, named once: the cursor `kind` (a cursor of one list or sort order is
    refused by another), the columns (the last one unique, so the order is total) and the
    direction. The cursor holds the last item's values of these columns, read from the
    item by the columns' names (`attrs` when the item names them otherwise), and decoded
    as the columns' Python types."""

    kind: str
    columns: tuple[Any, ...]
    descending: bool = False
    attrs: tuple[str, ...] | None = None

    @property
    def types(self) -> list[type]:
        out = []
        for column in self.columns:
            typ = column.type
            if isinstance(typ, TypeDecorator):
                typ = typ.impl_instance
            out.append(typ.python_type)
        return out

    def apply(self, stmt: Select[*Ts], cursor: str | None, limit: int) -> Select[*Ts]:
        """The cursor's condition, the order and limit+1 (the extra row tells whether a
        next page exists)."""
        if cursor:
            values = decode_cursor(cursor, self.kind, self.types)
            stmt = stmt.where(after(self.columns, values, descending=self.descending))
        order = [c.desc() for c in self.columns] if self.descending else list(self.columns)
        return stmt.order_by(*order).limit(limit + 1)

    def page(
        self, rows: Sequence[T], limit: int, holder: Callable[[T], Any] | None = None
    ) -> tuple[list[T], str | None]:
        """The page's items and the next page's cursor (None on the last page). `holder`
        gives the object that carries the sort values, when that is not the row itself."""
        items = list(rows[:limit])
        if len(rows) <= limit or not items:
            return items, None
        last = items[-1] if holder is None else holder(items[-1])
        names = self.attrs or [c.key for c in self.columns]
        return items, encode_cursor(self.kind, [getattr(last, name) for name in names])


Executor = AsyncSession | AsyncConnection


async def paginate(
    session: AsyncSession, stmt: Select[T], *, order: Order, cursor: str | None, limit: int
) -> tuple[list[T], str | None]:
    """One page of a single-entity statement (`select(Account)...`): its objects and the
    next page's cursor."""
    rows = list((await session.scalars(order.apply(stmt, cursor, limit))).all())
    return order.page(rows, limit)


async def paginate_rows(
    executor: Executor,
    stmt: Select[*tuple[Any, ...]],
    *,
    order: Order,
    cursor: str | None,
    limit: int,
    holder: Callable[[Row[*tuple[Any, ...]]], Any] | None = None,
) -> tuple[list[Row[*tuple[Any, ...]]], str | None]:
    """One page of a statement of several columns or entities: its rows (`holder`: the
    object in a row that carries the sort values, when not the row) and the next cursor."""
    rows = list((await executor.execute(order.apply(stmt, cursor, limit))).all())
    return order.page(rows, limit, holder)
