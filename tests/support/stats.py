"""Helpers of the statistics tests (SPEC §5 "Statistics"): builders that go through the
API (which maintains the counters), a brute-force recount of every figure from the rows
read back from the database, and the maintained-versus-rebuilt counter comparison.

The brute force follows the Field descriptions of api/schemas/stats.py word for word and
shares no code with api/services/{counters,stats}.py.
"""

from __future__ import annotations

import itertools
import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import httpx
from sqlalchemy import select

from api.core.db import db, utcnow
from api.core.enums import Role
from api.models import (
    Account,
    Document,
    DocumentAcknowledgement,
    Member,
    Report,
    Unit,
    UnitDocumentAcks,
    UnitRollup,
    UnitStats,
)
from api.services import counters
from api.services.counters import COUNT_COLUMNS
from tests.conftest import TEST_DATABASE_URL
from tests.support.factories import auth, make_user

API = "/api/v1"
STATS = f"{API}/stats"
COMPLIANCE = f"{STATS}/compliance"
SERIES = f"{STATS}/reports"
PLATFORMS = (
    "facebook",
    "zalo",
    "youtube",
    "tiktok",
    "instagram",
    "x",
    "telegram",
    "threads",
    "linkedin",
    "website",
    "other",
)
COUNTED = (
    "members_active",
    "leaders_active",
    "members_declared",
    "members_with_accounts",
    "leaders_with_accounts",
    "accounts_total",
    "accounts_verified",
    "accounts_pending",
    "acks_done",
    "acks_expected",
    "reports_filed",
    "reports_open",
    "reports_overdue",
    "reports_resolved",
)
FIGURES = (
    *COUNTED,
    "accounts_by_platform",
    "declaration_rate",
    "ack_rate",
    "median_hours_to_resolve",
)
CLAIMING = frozenset({"pending", "verified", "compromised"})
OPEN = frozenset({"submitted", "in_review", "escalated"})
_seq = itertools.count(1)


def value(v: Any) -> Any:
    """An enum member's code, anything else as is."""
    return getattr(v, "value", v)


# --------------------------------------------------------------------------- the rows


@dataclass
class World:
    """Every row the statistics count, read back in one fresh session."""

    units: dict[uuid.UUID, Any]
    members: dict[uuid.UUID, Any]
    accounts: list[Any]
    reports: list[Any]
    documents: dict[uuid.UUID, Any]
    acks: list[Any]
    now: datetime

    def subtree(self, unit_id: uuid.UUID) -> set[uuid.UUID]:
        path = self.units[unit_id].path
        return {u.id for u in self.units.values() if u.path.startswith(path)}

    def addresses(self, doc: Any, unit_id: uuid.UUID) -> bool:
        """The document's audience unit is `unit_id` or one of its ancestors."""
        return bool(self.units[unit_id].path.startswith(self.units[doc.audience_unit_id].path))

    def children(self, unit_id: uuid.UUID) -> list[Any]:
        return [u for u in self.units.values() if u.parent_id == unit_id]


async def load_world() -> World:
    async with db.sessionmaker() as s:
        units = {u.id: u for u in (await s.scalars(select(Unit))).all()}
        members = {m.id: m for m in (await s.scalars(select(Member))).all()}
        accounts = list((await s.scalars(select(Account))).all())
        reports = list((await s.scalars(select(Report))).all())
        documents = {d.id: d for d in (await s.scalars(select(Document))).all()}
        acks = list((await s.scalars(select(DocumentAcknowledgement))).all())
    return World(units, members, accounts, reports, documents, acks, utcnow())


def _rate(done: int, expected: int) -> float | None:
    return done / expected if expected else None


def hours(report: Any) -> float:
    return float((report.closed_at - report.created_at).total_seconds() / 3600)


def brute_force(
    w: World, unit_id: uuid.UUID, *, start: datetime | None = None, end: datetime | None = None
) -> dict[str, Any]:
    """Every figure of /stats/compliance for `unit_id`'s subtree, recounted from the rows
    by the definitions in the OpenAPI descriptions."""
    units = w.subtree(unit_id)
    members = [m for m in w.members.values() if m.unit_id in units]
    active = [m for m in members if value(m.status) == "active"]
    holders = {a.member_id for a in w.accounts if value(a.status) in CLAIMING}
    accounts = [a for a in w.accounts if w.members[a.member_id].unit_id in units]
    claimed = [a for a in accounts if value(a.status) in CLAIMING]
    counted_docs = [
        d for d in w.documents.values() if value(d.status) == "published" and d.requires_ack
    ]
    expected = sum(1 for m in active for d in counted_docs if w.addresses(d, m.unit_id))
    active_ids = {m.id for m in active}
    done = 0
    for ack in w.acks:
        doc = w.documents[ack.document_id]
        if (
            doc in counted_docs
            and ack.revision == doc.revision
            and ack.member_id in active_ids
            and w.addresses(doc, w.members[ack.member_id].unit_id)
        ):
            done += 1
    reports = [
        r
        for r in w.reports
        if r.unit_id in units
        and (start is None or r.created_at >= start)
        and (end is None or r.created_at < end)
    ]
    is_open = [r for r in reports if value(r.status) in OPEN]
    resolved = [r for r in reports if value(r.status) == "resolved"]
    declared = [m for m in active if value(m.declaration) != "not_declared"]
    with_accounts = [m for m in active if m.id in holders]
    return {
        "members_active": len(active),
        "leaders_active": sum(1 for m in active if m.is_leader),
        "members_declared": len(declared),
        "declaration_rate": _rate(len(declared), len(active)),
        "members_with_accounts": len(with_accounts),
        "leaders_with_accounts": sum(1 for m in with_accounts if m.is_leader),
        "accounts_total": len(claimed),
        "accounts_verified": sum(1 for a in accounts if value(a.status) == "verified"),
        "accounts_pending": sum(1 for a in accounts if value(a.status) == "pending"),
        "accounts_by_platform": {
            p: sum(1 for a in claimed if value(a.platform) == p) for p in PLATFORMS
        },
        "acks_done": done,
        "acks_expected": expected,
        "ack_rate": _rate(done, expected),
        "reports_filed": len(reports),
        "reports_open": len(is_open),
        "reports_overdue": sum(1 for r in is_open if r.due_at < w.now),
        "reports_resolved": len(resolved),
        "median_hours_to_resolve": (
            round(statistics.median(hours(r) for r in resolved), 4) if resolved else None
        ),
    }


def document_brute_force(w: World, doc_id: uuid.UUID, unit_id: uuid.UUID) -> tuple[int, int]:
    """(addressed, acknowledged) of a document within `unit_id`'s subtree: active members
    the document addresses, and those of them with an acknowledgement of its current
    revision."""
    doc = w.documents[doc_id]
    units = w.subtree(unit_id)
    addressed = {
        m.id
        for m in w.members.values()
        if m.unit_id in units and value(m.status) == "active" and w.addresses(doc, m.unit_id)
    }
    acked = {a.member_id for a in w.acks if a.document_id == doc.id and a.revision == doc.revision}
    return len(addressed), len(addressed & acked)


def assert_figures(
    row: dict[str, Any],
    expected: dict[str, Any],
    *,
    median_abs: float | None = None,
    where: str = "",
) -> None:
    """Every figure of a compliance row equals the brute force (the median within
    `median_abs`, by default the backend's precision: exact on PostgreSQL; SQLite's
    julianday() keeps milliseconds only, so a median of a fraction of a second may round
    to the other side of 0.0001 h)."""
    if median_abs is None:
        median_abs = 0.0 if TEST_DATABASE_URL.startswith("postgresql") else 1.5e-4
    got = {k: row[k] for k in FIGURES}
    want = dict(expected)
    gm, wm = got.pop("median_hours_to_resolve"), want.pop("median_hours_to_resolve")
    assert got == want, f"{where}: {_diff(got, want)}"
    if wm is None or gm is None or median_abs == 0.0:
        assert gm == wm, f"{where}: median {gm} != {wm}"
    else:
        assert abs(gm - wm) <= median_abs, f"{where}: median {gm} != {wm}"


def _diff(got: dict[str, Any], want: dict[str, Any]) -> dict[str, Any]:
    return {k: (got.get(k), want.get(k)) for k in want if got.get(k) != want.get(k)}


# --------------------------------------------------------------------------- counters


def _normalised(rows: dict[Any, tuple[Any, ...]]) -> dict[Any, tuple[Any, ...]]:
    """A missing row reads as zeros: drop the rows that are all zeros (median null)."""
    return {k: v for k, v in rows.items() if any(x not in (0, None) for x in v)}


async def counter_rows(session: Any) -> dict[str, dict[Any, tuple[Any, ...]]]:
    stats = (await session.scalars(select(UnitStats))).all()
    rollups = (await session.scalars(select(UnitRollup))).all()
    acks = (await session.scalars(select(UnitDocumentAcks))).all()
    return {
        "unit_stats": _normalised(
            {r.unit_id: tuple(getattr(r, c) for c in COUNT_COLUMNS) for r in stats}
        ),
        "unit_rollups": _normalised(
            {
                r.unit_id: (*(getattr(r, c) for c in COUNT_COLUMNS), r.median_hours_to_resolve)
                for r in rollups
            }
        ),
        "unit_document_acks": _normalised({(r.unit_id, r.document_id): (r.acks,) for r in acks}),
    }


async def maintained_and_rebuilt() -> tuple[dict[str, Any], dict[str, Any]]:
    """The maintained counter rows once every pending delta is folded (as the folder
    would), and those `recount_all` builds from scratch in the same transaction (rolled
    back: the maintained rows stay as they were)."""
    async with db.sessionmaker() as s:
        await counters.fold_all(s)
        maintained = await counter_rows(s)
        await counters.recount_all(s)
        rebuilt = await counter_rows(s)
        await s.rollback()
    return maintained, rebuilt


def counter_diff(
    maintained: dict[str, Any], rebuilt: dict[str, Any], names: dict[uuid.UUID, str] | None = None
) -> dict[str, Any]:
    """What differs, per table and key, with COUNT_COLUMNS names (for assertion messages)."""
    out: dict[str, Any] = {}
    columns = (*COUNT_COLUMNS, "median_hours_to_resolve")
    for table in rebuilt:
        for key in maintained[table].keys() | rebuilt[table].keys():
            m, r = maintained[table].get(key), rebuilt[table].get(key)
            if m != r:
                label = (names or {}).get(key, key) if not isinstance(key, tuple) else key
                if m is not None and r is not None and table != "unit_document_acks":
                    out[f"{table}[{label}]"] = {
                        c: (a, b) for c, a, b in zip(columns, m, r, strict=False) if a != b
                    }
                else:
                    out[f"{table}[{label}]"] = (m, r)
    return out


async def folded_rollup(unit_id: uuid.UUID) -> UnitRollup:
    """A unit's rollup row once every pending delta is folded."""
    async with db.sessionmaker() as s:
        await counters.fold_all(s)
        row = await s.get(UnitRollup, unit_id)
        assert row is not None
        return row


async def recount() -> None:
    async with db.sessionmaker() as s:
        await counters.recount_all(s)
        await s.commit()


# --------------------------------------------------------------------------- builders


class Api:
    """The write calls the statistics tests build their data with, as one principal
    (an admin by default), each asserting its status."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def call(
        self,
        method: str,
        url: str,
        expect: tuple[int, ...] = (200, 201),
        *,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> httpx.Response:
        r = await self.client.request(method, API + url, headers=headers or self.headers, **kw)
        assert r.status_code in expect, f"{method} {url}: {r.status_code} {r.text}"
        return r

    async def member(self, unit_id: uuid.UUID | str, **fields: Any) -> dict[str, Any]:
        n = next(_seq)
        body = {
            "full_name": fields.pop("full_name", f"Nguyễn Thị Thống Kê {n}"),
            "unit_id": str(unit_id),
            "membership": "official",
            **fields,
        }
        data: dict[str, Any] = (await self.call("POST", "/members", json=body)).json()
        return data

    async def patch_member(
        self, member_id: Any, expect: tuple[int, ...] = (200,), **fields: Any
    ) -> httpx.Response:
        body = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in fields.items()}
        return await self.call("PATCH", f"/members/{member_id}", expect, json=body)

    async def declare(
        self,
        member_id: Any,
        platform: str = "facebook",
        handle: str | None = None,
        expect: tuple[int, ...] = (200, 201),
    ) -> httpx.Response:
        return await self.call(
            "POST", f"/members/{member_id}/accounts", expect, json=account_body(platform, handle)
        )

    async def declare_none(
        self, member_id: Any, expect: tuple[int, ...] = (200,)
    ) -> httpx.Response:
        return await self.call(
            "POST", f"/members/{member_id}/declaration", expect, json={"has_accounts": False}
        )

    async def account_action(
        self, account_id: Any, action: str, expect: tuple[int, ...] = (200,)
    ) -> httpx.Response:
        body = {"note": "Không phải tài khoản của đảng viên"} if action == "reject" else {}
        return await self.call("POST", f"/accounts/{account_id}/{action}", expect, json=body)

    async def report(
        self,
        reporter: dict[str, str],
        url: str | None = None,
        expect: tuple[int, ...] = (201,),
        **fields: Any,
    ) -> dict[str, Any]:
        """File a report (201); a reporter who already has an open report of that link
        gets it back (200)."""
        body = {
            "url": url or f"https://www.facebook.com/trang.xau/posts/{next(_seq)}",
            "category": "fake_news",
            "proposed_action": "refute",
            "description": "Bài viết xuyên tạc chủ trương.",
            **fields,
        }
        r = await self.call("POST", "/reports", expect, json=body, headers=reporter)
        data: dict[str, Any] = r.json()
        data["_created"] = r.status_code == 201
        return data

    async def move_report(
        self,
        report_id: Any,
        to: str,
        expect: tuple[int, ...] = (200,),
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self.call(
            "POST",
            f"/reports/{report_id}/transitions",
            expect,
            json=transition_body(to),
            headers=headers,
        )

    async def document(
        self, audience_id: Any, *, publish: bool = True, requires_ack: bool = True, **fields: Any
    ) -> dict[str, Any]:
        n = next(_seq)
        body = {
            "code": f"{n}-HD/BTG",
            "title": f"Hướng dẫn thực hiện Quy định 85 số {n}",
            "doc_type": "guidance",
            "issuer": "Ban Tuyên giáo",
            "issued_on": "2026-01-15",
            "body": "## Nội dung\nQuán triệt.",
            "audience_unit_id": str(audience_id),
            "requires_ack": requires_ack,
            **fields,
        }
        data: dict[str, Any] = (await self.call("POST", "/documents", (201,), json=body)).json()
        if publish:
            data = (await self.call("POST", f"/documents/{data['id']}/publish")).json()
        return data

    async def revise(self, doc_id: Any, expect: tuple[int, ...] = (200,)) -> httpx.Response:
        return await self.call(
            "PATCH",
            f"/documents/{doc_id}",
            expect,
            json={"body": f"## Nội dung sửa đổi {next(_seq)}"},
        )

    async def ack(
        self, doc_id: Any, member_headers: dict[str, str], expect: tuple[int, ...] = (200, 201)
    ) -> httpx.Response:
        return await self.call(
            "POST", f"/documents/{doc_id}/acknowledgements", expect, headers=member_headers
        )

    async def compliance(self, unit_id: Any = None, **params: Any) -> dict[str, Any]:
        """The figures as read now (with whatever deltas are pending: every additive figure
        must already be exact), then as read after the folder ran (the medians are the
        folder's to refresh, within its stated bound); returns the latter after checking
        that folding changed no additive figure."""
        if unit_id is not None:
            params["unit_id"] = str(unit_id)
        r = await self.client.get(COMPLIANCE, params=params, headers=self.headers)
        assert r.status_code == 200, r.text
        unfolded: dict[str, Any] = r.json()
        async with db.sessionmaker() as s:
            await counters.fold_all(s)
        r = await self.client.get(COMPLIANCE, params=params, headers=self.headers)
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        for before, after in zip(unfolded["rows"], data["rows"], strict=True):
            assert {k: v for k, v in before.items() if k != "median_hours_to_resolve"} == {
                k: v for k, v in after.items() if k != "median_hours_to_resolve"
            }, "pending deltas must read as folded"
        return data


def account_body(platform: str, handle: str | None = None) -> dict[str, Any]:
    """A valid declaration on `platform`, unique unless `handle` is given."""
    n = next(_seq)
    h = handle or f"taikhoan{n}x"
    if platform == "zalo":
        return {"platform": "zalo", "handle": handle or f"0912{n % 10**6:06d}"}
    if platform == "linkedin":
        return {"platform": "linkedin", "url": f"https://www.linkedin.com/in/{h}"}
    if platform in ("website", "other"):
        return {"platform": platform, "url": f"https://{h}.example.vn"}
    return {"platform": platform, "handle": h}


def transition_body(to: str) -> dict[str, Any]:
    body: dict[str, Any] = {"to": to, "comment": "Xử lý"}
    if to == "resolved":
        body["outcome"] = "refuted"
    if to == "escalated":
        body.update(authority="Công an tỉnh", reference=f"CV-{next(_seq)}/2026")
    return body


async def login_for(session: Any, member_id: Any, *, grants: Any = ()) -> dict[str, str]:
    """Bearer headers of a new user linked to an existing member (users are not counted)."""
    user = await make_user(
        session,
        member=SimpleNamespace(id=uuid.UUID(str(member_id))),  # type: ignore[arg-type]
        grants=list(grants),
    )
    return auth(user)


def admin_grants() -> list[tuple[Role, None]]:
    return [(Role.admin, None)]
