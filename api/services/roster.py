"""Roster sync (SPEC §5): partner systems keep units and members current, with a
preview of every change. No FastAPI here.

Pipeline, set-based all the way (no ORM object and no query per row):

1. **Stage.** The spooled body is parsed and validated in Python
   (api/services/roster_parse.py) and loaded in batches of 5,000 into a temporary table
   (`roster_stage`): COPY through asyncpg on PostgreSQL, a batched executemany on
   SQLite. Memory holds one batch.
2. **Diff.** One `INSERT … SELECT` joins the staged rows to `members` (external_id) and
   `units` (code) and writes `roster_sync_rows`: per row the action, the member's
   values after the sync, the values before for rows that change it, and the reason of
   a rejection. A snapshot adds one `INSERT … SELECT` for the absent members. Counts are
   one `GROUP BY`; the scope's fingerprint one aggregate.
3. **Apply** executes exactly those rows, in one transaction, as a fixed sequence of
   statements (`apply`): checks (409), units, new members, updates, deactivations,
   token invalidation, the statistics counters of the units touched
   (api/services/counters.py), the sync's status, the audit event.

Definitions (a row's action; the first that holds wins):
- `rejected`: the row breaks a rule: a field (`validation_failed`, also `membership`
  missing for a new member), `duplicate_external_id` (every row sharing it),
  `unknown_unit`, `unit_dissolved`, `out_of_scope` (the target unit, or the member's
  current unit, outside the caller's scope or the sync's scope unit), `invalid_json`.
- `create`: no member has the external_id.
- `reactivate`: the member is off the roster (transferred, removed, deceased) and the
  row puts them back on it (active or exempt). Its other changes are listed too.
- `move`: the unit changes (other changed fields are listed too).
- `update`: any other field changes.
- `unchanged`.
- `deactivate` (snapshot only): an active or exempt member of the scope's subtree whose
  external_id no row of the body names (a rejected row still names it), set to
  `transferred`. Members without an external_id are not the partner's to manage and
  are left alone.

A field left out of a row keeps the member's value, except `status` in a snapshot: a
member who is off the roster and present in the snapshot comes back as `active`.

Mass deactivation: a snapshot whose deactivations exceed 20% of the active and exempt
members of its scope is previewed normally (`mass_deactivation: true`) so it can be
inspected, and applying it is refused (422 `mass_deactivation`) unless
`allow_mass_deactivation=true` was given at creation or on apply. The same holds for
rejected rows (422 `sync_has_rejected_rows`; `skip_rejected=true` applies the rest).

409 `roster_changed` on apply: a member the sync names changed version, a member now
holds the external_id of a planned creation, a target unit was dissolved or left the
caller's scope, or (snapshot) the scope's fingerprint (members, sum of versions,
latest update) moved. The updates themselves also check each member's version.

Applying an applied sync answers 200 with the sync unchanged; a failed one is 409
`sync_not_applicable`. If a statement fails during apply, everything is rolled back and
the sync is marked `failed` in a separate transaction (500 problem with `sync_id`); when
the database became unreachable meanwhile (api/core/resilience.py) the sync stays
`previewed` and the answer is a 503 problem, so the same apply can be retried.

Audit: one event per preview (`roster_sync.preview`) and per apply
(`roster_sync.apply`) with the counts, placed at the scope unit. The diff rows are the
per-member evidence (an event per member would be 100,000 events).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from typing import cast as typed

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.core.db import binary_string, db, new_id, utcnow
from api.core.enums import MemberStatus, RowAction, SyncMode, SyncStatus, UnitAction, UnitStatus
from api.core.errors import AppError, Conflict, NotFound, Unprocessable
from api.core.offload import PARSING
from api.core.pagination import keyset, page_of
from api.core.resilience import is_unavailable
from api.core.text_vi import fold, name_sort_key
from api.models import Member, RosterSync, RosterSyncRow, RosterSyncUnit, Unit, User
from api.schemas.roster import (
    ChangeError,
    RosterChangeRead,
    RosterSyncRead,
    RosterSyncSummary,
    RosterUnitChangeRead,
    RowError,
    SyncCounts,
    UnitCounts,
)
from api.services import audit, counters
from api.services.authz import Action, Principal, in_subtree, require, scope_filter
from api.services.roster_parse import (
    JSON,
    STAGE_COLUMNS,
    RosterReader,
    UnitRow,
    validate_mode,
    validate_scope_code,
)
from api.services.units import unknown_reference

log = logging.getLogger("qd85.roster")

BATCH = 5000
GUARD_RATIO = 0.2
ERRORS_SHOWN = 100
ON_ROSTER = (MemberStatus.active.value, MemberStatus.exempt.value)
FIELDS = (
    "full_name",
    "unit_code",
    "membership",
    "status",
    "position",
    "is_leader",
    "email",
    "phone",
)
FIELD_BITS = {name: 1 << i for i, name in enumerate(FIELDS)}
A = RowAction
CHANGING = (A.update.value, A.move.value, A.reactivate.value)
COUNT_KEYS = {A.create: "created", A.update: "updated", A.move: "moved", A.deactivate: "deactivated",
              A.reactivate: "reactivated", A.unchanged: "unchanged", A.rejected: "rejected"}  # fmt: skip
UNIT_COUNT_KEYS = {UnitAction.create: "units_created", UnitAction.update: "units_updated",
                   UnitAction.unchanged: "units_unchanged", UnitAction.rejected: "units_rejected"}  # fmt: skip

_syncs, _rows, _sunits, _members, _units, _users = (
    typed(Table, model.__table__)
    for model in (RosterSync, RosterSyncRow, RosterSyncUnit, Member, Unit, User)
)

_temp = MetaData()
STAGE = Table(
    "roster_stage", _temp,
    Column("row_no", Integer), Column("external_id", String(64)), Column("full_name", String(200)),
    Column("unit_code", binary_string(64)), Column("membership", String(32)),
    Column("status", String(32)), Column("position", String(200)), Column("is_leader", Boolean),
    Column("email", String(254)), Column("phone", String(20)),
    *(Column(f"has_{f}", Boolean) for f in ("membership", "status", "position", "is_leader", "email", "phone")),
    Column("error_code", String(64)), Column("error_field", String(32)), Column("error_detail", String(500)),
    prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
)  # fmt: skip
KEYS = Table(
    "roster_keys", _temp,
    Column("row_no", Integer, primary_key=True), Column("name_search", String(200)),
    Column("name_sort", binary_string(400)),
    prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
)  # fmt: skip
assert tuple(c.name for c in STAGE.columns) == STAGE_COLUMNS


def _fail_point(step: str) -> None:
    """Called between the steps of `apply`; tests replace it to inject a failure."""


@dataclass(frozen=True)
class SyncRequest:
    fmt: str
    mode: str | None
    scope_unit_code: str | None
    allow_mass_deactivation: bool
    skip_rejected: bool


@dataclass(frozen=True)
class _Scope:
    unit_id: uuid.UUID | None
    path: str | None  # the subtree rows must fall in (None: the caller's whole scope)


# --- staging -------------------------------------------------------------------------


async def _is_pg(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


def _temp_name(conn: AsyncConnection, table: Table) -> str:
    """Qualified, so that a DROP can only ever reach the temporary table."""
    return f"{'pg_temp' if conn.dialect.name == 'postgresql' else 'temp'}.{table.name}"


async def _create_temp(conn: AsyncConnection, table: Table) -> None:
    await _drop_temp(conn, table)
    await conn.run_sync(lambda sync_conn: table.create(sync_conn))


async def _bulk_settings(conn: AsyncConnection) -> None:
    """PostgreSQL: room for the sorts and hashes of 100,000-row joins in memory, for this
    transaction only."""
    if await _is_pg(conn):
        await conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")


async def _drop_temp(conn: AsyncConnection, table: Table) -> None:
    await conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_temp_name(conn, table)}")


async def _load(conn: AsyncConnection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """Rows (tuples in column order) into a temporary table: COPY on PostgreSQL, one
    batched executemany on SQLite."""
    if not rows:
        return
    names = [c.name for c in table.columns]
    if await _is_pg(conn):
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(table.name, records=rows, columns=names)
    else:
        marks = ", ".join("?" for _ in names)
        await conn.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})",  # noqa: S608 - fixed names
            rows,
        )


def _batches(rows: Iterator[tuple[Any, ...]], size: int = BATCH) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- preview ---------------------------------------------------------------------------


def _in_scope(principal: Principal, scope: _Scope, path: Any) -> ColumnElement[bool]:
    """`path` (a units.path expression) lies in the caller's sync scope and, when the
    sync names a scope unit, in its subtree."""
    clause = scope_filter(principal, Action.ROSTER_SYNC, path)
    if scope.path is not None:
        clause = and_(clause, in_subtree(path, scope.path))
    return clause


async def _resolve_scope(
    session: AsyncSession, principal: Principal, mode: str, code: str | None, where: str
) -> _Scope:
    """The scope unit: required for a snapshot; unknown or outside the caller's scope is
    422 on `scope_unit_code`. An upsert without one is placed at the partner's unit."""
    if code is None:
        if mode == SyncMode.snapshot:
            raise Unprocessable(
                "validation_failed",
                "Đồng bộ toàn bộ (snapshot) cần 'scope_unit_code'.",
                "A snapshot needs 'scope_unit_code'.",
                extra={"errors": [{"loc": [where, "scope_unit_code"], "msg": "required for a snapshot",
                                   "type": "missing"}]},
            )  # fmt: skip
        grants = [g for g in principal.grants if g.unit_id is not None and g.path is not None]
        paths = principal.paths_for(Action.ROSTER_SYNC)
        owner = next((g.unit_id for g in grants if paths and g.path in paths), None)
        return _Scope(owner, None)
    row = (
        await session.execute(
            select(_units.c.id, _units.c.path, _units.c.status).where(
                _units.c.code == code, scope_filter(principal, Action.ROSTER_SYNC, _units.c.path)
            )
        )
    ).first()
    if row is None:
        error = unknown_reference("scope_unit_code", "đơn vị", "unit")
        error.extra["errors"][0]["loc"] = [where, "scope_unit_code"]
        raise error
    if row.status != UnitStatus.active:
        raise Conflict(
            "unit_dissolved", f"Đơn vị {code} đã giải thể.", f"Unit {code} is dissolved."
        )
    return _Scope(row.id, row.path)


def _pick(body_value: Any, body_has: bool, query_value: Any, name: str) -> Any:
    if body_has and query_value is not None and body_value != query_value:
        raise Unprocessable(
            "validation_failed",
            f"'{name}' trong nội dung và trong tham số truy vấn khác nhau.",
            f"'{name}' differs between the body and the query.",
            extra={"errors": [{"loc": ["body", name], "msg": "differs from the query parameter",
                               "type": "value_error"}]},
        )  # fmt: skip
    return body_value if body_has else query_value


async def preview(
    session: AsyncSession, principal: Principal, body: IO[bytes], request: SyncRequest
) -> uuid.UUID:
    """Validate the body and record the sync with its diff (status `previewed`)."""
    require(principal, Action.ROSTER_SYNC)
    reader = RosterReader(body, request.fmt)
    scope: _Scope | None = None
    mode = request.mode
    if request.fmt != JSON:
        mode = validate_mode(request.mode)
        scope = await _resolve_scope(session, principal, mode, request.scope_unit_code, "query")
    conn = await session.connection()
    await _bulk_settings(conn)
    await _create_temp(conn, STAGE)
    # Parsing runs in a worker thread, a batch at a time (api/core/offload.py).
    batches = _batches(reader.members())
    while (batch := await PARSING.run(next, batches, None)) is not None:
        await _load(conn, STAGE, batch)
    reader.finish()
    if await _is_pg(conn):
        await conn.exec_driver_sql(f"ANALYZE {_temp_name(conn, STAGE)}")
    if scope is None:
        mode = validate_mode(_pick(reader.mode, "mode" in reader.top_level, request.mode, "mode"))
        code = validate_scope_code(
            _pick(reader.scope_unit_code, "scope_unit_code" in reader.top_level,
                  request.scope_unit_code, "scope_unit_code")
        )  # fmt: skip
        scope = await _resolve_scope(session, principal, mode, code, "body")
    assert mode is not None
    if reader.units and mode != SyncMode.snapshot:
        raise Unprocessable(
            "validation_failed",
            "Chỉ đồng bộ toàn bộ (snapshot) mới được mang theo đơn vị.",
            "Only a snapshot may carry units.",
            extra={"errors": [{"loc": ["body", "units"], "msg": "snapshot only", "type": "value_error"}]},
        )  # fmt: skip

    sync_id = new_id()
    now = utcnow()
    await conn.execute(
        insert(_syncs).values(
            id=sync_id, mode=mode, status=SyncStatus.previewed, source=reader.source or request.fmt,
            scope_unit_id=scope.unit_id, actor_type=principal.kind, actor_id=principal.id,
            options={"allow_mass_deactivation": request.allow_mass_deactivation,
                     "skip_rejected": request.skip_rejected, "encoding": reader.encoding,
                     "ignored_columns": reader.ignored_columns, "sheet": reader.sheet},
            rows_total=reader.rows, created_at=now, updated_at=now, version=1,
        )
    )  # fmt: skip
    if reader.units:
        await _stage_units(conn, sync_id, principal, scope, reader.units)
    await _diff_members(conn, sync_id, principal, scope, mode)
    if mode == SyncMode.snapshot:
        assert scope.path is not None
        await _diff_absent(conn, sync_id, scope.path)
    await _drop_temp(conn, STAGE)

    counts = await _counts(conn, sync_id)
    fingerprint, scope_members = (
        await _fingerprint(conn, scope.path) if mode == SyncMode.snapshot else (None, 0)
    )
    await conn.execute(
        update(_syncs)
        .where(_syncs.c.id == sync_id)
        .values(**counts, fingerprint=fingerprint, scope_members=scope_members)
    )
    audit.record(
        session, principal, "roster_sync.preview", "roster_sync", sync_id, scope.unit_id,
        {"mode": mode, "source": reader.source or request.fmt, "rows": reader.rows, **counts},
    )  # fmt: skip
    return sync_id


def _new_uuid(conn: AsyncConnection) -> ColumnElement[Any]:
    """A random (version 4) UUID computed by the database, for each new member."""
    if conn.dialect.name == "postgresql":
        return func.gen_random_uuid()
    return literal_column(
        "lower(hex(randomblob(4)) || hex(randomblob(2)) || '4' || substr(hex(randomblob(2)), 2)"
        " || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2)"
        " || hex(randomblob(6)))",
        Uuid(),
    )


async def _diff_members(
    conn: AsyncConnection, sync_id: uuid.UUID, principal: Principal, scope: _Scope, mode: str
) -> None:
    """roster_sync_rows for the staged rows, in one INSERT … SELECT."""
    s = STAGE.alias("s")
    m = _members.alias("m")
    cu = _units.alias("cu")  # the member's current unit
    tu = _units.alias("tu")  # the target unit, by code
    nu = _sunits.alias("nu")  # a unit this snapshot creates
    joined = (
        s.outerjoin(m, m.c.external_id == s.c.external_id)
        .outerjoin(cu, cu.c.id == m.c.unit_id)
        .outerjoin(tu, tu.c.code == s.c.unit_code)
        .outerjoin(nu, and_(nu.c.sync_id == sync_id, nu.c.code == s.c.unit_code,
                            nu.c.action == UnitAction.create.value))
    )  # fmt: skip
    mcols = ("full_name", "membership", "status", "position", "is_leader", "email", "phone")
    d = (
        select(
            *s.c,
            m.c.id.label("m_id"), m.c.version.label("m_version"), m.c.unit_id.label("m_unit_id"),
            *(cast(m.c[c], String(254)).label(f"m_{c}") if c in ("membership", "status") else m.c[c].label(f"m_{c}")
              for c in mcols),
            cu.c.path.label("m_path"),
            func.coalesce(tu.c.id, nu.c.unit_id).label("t_unit_id"),
            func.coalesce(tu.c.path, nu.c.path).label("t_path"),
            tu.c.status.label("t_status"),
            func.count().over(partition_by=s.c.external_id).label("dup_n"),
        ).select_from(joined)
    ).subquery("d")  # fmt: skip

    off_roster_now = d.c.m_status.not_in(ON_ROSTER)
    reason = case(
        (d.c.error_code.is_not(None), literal("parse")),
        (d.c.dup_n > 1, literal("duplicate")),
        (d.c.t_unit_id.is_(None), literal("unknown_unit")),
        (and_(d.c.t_status.is_not(None), d.c.t_status != UnitStatus.active.value), literal("dissolved")),
        (not_(_in_scope(principal, scope, d.c.t_path)), literal("unit_scope")),
        (and_(d.c.m_id.is_not(None),
              not_(scope_filter(principal, Action.ROSTER_SYNC, d.c.m_path))), literal("member_scope")),
        (and_(d.c.m_id.is_(None), d.c.membership.is_(None)), literal("membership")),
        else_=None,
    )  # fmt: skip

    def given(name: str) -> ColumnElement[Any]:
        return case((d.c[f"has_{name}"], d.c[name]), else_=d.c[f"m_{name}"])

    status_whens: list[tuple[Any, Any]] = [
        (d.c.has_status, d.c.status),
        (d.c.m_id.is_(None), literal(MemberStatus.active.value)),
    ]
    if mode == SyncMode.snapshot:  # present in a snapshot: back on the roster
        status_whens.append((off_roster_now, literal(MemberStatus.active.value)))
    e = select(
        d,
        reason.label("reason"),
        given("membership").label("n_membership"),
        case(*status_whens, else_=d.c.m_status).label("n_status"),
        given("position").label("n_position"),
        case((d.c.has_is_leader, d.c.is_leader), (d.c.m_id.is_(None), false()),
             else_=d.c.m_is_leader).label("n_is_leader"),
        given("email").label("n_email"),
        given("phone").label("n_phone"),
    ).subquery("e")  # fmt: skip

    diffs = {
        "full_name": e.c.full_name.is_distinct_from(e.c.m_full_name),
        "unit_code": e.c.t_unit_id.is_distinct_from(e.c.m_unit_id),
        **{f: e.c[f"n_{f}"].is_distinct_from(e.c[f"m_{f}"])
           for f in ("membership", "status", "position", "is_leader", "email", "phone")},
    }  # fmt: skip
    mask = sum((case((cond, FIELD_BITS[f]), else_=0) for f, cond in diffs.items()), literal(0))
    # OFFSET 0 keeps the planner from inlining this level: the mask is computed once per
    # row, not once per column that uses it.
    f = (
        select(
            e,
            case((and_(e.c.reason.is_(None), e.c.m_id.is_not(None)), mask), else_=0).label("mask"),
        )
        .offset(0)
        .subquery("f")
    )
    ok = f.c.reason.is_(None)
    existing = and_(ok, f.c.m_id.is_not(None))
    action = case(
        (f.c.reason.is_not(None), literal(A.rejected.value)),
        (f.c.m_id.is_(None), literal(A.create.value)),
        (and_(f.c.m_status.not_in(ON_ROSTER), f.c.n_status.in_(ON_ROSTER)), literal(A.reactivate.value)),
        (f.c.mask.op("&")(FIELD_BITS["unit_code"]) != 0, literal(A.move.value)),
        (f.c.mask != 0, literal(A.update.value)),
        else_=literal(A.unchanged.value),
    )  # fmt: skip
    changes = and_(existing, f.c.mask != 0)

    def before(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((changes, column), else_=None)

    def after(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((ok, column), else_=None)

    reason_code = {"duplicate": "duplicate_external_id", "unknown_unit": "unknown_unit",
                   "dissolved": "unit_dissolved", "unit_scope": "out_of_scope",
                   "member_scope": "out_of_scope", "membership": "validation_failed"}  # fmt: skip
    reason_field = {"duplicate": "external_id", "unknown_unit": "unit_code", "dissolved": "unit_code",
                    "unit_scope": "unit_code", "member_scope": "external_id", "membership": "membership"}  # fmt: skip
    reason_detail = {
        "unknown_unit": "no unit has this code",
        "dissolved": "the unit is dissolved",
        "unit_scope": "the unit is outside the sync's scope",
        "member_scope": "the member with this external_id belongs to a unit outside your scope",
        "membership": "membership: required for a new member",
    }

    def by_reason(table: dict[str, str], parsed: Any) -> ColumnElement[Any]:
        return case((f.c.reason == "parse", parsed),
                    *((f.c.reason == k, literal(v)) for k, v in table.items()), else_=None)  # fmt: skip

    detail = case(
        (f.c.reason == "duplicate",
         literal("external_id appears in ") + cast(f.c.dup_n, String(12)) + literal(" rows of the body")),
        else_=by_reason(reason_detail, f.c.error_detail),
    )  # fmt: skip
    final = select(
        literal(sync_id, Uuid()), f.c.row_no, action, f.c.external_id,
        case((f.c.reason.is_not(None), None), (f.c.m_id.is_(None), _new_uuid(conn)), else_=f.c.m_id),
        case((ok, f.c.m_version), else_=None),
        after(f.c.t_unit_id), f.c.unit_code, after(f.c.full_name), after(f.c.n_membership),
        after(f.c.n_status), after(f.c.n_position), after(f.c.n_is_leader), after(f.c.n_email),
        after(f.c.n_phone), f.c.mask,
        before(f.c.m_full_name), before(f.c.m_unit_id), before(f.c.m_membership), before(f.c.m_status),
        before(f.c.m_position), before(f.c.m_is_leader), before(f.c.m_email), before(f.c.m_phone),
        by_reason(reason_code, f.c.error_code), by_reason(reason_field, f.c.error_field), detail,
    )  # fmt: skip
    columns = [
        "sync_id", "row_no", "action", "external_id", "member_id", "member_version", "unit_id",
        "unit_code", "full_name", "membership", "status", "position", "is_leader", "email", "phone",
        "changed", "before_full_name", "before_unit_id", "before_membership", "before_status",
        "before_position", "before_is_leader", "before_email", "before_phone", "error_code",
        "error_field", "error_detail",
    ]  # fmt: skip
    await conn.execute(insert(_rows).from_select(columns, final))


async def _diff_absent(conn: AsyncConnection, sync_id: uuid.UUID, scope_path: str) -> None:
    """Snapshot: active/exempt members of the scope whose external_id no row names are
    deactivated; they are numbered after the body's rows, in external_id order."""
    if not await _is_pg(conn):
        await conn.exec_driver_sql(
            "CREATE INDEX roster_stage_external_id ON roster_stage (external_id)"
        )
    last = await conn.scalar(select(func.coalesce(func.max(STAGE.c.row_no), 0)))
    m, u = _members.alias("m"), _units.alias("u")
    named = exists(select(literal(1)).where(STAGE.c.external_id == m.c.external_id))
    absent = (
        select(
            literal(sync_id, Uuid()),
            literal(int(last or 0)) + func.row_number().over(order_by=m.c.external_id),
            literal(A.deactivate.value), m.c.external_id, m.c.id, m.c.version, m.c.unit_id, u.c.code,
            m.c.full_name, m.c.membership, literal(MemberStatus.transferred.value), m.c.position,
            m.c.is_leader, m.c.email, m.c.phone, literal(FIELD_BITS["status"]), m.c.status,
        )
        .select_from(m.join(u, u.c.id == m.c.unit_id))
        .where(in_subtree(u.c.path, scope_path), m.c.status.in_(ON_ROSTER),
               m.c.external_id.is_not(None), not_(named))
    )  # fmt: skip
    columns = [
        "sync_id", "row_no", "action", "external_id", "member_id", "member_version", "unit_id",
        "unit_code", "full_name", "membership", "status", "position", "is_leader", "email", "phone",
        "changed", "before_status",
    ]  # fmt: skip
    await conn.execute(insert(_rows).from_select(columns, absent))


async def _counts(conn: AsyncConnection, sync_id: uuid.UUID) -> dict[str, int]:
    counts = dict.fromkeys([*COUNT_KEYS.values(), *UNIT_COUNT_KEYS.values()], 0)
    rows = await conn.execute(
        select(_rows.c.action, func.count())
        .where(_rows.c.sync_id == sync_id)
        .group_by(_rows.c.action)
    )
    for action, n in rows:
        counts[COUNT_KEYS[RowAction(action)]] = int(n)
    rows = await conn.execute(
        select(_sunits.c.action, func.count())
        .where(_sunits.c.sync_id == sync_id)
        .group_by(_sunits.c.action)
    )
    for action, n in rows:
        counts[UNIT_COUNT_KEYS[UnitAction(action)]] = int(n)
    return counts


async def _fingerprint(conn: AsyncConnection, scope_path: str | None) -> tuple[str, int]:
    """(fingerprint, active and exempt members) of the scope's subtree, one aggregate."""
    assert scope_path is not None
    m, u = _members.alias("m"), _units.alias("u")
    row = (
        await conn.execute(
            select(
                func.count(), func.coalesce(func.sum(m.c.version), 0), func.max(m.c.updated_at),
                func.coalesce(func.sum(case((m.c.status.in_(ON_ROSTER), 1), else_=0)), 0),
            )
            .select_from(m.join(u, u.c.id == m.c.unit_id))
            .where(in_subtree(u.c.path, scope_path))
        )
    ).one()  # fmt: skip
    latest = row[2].isoformat() if isinstance(row[2], datetime) else str(row[2])
    return f"{row[0]}:{row[1]}:{latest}", int(row[3])


# --- units of a snapshot ---------------------------------------------------------------


async def _stage_units(
    conn: AsyncConnection, sync_id: uuid.UUID, principal: Principal, scope: _Scope,
    units: list[UnitRow],
) -> None:  # fmt: skip
    """roster_sync_units: new units get an id and a path (parents first, level by
    level); existing ones in scope are compared; the rest is rejected."""
    rows = []
    for given in units:
        unit_id = new_id()
        rejected = given.error_detail is not None
        rows.append({
            "sync_id": sync_id, "row_no": given.row_no, "code": given.code, "name": given.name,
            "name_search": fold(given.name) if given.name else None, "level": given.level,
            "parent_code": given.parent_code, "id_hex": unit_id.hex,
            "unit_id": None if rejected else unit_id,
            "action": UnitAction.rejected.value if rejected else None,
            "error_code": "validation_failed" if rejected else None,
            "error_field": given.error_field, "error_detail": given.error_detail,
        })  # fmt: skip
    await conn.execute(insert(_sunits), rows)
    su = _sunits
    pending = and_(su.c.sync_id == sync_id, su.c.action.is_(None))

    async def reject(where: Any, code: str, field: str, detail: str) -> None:
        await conn.execute(
            update(su).where(pending, where)
            .values(action=UnitAction.rejected.value, unit_id=None, error_code=code,
                    error_field=field, error_detail=detail)
        )  # fmt: skip

    dup = (
        select(su.c.code)
        .where(su.c.sync_id == sync_id)
        .group_by(su.c.code)
        .having(func.count() > 1)
    )
    await reject(
        su.c.code.in_(dup), "duplicate_code", "code", "the code appears in several unit rows"
    )
    u, pu = _units.alias("u"), _units.alias("pu")
    # Existing units: compared, never moved or dissolved.
    await conn.execute(
        update(su).where(pending, su.c.code == u.c.code)
        .values(unit_id=u.c.id, unit_version=u.c.version, before_name=u.c.name, before_level=u.c.level,
                path=u.c.path, parent_id=u.c.parent_id)
    )  # fmt: skip
    known = su.c.unit_version.is_not(None)
    cur = select(u.c.path).where(u.c.id == su.c.unit_id).scalar_subquery()
    await reject(and_(known, not_(_in_scope(principal, scope, cur))), "out_of_scope", "code",
                 "the unit is outside the sync's scope")  # fmt: skip
    status = select(u.c.status).where(u.c.id == su.c.unit_id).scalar_subquery()
    await reject(and_(known, status != UnitStatus.active.value), "unit_dissolved", "code",
                 "the unit is dissolved")  # fmt: skip
    parent_code = select(pu.c.code).where(pu.c.id == su.c.parent_id).scalar_subquery()
    await reject(
        and_(known, su.c.parent_code.is_not(None), su.c.parent_code.is_distinct_from(parent_code)),
        "unit_move_not_supported", "parent_code",
        "a sync does not move units; move it with PATCH /units/{id}",
    )  # fmt: skip
    await conn.execute(
        update(su).where(pending, known)
        .values(action=case((or_(su.c.name != su.c.before_name, su.c.level != su.c.before_level),
                             UnitAction.update.value), else_=UnitAction.unchanged.value))
    )  # fmt: skip
    # New units: under an existing active unit in scope, then under new ones, level by level.
    await conn.execute(
        update(su).where(pending, su.c.parent_code == u.c.code, u.c.status == UnitStatus.active.value,
                         _in_scope(principal, scope, u.c.path))
        .values(parent_id=u.c.id, path=u.c.path + su.c.id_hex + "/", depth=u.c.depth + 1,
                action=UnitAction.create.value)
    )  # fmt: skip
    parent = _sunits.alias("p")
    while True:
        result = await conn.execute(
            update(su).where(pending, parent.c.sync_id == sync_id, parent.c.code == su.c.parent_code,
                             parent.c.action == UnitAction.create.value)
            .values(parent_id=parent.c.unit_id, path=parent.c.path + su.c.id_hex + "/",
                    depth=parent.c.depth + 1, action=UnitAction.create.value)
        )  # fmt: skip
        if not result.rowcount:
            break
    await reject(true(), "unknown_parent", "parent_code",
                 "parent_code names no active unit in the sync's scope (or the units form a cycle)")  # fmt: skip


# --- reads ---------------------------------------------------------------------------


def _visible(principal: Principal, scope_path: Any) -> ColumnElement[bool]:
    if principal.is_admin:
        return true()
    return or_(
        _syncs.c.actor_id == principal.id,
        and_(scope_path.is_not(None), scope_filter(principal, Action.ROSTER_SYNC, scope_path)),
    )


_SCOPE_UNIT = _units.alias("scope_unit")
_SUMMARY = select(_syncs, _SCOPE_UNIT.c.code.label("scope_unit_code"),
                  _SCOPE_UNIT.c.path.label("scope_path")).select_from(
    _syncs.outerjoin(_SCOPE_UNIT, _SCOPE_UNIT.c.id == _syncs.c.scope_unit_id))  # fmt: skip
_NOT_FOUND = ("not_found", "Không tìm thấy lần đồng bộ.", "Roster sync not found.")


async def _get_row(session: AsyncSession, principal: Principal, sync_id: uuid.UUID) -> Any:
    row = (
        await session.execute(
            _SUMMARY.where(_syncs.c.id == sync_id, _visible(principal, _SCOPE_UNIT.c.path))
        )
    ).first()
    if row is None:
        raise NotFound(*_NOT_FOUND)
    return row


def _summary(row: Any) -> dict[str, Any]:
    options = row.options or {}
    counts = SyncCounts(**{k: getattr(row, k) for k in COUNT_KEYS.values()})
    unit_counts = UnitCounts(
        created=row.units_created, updated=row.units_updated, unchanged=row.units_unchanged,
        rejected=row.units_rejected,
    )  # fmt: skip
    return {
        "id": row.id, "mode": row.mode, "status": row.status, "source": row.source,
        "scope_unit_id": row.scope_unit_id, "scope_unit_code": row.scope_unit_code,
        "counts": counts, "unit_counts": unit_counts, "rows_total": row.rows_total,
        "scope_members": row.scope_members, "mass_deactivation": _mass(row),
        "allow_mass_deactivation": bool(options.get("allow_mass_deactivation")),
        "skip_rejected": bool(options.get("skip_rejected")), "encoding": options.get("encoding"),
        "ignored_columns": list(options.get("ignored_columns") or []),
        "sheet": options.get("sheet"),
        "failure_code": row.failure_code, "failure_detail": row.failure_detail,
        "actor_type": row.actor_type, "actor_id": row.actor_id, "applied_by_type": row.applied_by_type,
        "applied_by_id": row.applied_by_id, "created_at": row.created_at, "applied_at": row.applied_at,
        "version": row.version,
    }  # fmt: skip


def _mass(row: Any) -> bool:
    return bool(row.mode == SyncMode.snapshot and row.deactivated > GUARD_RATIO * row.scope_members)


async def read(session: AsyncSession, principal: Principal, sync_id: uuid.UUID) -> RosterSyncRead:
    """The sync with its first rejected rows (units first, then members, by row)."""
    row = await _get_row(session, principal, sync_id)
    conn = await session.connection()
    unit_errors = await conn.execute(
        select(_sunits.c.row_no, _sunits.c.code, _sunits.c.error_code, _sunits.c.error_field,
               _sunits.c.error_detail)
        .where(_sunits.c.sync_id == sync_id, _sunits.c.action == UnitAction.rejected.value)
        .order_by(_sunits.c.row_no).limit(ERRORS_SHOWN + 1)
    )  # fmt: skip
    errors = [RowError(row=r[0], kind="unit", external_id=r[1], code=r[2], field=r[3], detail=r[4])
              for r in unit_errors]  # fmt: skip
    member_errors = await conn.execute(
        select(_rows.c.row_no, _rows.c.external_id, _rows.c.error_code, _rows.c.error_field,
               _rows.c.error_detail)
        .where(_rows.c.sync_id == sync_id, _rows.c.action == A.rejected.value)
        .order_by(_rows.c.row_no).limit(ERRORS_SHOWN + 1)
    )  # fmt: skip
    errors += [RowError(row=r[0], kind="member", external_id=r[1], code=r[2], field=r[3], detail=r[4])
               for r in member_errors]  # fmt: skip
    return RosterSyncRead(
        **_summary(row), errors=errors[:ERRORS_SHOWN], errors_truncated=len(errors) > ERRORS_SHOWN
    )


async def list_syncs(
    session: AsyncSession, principal: Principal, *, status: SyncStatus | None,
    mode: SyncMode | None, cursor: str | None, limit: int,
) -> tuple[list[RosterSyncSummary], str | None]:  # fmt: skip
    """Newest first: the caller's own syncs and those placed in their sync scope."""
    require(principal, Action.ROSTER_SYNC)
    stmt = _SUMMARY.where(_visible(principal, _SCOPE_UNIT.c.path))
    if status is not None:
        stmt = stmt.where(_syncs.c.status == status)
    if mode is not None:
        stmt = stmt.where(_syncs.c.mode == mode)
    stmt = keyset(
        stmt, kind="roster_syncs", columns=[_syncs.c.created_at, _syncs.c.id],
        types=[datetime, uuid.UUID], cursor=cursor, limit=limit, descending=True,
    )  # fmt: skip
    rows = list((await session.execute(stmt)).all())
    items, next_cursor = page_of(
        rows, kind="roster_syncs", limit=limit, key=lambda r: (r.created_at, r.id)
    )
    return [RosterSyncSummary(**_summary(r)) for r in items], next_cursor


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


async def list_changes(
    session: AsyncSession, principal: Principal, sync_id: uuid.UUID, *,
    action: RowAction | None, cursor: str | None, limit: int,
) -> tuple[list[RosterChangeRead], str | None]:  # fmt: skip
    """The member rows of the diff by row number (keyset on row_no)."""
    await _get_row(session, principal, sync_id)
    r = _rows
    bu = _units.alias("before_unit")
    stmt = (
        select(r, bu.c.code.label("before_unit_code"))
        .select_from(r.outerjoin(bu, bu.c.id == r.c.before_unit_id))
        .where(r.c.sync_id == sync_id)
    )
    if action is not None:
        stmt = stmt.where(r.c.action == action.value)
    stmt = keyset(stmt, kind=f"roster_changes:{sync_id}", columns=[r.c.row_no], types=[int],
                  cursor=cursor, limit=limit)  # fmt: skip
    rows = list((await session.execute(stmt)).all())
    items, next_cursor = page_of(
        rows, kind=f"roster_changes:{sync_id}", limit=limit, key=lambda x: (x.row_no,)
    )
    return [_change(x) for x in items], next_cursor


def _change(x: Any) -> RosterChangeRead:
    changes: dict[str, list[Any]] = {}
    if x.action == A.create.value:
        changes = {f: [None, getattr(x, f)] for f in FIELDS if getattr(x, f) is not None}
    elif x.changed:
        for f, bit in FIELD_BITS.items():
            if x.changed & bit:
                before = x.before_unit_code if f == "unit_code" else getattr(x, f"before_{f}")
                if f == "status" and x.action == A.deactivate.value:
                    before = x.before_status
                changes[f] = [_plain(before), _plain(getattr(x, f))]
    error = (
        ChangeError(code=x.error_code, field=x.error_field, detail=x.error_detail)
        if x.error_code else None
    )  # fmt: skip
    return RosterChangeRead(
        row=x.row_no, action=x.action, external_id=x.external_id, member_id=x.member_id,
        unit_id=x.unit_id, unit_code=x.unit_code, full_name=x.full_name, changes=changes, error=error,
    )  # fmt: skip


async def list_unit_changes(
    session: AsyncSession, principal: Principal, sync_id: uuid.UUID, *,
    cursor: str | None, limit: int,
) -> tuple[list[RosterUnitChangeRead], str | None]:  # fmt: skip
    await _get_row(session, principal, sync_id)
    su = _sunits
    stmt = select(su).where(su.c.sync_id == sync_id)
    kind = f"roster_unit_changes:{sync_id}"
    stmt = keyset(stmt, kind=kind, columns=[su.c.row_no], types=[int], cursor=cursor, limit=limit)
    rows = list((await session.execute(stmt)).all())
    items, next_cursor = page_of(rows, kind=kind, limit=limit, key=lambda x: (x.row_no,))
    out = []
    for x in items:
        changes: dict[str, list[Any]] = {}
        if x.action == UnitAction.create.value:
            changes = {k: [None, getattr(x, k)] for k in ("code", "name", "level", "parent_code")
                       if getattr(x, k) is not None}  # fmt: skip
        elif x.action == UnitAction.update.value:
            changes = {k: [getattr(x, f"before_{k}"), getattr(x, k)] for k in ("name", "level")
                       if getattr(x, f"before_{k}") != getattr(x, k)}  # fmt: skip
        error = (
            ChangeError(code=x.error_code, field=x.error_field, detail=x.error_detail)
            if x.error_code
            else None
        )
        out.append(RosterUnitChangeRead(
            row=x.row_no, action=x.action, code=x.code, unit_id=x.unit_id, parent_code=x.parent_code,
            name=x.name, level=x.level, changes=changes, error=error,
        ))  # fmt: skip
    return out, next_cursor


# --- apply -----------------------------------------------------------------------------


def _refusal(code: str, vi: str, en: str, sync_id: uuid.UUID) -> AppError:
    return AppError(code, vi, en, extra={"sync_id": str(sync_id)})


def _roster_changed(sync_id: uuid.UUID, why: str) -> Conflict:
    return Conflict(
        "roster_changed",
        f"Danh sách đã thay đổi từ lúc xem trước ({why}); hãy gửi lại để xem trước lần nữa.",
        f"The roster changed since the preview ({why}); send the roster again for a new preview.",
        extra={"sync_id": str(sync_id)},
    )


async def apply(
    session: AsyncSession, principal: Principal, sync_id: uuid.UUID, *,
    allow_mass_deactivation: bool = False, skip_rejected: bool = False,
) -> None:  # fmt: skip
    """Apply exactly the previewed diff, in the caller's transaction. An applied sync is
    left as it is (200); refusals raise before anything changes; an unexpected failure
    rolls back, marks the sync `failed` and raises a 500 problem."""
    row = await _get_row(session, principal, sync_id)
    if row.status == SyncStatus.applied:
        return
    if row.status != SyncStatus.previewed:
        raise _refusal("sync_not_applicable", "Lần đồng bộ này đã thất bại; hãy gửi lại.",
                       "This sync failed; send the roster again.", sync_id)  # fmt: skip
    if row.scope_path is not None:
        require(principal, Action.ROSTER_SYNC, row.scope_path)
    else:
        require(principal, Action.ROSTER_SYNC)
    options = row.options or {}
    if (row.rejected or row.units_rejected) and not (skip_rejected or options.get("skip_rejected")):
        raise _refusal(
            "sync_has_rejected_rows",
            f"Có {row.rejected + row.units_rejected} dòng bị từ chối; sửa lại hoặc dùng skip_rejected=true.",
            f"{row.rejected + row.units_rejected} rows were rejected; fix them or apply with skip_rejected=true.",
            sync_id,
        )  # fmt: skip
    if _mass(row) and not (allow_mass_deactivation or options.get("allow_mass_deactivation")):
        raise _refusal(
            "mass_deactivation",
            f"Đồng bộ sẽ chuyển đi {row.deactivated}/{row.scope_members} đảng viên (quá 20%); "
            "dùng allow_mass_deactivation=true nếu đúng như vậy.",
            f"The snapshot would deactivate {row.deactivated} of {row.scope_members} members "
            "(over 20%); apply with allow_mass_deactivation=true if that is intended.",
            sync_id,
        )  # fmt: skip
    # The flags the sync is applied with (given at creation or on apply) are kept with it.
    options = {
        **options,
        "allow_mass_deactivation": bool(
            allow_mass_deactivation or options.get("allow_mass_deactivation")
        ),
        "skip_rejected": bool(skip_rejected or options.get("skip_rejected")),
    }
    try:
        await _apply_steps(session, principal, row, options)
    except AppError:
        raise
    except IntegrityError as exc:
        # A unique key taken since the preview (an external_id or a unit code).
        raise _roster_changed(sync_id, "a new member or unit already exists") from exc
    except Exception as exc:
        await session.rollback()
        if is_unavailable(exc):
            # The database went away (or this connection did): the transaction is lost
            # whole, and nothing is wrong with the sync itself. It stays `previewed`, so
            # the partner retries the apply once the service answers again (503 now).
            raise
        await _mark_failed(sync_id, exc)
        log.exception("roster sync %s failed during apply", sync_id)
        raise AppError(
            "internal_error",
            "Áp dụng đồng bộ thất bại; không có thay đổi nào được ghi. Lần đồng bộ được đánh dấu 'failed'.",
            "Applying the sync failed; nothing was changed. The sync is marked 'failed'.",
            extra={"sync_id": str(sync_id)},
        ) from exc


async def _mark_failed(sync_id: uuid.UUID, exc: BaseException) -> None:
    """In its own transaction: the request's was rolled back."""
    try:
        async with db.sessionmaker() as s:
            await s.execute(
                update(_syncs)
                .where(_syncs.c.id == sync_id, _syncs.c.status == SyncStatus.previewed)
                .values(status=SyncStatus.failed, failure_code="apply_failed",
                        failure_detail=f"{type(exc).__name__} while applying; nothing was applied"[:1000],
                        version=_syncs.c.version + 1, updated_at=utcnow())
            )  # fmt: skip
            await s.commit()
    except Exception:  # the original failure is the one to report
        log.exception("could not mark roster sync %s failed", sync_id)


async def _apply_steps(
    session: AsyncSession, principal: Principal, sync: Any, options: dict[str, Any]
) -> None:
    """The apply transaction, step by step (one service function, one transaction)."""
    conn = await session.connection()
    await _bulk_settings(conn)
    sync_id: uuid.UUID = sync.id
    now = utcnow()
    r = _rows.alias("r")
    of_sync = r.c.sync_id == sync_id

    # 1. Claim the sync: the row lock makes a concurrent apply wait, then find it applied.
    claimed = await conn.execute(
        update(_syncs)
        .where(_syncs.c.id == sync_id, _syncs.c.status == SyncStatus.previewed)
        .values(version=_syncs.c.version + 1, updated_at=now)
    )
    if claimed.rowcount != 1:
        status = await conn.scalar(select(_syncs.c.status).where(_syncs.c.id == sync_id))
        if status == SyncStatus.applied:
            return
        raise _refusal("sync_not_applicable", "Lần đồng bộ này không còn áp dụng được.",
                       "This sync can no longer be applied.", sync_id)  # fmt: skip

    # 2. Has the roster changed since the preview? (409, nothing written yet)
    m, u = _members.alias("m"), _units.alias("u")
    if sync.mode == SyncMode.snapshot and sync.fingerprint is not None:
        fingerprint, _ = await _fingerprint(conn, sync.scope_path)
        if fingerprint != sync.fingerprint:
            raise _roster_changed(sync_id, "members of the scope were added, moved or edited")
    stale = await conn.scalar(
        select(literal(1)).select_from(r.join(m, m.c.id == r.c.member_id))
        .where(of_sync, r.c.action != A.create.value, m.c.version != r.c.member_version).limit(1)
    )  # fmt: skip
    if stale:
        raise _roster_changed(sync_id, "a member named by the sync was edited")
    taken = await conn.scalar(
        select(literal(1)).select_from(r.join(m, m.c.external_id == r.c.external_id))
        .where(of_sync, r.c.action == A.create.value).limit(1)
    )  # fmt: skip
    if taken:
        raise _roster_changed(sync_id, "a member to be created already exists")
    gone = await conn.scalar(
        select(literal(1)).select_from(r.join(u, u.c.id == r.c.unit_id))
        .where(of_sync, r.c.action.in_([A.create.value, *CHANGING]),
               or_(u.c.status != UnitStatus.active.value,
                   not_(scope_filter(principal, Action.ROSTER_SYNC, u.c.path)))).limit(1)
    )  # fmt: skip
    if gone:
        raise _roster_changed(sync_id, "a target unit was dissolved or left your scope")
    _fail_point("checks")

    # 3. Units of a snapshot: updates, then new units parents first.
    if sync.units_created or sync.units_updated:
        await _apply_units(conn, principal, sync_id, now)
    _fail_point("units")

    # 4. Sort and search keys of the names that are new to the roster (computed here, in
    #    Python, only for the rows that need them: a no-op preview costs none).
    await _create_temp(conn, KEYS)
    needs_keys = and_(
        of_sync,
        or_(r.c.action == A.create.value,
            and_(r.c.action.in_(CHANGING), r.c.changed.op("&")(FIELD_BITS["full_name"]) != 0)),
    )  # fmt: skip
    cache: dict[str, tuple[str, str]] = {}
    last_row = await conn.scalar(select(func.max(r.c.row_no)).where(of_sync)) or 0
    for low in range(0, last_row, BATCH):  # row_no ranges: one index range scan each
        part = (
            await conn.execute(
                select(r.c.row_no, r.c.full_name)
                .where(needs_keys, r.c.row_no > low, r.c.row_no <= low + BATCH)
            )
        ).all()  # fmt: skip
        batch = []
        for row_no, name in part:
            keys = cache.get(name)
            if keys is None:
                keys = cache[name] = (fold(name), name_sort_key(name))
            batch.append((row_no, *keys))
        await _load(conn, KEYS, batch)
        if len(cache) > 100_000:
            cache.clear()
    cache.clear()
    _fail_point("keys")

    # 5. New members.
    k = KEYS.alias("k")
    created = await conn.execute(
        insert(_members).from_select(
            ["id", "external_id", "full_name", "name_search", "name_sort", "unit_id", "membership",
             "status", "position", "is_leader", "email", "phone", "declaration", "declared_at",
             "version", "created_at", "updated_at"],
            select(r.c.member_id, r.c.external_id, r.c.full_name, k.c.name_search, k.c.name_sort,
                   r.c.unit_id, r.c.membership, r.c.status, r.c.position, r.c.is_leader, r.c.email,
                   r.c.phone, literal("not_declared"), literal(None), literal(1),
                   literal(now, _members.c.created_at.type), literal(now, _members.c.updated_at.type))
            .select_from(r.join(k, k.c.row_no == r.c.row_no))
            .where(of_sync, r.c.action == A.create.value),
        )
    )  # fmt: skip
    if created.rowcount != sync.created:
        raise _roster_changed(sync_id, "new members could not all be created")
    _fail_point("create")

    # 6. Updates, moves, reactivations (each only if the member is still at its version).
    target = _members
    changed = await conn.execute(
        update(target)
        .where(target.c.id == r.c.member_id, target.c.version == r.c.member_version, of_sync,
               r.c.action.in_(CHANGING))
        .values(full_name=r.c.full_name, unit_id=r.c.unit_id, membership=r.c.membership,
                status=r.c.status, position=r.c.position, is_leader=r.c.is_leader, email=r.c.email,
                phone=r.c.phone, version=target.c.version + 1, updated_at=now)
    )  # fmt: skip
    if changed.rowcount != sync.updated + sync.moved + sync.reactivated:
        raise _roster_changed(sync_id, "a member named by the sync was edited")
    renamed = await conn.execute(
        update(target)
        .where(target.c.id == r.c.member_id, k.c.row_no == r.c.row_no, of_sync, r.c.action.in_(CHANGING))
        .values(name_search=k.c.name_search, name_sort=k.c.name_sort)
    )  # fmt: skip
    del renamed
    _fail_point("update")

    # 7. Deactivations: absent members become `transferred`, never deleted.
    gone_rows = await conn.execute(
        update(target)
        .where(target.c.id == r.c.member_id, target.c.version == r.c.member_version, of_sync,
               r.c.action == A.deactivate.value)
        .values(status=MemberStatus.transferred.value, version=target.c.version + 1, updated_at=now)
    )  # fmt: skip
    if gone_rows.rowcount != sync.deactivated:
        raise _roster_changed(sync_id, "a member to be deactivated was edited")
    _fail_point("deactivate")

    # 8. Members who left the roster: their users' tokens stop working at once.
    leaving = select(r.c.member_id).where(
        of_sync, r.c.action.in_([A.deactivate.value, *CHANGING]), r.c.before_status.in_(ON_ROSTER),
        r.c.status.not_in(ON_ROSTER),
    )  # fmt: skip
    await conn.execute(
        update(_users).where(_users.c.member_id.in_(leaving))
        .values(token_version=_users.c.token_version + 1, updated_at=now)
    )  # fmt: skip
    _fail_point("tokens")
    await _drop_temp(conn, KEYS)

    # 9. Statistics: each changed member's contribution moves from where it was to where
    #    it is (work in proportion to the rows changed, not to the units' sizes).
    changed_rows = and_(of_sync, r.c.action.in_([A.deactivate.value, *CHANGING]))
    now_m = _members.alias("now_m")
    sides = union_all(
        # Deactivation rows carry the member's (unchanged) unit and leadership as values.
        select(r.c.member_id, func.coalesce(r.c.before_unit_id, r.c.unit_id).label("unit_id"),
               r.c.before_status.label("status"),
               func.coalesce(r.c.before_is_leader, r.c.is_leader).label("is_leader"),
               literal(-1).label("sign"))
        .where(changed_rows),
        select(now_m.c.id, now_m.c.unit_id, now_m.c.status, now_m.c.is_leader, literal(1))
        .select_from(r.join(now_m, now_m.c.id == r.c.member_id))
        .where(changed_rows),
    ).subquery("sides")  # fmt: skip
    fresh = (
        select(r.c.unit_id, r.c.status, r.c.is_leader)
        .where(of_sync, r.c.action == A.create.value)
        .subquery("fresh")
    )
    await counters.shift(session, sides, fresh)
    _fail_point("statistics")

    # 10. The sync is applied; one audit event with the counts.
    await conn.execute(
        update(_syncs).where(_syncs.c.id == sync_id)
        .values(status=SyncStatus.applied, applied_at=now, applied_by_type=principal.kind,
                applied_by_id=principal.id, updated_at=now, options=options)
    )  # fmt: skip
    counts = {key: getattr(sync, key) for key in (*COUNT_KEYS.values(), *UNIT_COUNT_KEYS.values())}
    audit.record(
        session, principal, "roster_sync.apply", "roster_sync", sync_id, sync.scope_unit_id,
        {"mode": sync.mode, **counts},
    )  # fmt: skip
    _fail_point("done")


async def _apply_units(
    conn: AsyncConnection, principal: Principal, sync_id: uuid.UUID, now: datetime
) -> None:
    su, u = _sunits, _units
    updated = await conn.execute(
        update(u)
        .where(u.c.id == su.c.unit_id, u.c.version == su.c.unit_version, su.c.sync_id == sync_id,
               su.c.action == UnitAction.update.value)
        .values(name=su.c.name, name_search=su.c.name_search, level=su.c.level,
                version=u.c.version + 1, updated_at=now)
    )  # fmt: skip
    expected = await conn.scalar(
        select(func.count()).where(su.c.sync_id == sync_id, su.c.action == UnitAction.update.value)
    )
    if updated.rowcount != expected:
        raise _roster_changed(sync_id, "a unit of the snapshot was edited")
    new = and_(su.c.sync_id == sync_id, su.c.action == UnitAction.create.value,
               not_(exists(select(literal(1)).where(u.c.id == su.c.unit_id))))  # fmt: skip
    parent = _units.alias("parent")
    while True:
        # Paths from the parents as they are now; parents must still be active and in scope.
        bad = await conn.scalar(
            select(literal(1)).select_from(su.join(parent, parent.c.id == su.c.parent_id))
            .where(new, or_(parent.c.status != UnitStatus.active.value,
                            not_(scope_filter(principal, Action.ROSTER_SYNC, parent.c.path)))).limit(1)
        )  # fmt: skip
        if bad:
            raise _roster_changed(
                sync_id, "the parent of a new unit was dissolved or left your scope"
            )
        await conn.execute(
            update(su).where(new, parent.c.id == su.c.parent_id)
            .values(path=parent.c.path + su.c.id_hex + "/", depth=parent.c.depth + 1)
        )  # fmt: skip
        ready = and_(new, exists(select(literal(1)).where(u.c.id == su.c.parent_id)))
        inserted = await conn.execute(
            insert(u).from_select(
                ["id", "code", "name", "name_search", "level", "parent_id", "path", "depth", "status",
                 "declaration_required", "declaration_deadline_days", "version", "created_at", "updated_at"],
                select(su.c.unit_id, su.c.code, su.c.name, su.c.name_search, su.c.level, su.c.parent_id,
                       su.c.path, su.c.depth, literal(UnitStatus.active.value), true(), literal(30),
                       literal(1), literal(now, u.c.created_at.type), literal(now, u.c.updated_at.type))
                .where(ready),
            )
        )  # fmt: skip
        if not inserted.rowcount:
            break
