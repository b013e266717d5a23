"""Shared pieces of the roster sync tests (no tests here): a known roster on the org tree
of tests/support/world.py, the snapshot of A that exercises every action, and helpers.

Scope A before the sync (`make_roster`):

    A-001 Nguyễn Văn An      A.1 official      active        (row 1: unchanged)
    A-002 Trần Thị Bình      A.1 probationary  active        (row 2: update, membership)
    A-003 Phạm Văn Cường     A.2 official      active, phone (row 3: move to A.1)
    A-004 Hoàng Thị Dung     A.2 official      transferred   (row 4: reactivate)
    A-005 Vũ Văn Em          A.2 official      active        (absent: deactivate)
    A-101…A-110 fillers      A.1/A.2 official  active        (rows 5–14: unchanged)
    DV…   Lê Thị Hoa (org.me, the member user)  A.1 active   (absent: deactivate)
    B-001 Đỗ Thị Giang       B.1 (outside A)
    (no external_id)         A.1 Ngô Văn Hùng  active        (never deactivated)

The snapshot adds N-001 (row 15: create), N-002 without membership (16: rejected),
N-003 in an unknown unit (17: rejected) and N-004 in B.1 (18: rejected, out of scope).
Active or exempt in A: 16, of which 2 absent with an external_id (12.5%).
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import db
from api.core.enums import Membership, MemberStatus
from api.models import Member, User
from api.services.roster.apply import ApplyRun, Step
from tests.support.factories import make_member
from tests.support.world import Org, build_org

SYNCS = "/api/v1/roster/syncs"
EXPECTED_COUNTS = {
    "created": 1,
    "updated": 1,
    "moved": 1,
    "deactivated": 2,
    "reactivated": 1,
    "unchanged": 11,
    "rejected": 3,
}
FILLERS = [f"A-{100 + i}" for i in range(1, 11)]


@dataclass
class Roster:
    org: Org
    members: dict[str, Member] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        return self.org.headers(role)


async def make_roster(session: AsyncSession) -> Roster:
    org = await build_org(session)
    r = Roster(org)
    m = r.members
    m["A-001"] = await make_member(session, org.a1, external_id="A-001", full_name="Nguyễn Văn An")
    m["A-002"] = await make_member(
        session,
        org.a1,
        external_id="A-002",
        full_name="Trần Thị Bình",
        membership=Membership.probationary,
    )
    m["A-003"] = await make_member(
        session, org.a2, external_id="A-003", full_name="Phạm Văn Cường", phone="+84912345678"
    )
    m["A-004"] = await make_member(
        session,
        org.a2,
        external_id="A-004",
        full_name="Hoàng Thị Dung",
        status=MemberStatus.transferred,
    )
    m["A-005"] = await make_member(session, org.a2, external_id="A-005", full_name="Vũ Văn Em")
    for i, ext in enumerate(FILLERS):
        unit = org.a1 if i % 2 else org.a2
        m[ext] = await make_member(session, unit, external_id=ext, full_name=f"Lê Văn Phụ {i}")
    m["B-001"] = await make_member(session, org.b1, external_id="B-001", full_name="Đỗ Thị Giang")
    m["no-id"] = await make_member(session, org.a1, external_id=None, full_name="Ngô Văn Hùng")
    return r


def row(ext: str, name: str, unit: str, **extra: Any) -> dict[str, Any]:
    return {"external_id": ext, "full_name": name, "unit_code": unit, **extra}


def snapshot_rows(*, bad: bool = True) -> list[dict[str, Any]]:
    """The member rows of the known snapshot of A (see the module docstring)."""
    rows = [
        row("A-001", "Nguyễn Văn An", "A.1", membership="official"),
        row("A-002", "Trần Thị Bình", "A.1", membership="official"),
        row("A-003", "Phạm Văn Cường", "A.1", membership="official"),
        row("A-004", "Hoàng Thị Dung", "A.2", membership="official"),
        *(
            row(ext, f"Lê Văn Phụ {i}", "A.1" if i % 2 else "A.2", membership="official")
            for i, ext in enumerate(FILLERS)
        ),
        row("N-001", "Đặng Thị Lan", "A.2", membership="probationary", email="lan.dt@example.vn"),
    ]
    if bad:
        rows += [
            row("N-002", "Bùi Văn Minh", "A.1"),
            row("N-003", "Đỗ Văn Nam", "ZZ", membership="official"),
            row("N-004", "Hồ Thị Oanh", "B.1", membership="official"),
        ]
    return rows


def snapshot(rows: list[dict[str, Any]] | None = None, scope: str = "A") -> dict[str, Any]:
    return {
        "mode": "snapshot",
        "scope_unit_code": scope,
        "members": snapshot_rows() if rows is None else rows,
    }


def to_csv(
    rows: list[dict[str, Any]],
    headers: dict[str, str] | None = None,
    *,
    delimiter: str = ",",
    bom: bool = False,
) -> bytes:
    """Member rows as CSV; `headers` renames the field columns (e.g. to Vietnamese)."""
    names = [
        "external_id",
        "full_name",
        "unit_code",
        "membership",
        "status",
        "position",
        "is_leader",
        "email",
        "phone",
    ]
    used = [n for n in names if any(n in r for r in rows)] or names[:3]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([(headers or {}).get(n, n) for n in used])
    for r in rows:
        writer.writerow(["" if r.get(n) is None else r.get(n) for n in used])
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


async def post_sync(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    body: Any,
    *,
    content_type: str | None = None,
    **params: Any,
) -> httpx.Response:
    params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()}
    if isinstance(body, bytes):
        hdrs = {**headers, "Content-Type": content_type or "text/csv"}
        return await client.post(SYNCS, content=body, headers=hdrs, params=params)
    return await client.post(SYNCS, json=body, headers=headers, params=params)


async def preview(
    client: httpx.AsyncClient,
    roster: Roster,
    role: str = "partner_a",
    body: Any = None,
    **params: Any,
) -> dict[str, Any]:
    r = await post_sync(
        client, roster.headers(role), snapshot() if body is None else body, **params
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


async def apply(
    client: httpx.AsyncClient, roster: Roster, sync_id: str, role: str = "partner_a", **params: Any
) -> httpx.Response:
    params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()}
    return await client.post(
        f"{SYNCS}/{sync_id}/apply", headers=roster.headers(role), params=params
    )


async def all_changes(
    client: httpx.AsyncClient, roster: Roster, sync_id: str, role: str = "partner_a", **params: Any
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = await client.get(
            f"{SYNCS}/{sync_id}/changes", headers=roster.headers(role), params=query
        )
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


async def members_state() -> dict[uuid.UUID, tuple[Any, ...]]:
    """Every member row as committed, for before/after comparisons."""
    async with db.sessionmaker() as s:
        rows = (await s.execute(select(Member.__table__))).all()
    return {r.id: tuple(r) for r in rows}


async def member_by_external_id(ext: str) -> Member | None:
    async with db.sessionmaker() as s:
        return await s.scalar(select(Member).where(Member.external_id == ext))


async def token_versions() -> dict[uuid.UUID, int]:
    async with db.sessionmaker() as s:
        return {u.id: u.token_version for u in (await s.scalars(select(User))).all()}


def fail_after(step: Step, error: BaseException) -> Step:
    """An apply step (api.services.roster.apply.STEPS) that runs and then raises `error`,
    to cut an apply off at that point: `monkeypatch.setitem(STEPS, name, fail_after(...))`."""

    async def run(apply_run: ApplyRun) -> None:
        await step(apply_run)
        raise error

    return run
