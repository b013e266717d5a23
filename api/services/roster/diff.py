"""Diff: what a sync would change, written as rows, in set-based SQL (no FastAPI here).

One `INSERT … SELECT` joins the staged rows to `members` (external_id) and
`units` (code) and writes `roster_sync_rows`: per row the action, the member's
values after the sync, the values before for rows that change it, and the reason of
a rejection. A snapshot adds one `INSERT … SELECT` for the absent members. Counts are
one `GROUP BY`; the scope's fingerprint one aggregate.

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
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Subquery,
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
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from api.core.enums import MemberStatus, RowAction, SyncMode, UnitAction, UnitStatus
from api.services.authz import Action, Principal, in_subtree, scope_filter
from api.services.roster.common import (
    COUNT_KEYS,
    FIELD_BITS,
    MEMBERS,
    ON_ROSTER,
    SYNC_ROWS,
    SYNC_UNITS,
    UNIT_COUNT_KEYS,
    UNITS,
    Scope,
    in_scope,
)
from api.services.roster.stage import STAGE, is_pg

_ROW_COLUMNS = [
    "sync_id",
    "row_no",
    "action",
    "external_id",
    "member_id",
    "member_version",
    "unit_id",
    "unit_code",
    "full_name",
    "membership",
    "status",
    "position",
    "is_leader",
    "email",
    "phone",
    "changed",
    "before_full_name",
    "before_unit_id",
    "before_membership",
    "before_status",
    "before_position",
    "before_is_leader",
    "before_email",
    "before_phone",
    "error_code",
    "error_field",
    "error_detail",
]
T = TypeVar("T")
MaybeText = ColumnElement[str | None]  # a text column or expression, possibly NULL

# The error of a row rejected by the diff, by reason (a parse error keeps its own).
_REASON_CODE = {
    "duplicate": "duplicate_external_id",
    "unknown_unit": "unknown_unit",
    "dissolved": "unit_dissolved",
    "unit_scope": "out_of_scope",
    "member_scope": "out_of_scope",
    "membership": "validation_failed",
}
_REASON_FIELD = {
    "duplicate": "external_id",
    "unknown_unit": "unit_code",
    "dissolved": "unit_code",
    "unit_scope": "unit_code",
    "member_scope": "external_id",
    "membership": "membership",
}
_REASON_DETAIL = {
    "unknown_unit": "no unit has this code",
    "dissolved": "the unit is dissolved",
    "unit_scope": "the unit is outside the sync's scope",
    "member_scope": "the member with this external_id belongs to a unit outside your scope",
    "membership": "membership: required for a new member",
}


def _new_uuid(conn: AsyncConnection) -> ColumnElement[uuid.UUID]:
    """A random (version 4) UUID computed by the database, for each new member."""
    if conn.dialect.name == "postgresql":
        return func.gen_random_uuid()
    return literal_column(
        "lower(hex(randomblob(4)) || hex(randomblob(2)) || '4' || substr(hex(randomblob(2)), 2)"
        " || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2)"
        " || hex(randomblob(6)))",
        Uuid(),
    )


async def diff_members(
    conn: AsyncConnection, sync_id: uuid.UUID, principal: Principal, scope: Scope, mode: str
) -> None:
    """roster_sync_rows for the staged rows, in one INSERT … SELECT built in four levels:
    the staged rows joined to what they name, each row's rejection reason and values
    after the sync, the mask of the fields it changes, and the columns written."""
    d = _joined(sync_id)
    e = _resolved(d, principal, scope, mode)
    f = _masked(e)
    final, columns = _diff_rows(conn, sync_id, f)
    await conn.execute(insert(SYNC_ROWS).from_select(columns, final))


def _joined(sync_id: uuid.UUID) -> Subquery:
    """Each staged row with the member of its external_id (and that member's unit), the
    target unit by code (or the snapshot's new unit) and the count of its duplicates."""
    s = STAGE.alias("s")
    m = MEMBERS.alias("m")
    cu = UNITS.alias("cu")  # the member's current unit
    tu = UNITS.alias("tu")  # the target unit, by code
    nu = SYNC_UNITS.alias("nu")  # a unit this snapshot creates
    joined = (
        s.outerjoin(m, m.c.external_id == s.c.external_id)
        .outerjoin(cu, cu.c.id == m.c.unit_id)
        .outerjoin(tu, tu.c.code == s.c.unit_code)
        .outerjoin(
            nu,
            and_(
                nu.c.sync_id == sync_id,
                nu.c.code == s.c.unit_code,
                nu.c.action == UnitAction.create.value,
            ),
        )
    )
    mcols = ("full_name", "membership", "status", "position", "is_leader", "email", "phone")
    d = (
        select(
            *s.c,
            m.c.id.label("m_id"),
            m.c.version.label("m_version"),
            m.c.unit_id.label("m_unit_id"),
            *(
                cast(m.c[c], String(254)).label(f"m_{c}")
                if c in ("membership", "status")
                else m.c[c].label(f"m_{c}")
                for c in mcols
            ),
            cu.c.path.label("m_path"),
            func.coalesce(tu.c.id, nu.c.unit_id).label("t_unit_id"),
            func.coalesce(tu.c.path, nu.c.path).label("t_path"),
            tu.c.status.label("t_status"),
            func.count().over(partition_by=s.c.external_id).label("dup_n"),
        ).select_from(joined)
    ).subquery("d")
    return d


def _resolved(d: Subquery, principal: Principal, scope: Scope, mode: str) -> Subquery:
    """The reason a row is rejected (None: accepted) and the member's values after it."""
    off_roster_now = d.c.m_status.not_in(ON_ROSTER)
    reason = case(
        (d.c.error_code.is_not(None), literal("parse")),
        (d.c.dup_n > 1, literal("duplicate")),
        (d.c.t_unit_id.is_(None), literal("unknown_unit")),
        (
            and_(d.c.t_status.is_not(None), d.c.t_status != UnitStatus.active.value),
            literal("dissolved"),
        ),
        (not_(in_scope(principal, scope, d.c.t_path)), literal("unit_scope")),
        (
            and_(
                d.c.m_id.is_not(None), not_(scope_filter(principal, Action.ROSTER_SYNC, d.c.m_path))
            ),
            literal("member_scope"),
        ),
        (and_(d.c.m_id.is_(None), d.c.membership.is_(None)), literal("membership")),
        else_=None,
    )

    def given(name: str) -> MaybeText:
        return case((d.c[f"has_{name}"], d.c[name]), else_=d.c[f"m_{name}"])

    status_whens: list[tuple[ColumnElement[bool], ColumnElement[str]]] = [
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
        case(
            (d.c.has_is_leader, d.c.is_leader), (d.c.m_id.is_(None), false()), else_=d.c.m_is_leader
        ).label("n_is_leader"),
        given("email").label("n_email"),
        given("phone").label("n_phone"),
    ).subquery("e")
    return e


def _masked(e: Subquery) -> Subquery:
    """FIELD_BITS of the fields an accepted row of an existing member changes."""
    diffs = {
        "full_name": e.c.full_name.is_distinct_from(e.c.m_full_name),
        "unit_code": e.c.t_unit_id.is_distinct_from(e.c.m_unit_id),
        **{
            f: e.c[f"n_{f}"].is_distinct_from(e.c[f"m_{f}"])
            for f in ("membership", "status", "position", "is_leader", "email", "phone")
        },
    }
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
    return f


def _row_action(f: Subquery) -> ColumnElement[str]:
    """A row's action: rejected (a reason), create (no member), reactivate (back on the
    roster), move (another unit), update (another change) or unchanged."""
    return case(
        (f.c.reason.is_not(None), literal(RowAction.rejected.value)),
        (f.c.m_id.is_(None), literal(RowAction.create.value)),
        (
            and_(f.c.m_status.not_in(ON_ROSTER), f.c.n_status.in_(ON_ROSTER)),
            literal(RowAction.reactivate.value),
        ),
        (f.c.mask.op("&")(FIELD_BITS["unit_code"]) != 0, literal(RowAction.move.value)),
        (f.c.mask != 0, literal(RowAction.update.value)),
        else_=literal(RowAction.unchanged.value),
    )


def _by_reason(f: Subquery, table: dict[str, str], parsed: MaybeText) -> MaybeText:
    """A rejected row's error column: the parser's own for a parse error, else the value
    the table gives the row's reason."""
    return case(
        (f.c.reason == "parse", parsed),
        *((f.c.reason == k, literal(v)) for k, v in table.items()),
        else_=None,
    )


def _diff_rows(
    conn: AsyncConnection, sync_id: uuid.UUID, f: Subquery
) -> tuple[Select[*tuple[object, ...]], list[str]]:
    """The roster_sync_rows columns of each row: action, values after, values before
    (only when it changes the member) and the error of a rejected row."""
    ok = f.c.reason.is_(None)
    existing = and_(ok, f.c.m_id.is_not(None))
    action = _row_action(f)
    changes = and_(existing, f.c.mask != 0)

    def before(column: ColumnElement[T]) -> ColumnElement[T | None]:
        return case((changes, column), else_=None)

    def after(column: ColumnElement[T]) -> ColumnElement[T | None]:
        return case((ok, column), else_=None)

    def by_reason(table: dict[str, str], parsed: MaybeText) -> MaybeText:
        return _by_reason(f, table, parsed)

    detail = case(
        (
            f.c.reason == "duplicate",
            literal("external_id appears in ")
            + cast(f.c.dup_n, String(12))
            + literal(" rows of the body"),
        ),
        else_=by_reason(_REASON_DETAIL, f.c.error_detail),
    )
    final = select(
        literal(sync_id, Uuid()),
        f.c.row_no,
        action,
        f.c.external_id,
        case(
            (f.c.reason.is_not(None), None), (f.c.m_id.is_(None), _new_uuid(conn)), else_=f.c.m_id
        ),
        case((ok, f.c.m_version), else_=None),
        after(f.c.t_unit_id),
        f.c.unit_code,
        after(f.c.full_name),
        after(f.c.n_membership),
        after(f.c.n_status),
        after(f.c.n_position),
        after(f.c.n_is_leader),
        after(f.c.n_email),
        after(f.c.n_phone),
        f.c.mask,
        before(f.c.m_full_name),
        before(f.c.m_unit_id),
        before(f.c.m_membership),
        before(f.c.m_status),
        before(f.c.m_position),
        before(f.c.m_is_leader),
        before(f.c.m_email),
        before(f.c.m_phone),
        by_reason(_REASON_CODE, f.c.error_code),
        by_reason(_REASON_FIELD, f.c.error_field),
        detail,
    )
    return final, _ROW_COLUMNS


async def diff_absent(conn: AsyncConnection, sync_id: uuid.UUID, scope_path: str) -> None:
    """Snapshot: active/exempt members of the scope whose external_id no row names are
    deactivated; they are numbered after the body's rows, in external_id order."""
    if not await is_pg(conn):
        await conn.exec_driver_sql(
            "CREATE INDEX roster_stage_external_id ON roster_stage (external_id)"
        )
    last = await conn.scalar(select(func.coalesce(func.max(STAGE.c.row_no), 0)))
    m, u = MEMBERS.alias("m"), UNITS.alias("u")
    named = exists(select(literal(1)).where(STAGE.c.external_id == m.c.external_id))
    absent = (
        select(
            literal(sync_id, Uuid()),
            literal(int(last or 0)) + func.row_number().over(order_by=m.c.external_id),
            literal(RowAction.deactivate.value),
            m.c.external_id,
            m.c.id,
            m.c.version,
            m.c.unit_id,
            u.c.code,
            m.c.full_name,
            m.c.membership,
            literal(MemberStatus.transferred.value),
            m.c.position,
            m.c.is_leader,
            m.c.email,
            m.c.phone,
            literal(FIELD_BITS["status"]),
            m.c.status,
        )
        .select_from(m.join(u, u.c.id == m.c.unit_id))
        .where(
            in_subtree(u.c.path, scope_path),
            m.c.status.in_(ON_ROSTER),
            m.c.external_id.is_not(None),
            not_(named),
        )
    )
    columns = [
        "sync_id",
        "row_no",
        "action",
        "external_id",
        "member_id",
        "member_version",
        "unit_id",
        "unit_code",
        "full_name",
        "membership",
        "status",
        "position",
        "is_leader",
        "email",
        "phone",
        "changed",
        "before_status",
    ]
    await conn.execute(insert(SYNC_ROWS).from_select(columns, absent))


async def count_actions(conn: AsyncConnection, sync_id: uuid.UUID) -> dict[str, int]:
    counts = dict.fromkeys([*COUNT_KEYS.values(), *UNIT_COUNT_KEYS.values()], 0)
    rows = await conn.execute(
        select(SYNC_ROWS.c.action, func.count())
        .where(SYNC_ROWS.c.sync_id == sync_id)
        .group_by(SYNC_ROWS.c.action)
    )
    for action, n in rows:
        counts[COUNT_KEYS[RowAction(action)]] = int(n)
    rows = await conn.execute(
        select(SYNC_UNITS.c.action, func.count())
        .where(SYNC_UNITS.c.sync_id == sync_id)
        .group_by(SYNC_UNITS.c.action)
    )
    for action, n in rows:
        counts[UNIT_COUNT_KEYS[UnitAction(action)]] = int(n)
    return counts


async def scope_fingerprint(conn: AsyncConnection, scope_path: str | None) -> tuple[str, int]:
    """(fingerprint, active and exempt members) of the scope's subtree, one aggregate."""
    assert scope_path is not None
    m, u = MEMBERS.alias("m"), UNITS.alias("u")
    row = (
        await conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(m.c.version), 0),
                func.max(m.c.updated_at),
                func.coalesce(func.sum(case((m.c.status.in_(ON_ROSTER), 1), else_=0)), 0),
            )
            .select_from(m.join(u, u.c.id == m.c.unit_id))
            .where(in_subtree(u.c.path, scope_path))
        )
    ).one()
    latest = row[2].isoformat() if isinstance(row[2], datetime) else str(row[2])
    return f"{row[0]}:{row[1]}:{latest}", int(row[3])
