"""Property-based exactness of the compliance statistics (the issue: "a property-based
test builds random trees and data, and compares every figure with a brute-force recount
in Python", and "the maintained counters equal a rebuild after a random sequence of
operations").

Each hypothesis example empties the database (conftest only does it after the test
function), builds a random tree (at most 4 levels) and random data through the API, runs a
random sequence of operations through the API, then checks
(a) every figure of /stats/compliance (group_by=child and self, and a random from/to
    window), the /stats/reports series and /stats/documents/{id} for every unit against
    tests/support/stats.brute_force over the rows read back, and
(b) the maintained unit_stats / unit_rollups / unit_document_acks rows against those
    counters.recount_all builds in the same transaction (rolled back).
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from api.core.config import get_settings
from api.core.db import db, utcnow
from api.core.enums import Role, UnitLevel
from api.models import User
from tests.properties import budget
from tests.support.factories import auth, empty_database, make_unit, make_user, set_report
from tests.support.stats import (
    PLATFORMS,
    SERIES,
    STATS,
    Api,
    World,
    assert_figures,
    brute_force,
    counter_diff,
    document_brute_force,
    load_world,
    login_for,
    maintained_and_rebuilt,
)

MEMBER_STATUSES = ("active", "active", "active", "exempt", "transferred", "removed", "deceased")
REPORT_MOVES = ("in_review", "escalated", "resolved", "resolved", "dismissed", "withdrawn")
OPS = (
    "member_create",
    "member_patch",
    "member_patch",
    "declare",
    "declare",
    "declare_none",
    "account_action",
    "account_action",
    "report_file",
    "report_file",
    "report_move",
    "report_move",
    "report_move",
    "unit_move",
    "doc_create",
    "doc_publish",
    "doc_revise",
    "doc_archive",
    "doc_patch",
    "ack",
    "ack",
    "ack",
)
UNIT_NAMES = (
    "Chi bộ Phường Bến Nghé",
    "Đảng bộ Xã Ía Grai",
    "Chi bộ Thôn Đồng Tâm",
    "Đảng ủy Khối Cơ quan",
    "Chi bộ Trường Tiểu học Lê Lợi",
    "Tổ đảng số",
)
BASE = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


class Chooser:
    """The random choices of an example: hypothesis draws, or a seeded Random."""

    def __init__(self, data: st.DataObject | None = None, seed: int = 0) -> None:
        self.data = data
        self.rng = random.Random(seed)

    def pick(self, items: Any, label: str = "") -> Any:
        items = list(items)
        if self.data is not None:
            return self.data.draw(st.sampled_from(items), label=label or None)
        return self.rng.choice(items)

    def int(self, lo: int, hi: int, label: str = "") -> int:
        if self.data is not None:
            return int(self.data.draw(st.integers(lo, hi), label=label or None))
        return self.rng.randint(lo, hi)

    def bool(self, label: str = "") -> bool:
        return bool(self.int(0, 1, label))


@dataclass
class State:
    """What the example made, as the API answered it."""

    root: uuid.UUID
    units: dict[uuid.UUID, int] = field(default_factory=dict)  # id -> depth at creation
    dissolved: set[uuid.UUID] = field(default_factory=set)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    logins: dict[str, dict[str, str]] = field(default_factory=dict)
    accounts: list[str] = field(default_factory=list)
    handles: list[tuple[str, str]] = field(default_factory=list)
    reports: list[tuple[str, str]] = field(default_factory=list)  # (report id, reporter id)
    urls: list[str] = field(default_factory=list)
    account_urls: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    ops: Counter[str] = field(default_factory=Counter)

    def active_units(self) -> list[uuid.UUID]:
        return [u for u in self.units if u not in self.dissolved]


async def _login(state: State, member_id: str) -> dict[str, str]:
    """The member's user's bearer headers: a user made at first use; a fresh token (its
    current version) once a status change may have revoked the old one."""
    if member_id not in state.logins:
        async with db.sessionmaker() as s:
            user = await s.scalar(select(User).where(User.member_id == uuid.UUID(member_id)))
            state.logins[member_id] = auth(user) if user else await login_for(s, member_id)
    return state.logins[member_id]


async def _build_tree(data: Chooser) -> tuple[State, dict[str, str]]:
    async with db.sessionmaker() as s:
        admin = auth(await make_user(s, grants=[(Role.admin, None)]))
        root = await make_unit(s, name="Đảng bộ Tỉnh Thừa Thiên Huế", level=UnitLevel.provincial)
        state = State(root.id, {root.id: 0})
        made = {root.id: root}
        for i in range(data.int(0, 7, "extra units")):
            parents = [u for u in made.values() if u.depth < 3]
            parent = data.pick(parents, "parent")
            unit = await make_unit(s, parent, name=f"{UNIT_NAMES[i % len(UNIT_NAMES)]} {i}")
            made[unit.id] = unit
            state.units[unit.id] = unit.depth
    return state, admin


async def _op(api: Api, state: State, data: Chooser, op: str, merges: bool) -> None:
    members = list(state.members)
    active_units = state.active_units()
    if op == "member_create" or (not members and op.startswith("member")):
        op = "member_create"
        body = await api.member(
            data.pick(active_units, "unit"),
            status=data.pick(MEMBER_STATUSES, "status"),
            is_leader=data.bool("leader"),
        )
        state.members[body["id"]] = body
    elif op == "member_patch":
        mid = data.pick(members, "member")
        changes: dict[str, Any] = {}
        if data.bool("change status"):
            changes["status"] = data.pick(MEMBER_STATUSES)
        if data.bool("change unit"):
            changes["unit_id"] = data.pick(active_units)
        if data.bool("change leader"):
            changes["is_leader"] = data.bool()
        state.members[mid] = (await api.patch_member(mid, **changes)).json()
        if "status" in changes:
            # A member who leaves the roster has its user's tokens revoked
            # (api/services/members.py): take a fresh token next time.
            state.logins.pop(mid, None)
    elif op == "declare" and members:
        mid = data.pick(members, "member")
        if state.handles and data.int(0, 4) == 0:  # the same account again
            platform, handle = data.pick(state.handles)
            r = await api.declare(mid, platform, handle, expect=(200, 201, 409))
        else:
            platform = data.pick(PLATFORMS, "platform")
            r = await api.declare(mid, platform)
            state.handles.append((platform, _handle_of(r.json())))
        if r.status_code == 201:
            state.accounts.append(r.json()["id"])
            state.account_urls.append(r.json()["canonical_url"])
    elif op == "declare_none" and members:
        await api.declare_none(data.pick(members), expect=(200, 409))
    elif op == "account_action" and state.accounts:
        action = data.pick(("verify", "reject", "close", "compromised"), "action")
        await api.account_action(data.pick(state.accounts), action, expect=(200, 409))
    elif op == "report_file":
        reporters = [m for m, b in state.members.items() if b["status"] in ("active", "exempt")]
        if not reporters:
            return
        mid = data.pick(reporters, "reporter")
        url = None
        kind = data.int(0, 5, "url kind")
        if state.urls and kind == 0:
            url = data.pick(state.urls)  # a duplicate while the first one is open
        elif state.account_urls and kind == 1:
            url = data.pick(state.account_urls)  # about a member (maybe of another unit)
        category = data.pick(("fake_news", "secret_leak", "scam", "impersonation"))
        report = await api.report(await _login(state, mid), url, (200, 201), category=category)
        if not report["_created"]:  # the reporter's own open report of that link, given back
            assert url is not None
            state.ops["report_refiled"] += 1
            return
        state.urls.append(report["url"])
        state.reports.append((report["id"], mid))
        # Filed some hours ago (before any resolve, so the maintained medians see it).
        age = data.int(0, 400, "age (h)")
        values: dict[str, Any] = {
            "created_at": utcnow() - timedelta(hours=age, seconds=data.int(0, 3599))
        }
        if data.bool("overdue"):
            values["due_at"] = utcnow() - timedelta(minutes=1)
        await set_report(report["id"], **values)
    elif op == "report_move" and state.reports:
        rid, reporter = data.pick(state.reports, "report")
        to = data.pick(REPORT_MOVES, "to")
        if to == "withdrawn":
            if state.members[reporter]["status"] not in ("active", "exempt"):
                return
            await api.move_report(rid, to, expect=(200, 409), headers=await _login(state, reporter))
        else:
            await api.move_report(rid, to, expect=(200, 409))
    elif op == "unit_move" and len(state.units) > 1:
        unit = data.pick([u for u in state.units if u != state.root], "moved")
        parent = data.pick([u for u in active_units if u != unit], "new parent")
        await api.call("PATCH", f"/units/{unit}", (200, 409), json={"parent_id": str(parent)})
    elif op == "unit_merge" and merges and len(active_units) > 1:
        unit = data.pick([u for u in active_units if u != state.root], "merged")
        into = data.pick([u for u in active_units if u != unit], "into")
        r = await api.call(
            "POST", f"/units/{unit}/merge", (200, 409), json={"into_unit_id": str(into)}
        )
        if r.status_code == 200:
            state.dissolved.add(unit)
            for body in state.members.values():
                if body["unit_id"] == str(unit):
                    body["unit_id"] = str(into)
    elif op == "doc_create":
        doc = await api.document(
            data.pick(active_units, "audience"),
            publish=data.bool("publish"),
            requires_ack=data.bool(),
        )
        state.documents.append(doc["id"])
    elif op == "doc_publish" and state.documents:
        await api.call("POST", f"/documents/{data.pick(state.documents)}/publish", (200, 409))
    elif op == "doc_revise" and state.documents:
        await api.revise(data.pick(state.documents), expect=(200, 409))
    elif op == "doc_archive" and state.documents:
        await api.call("POST", f"/documents/{data.pick(state.documents)}/archive", (200, 409))
    elif op == "doc_patch" and state.documents:
        doc = data.pick(state.documents)
        body = (
            {"requires_ack": data.bool()}
            if data.bool()
            else {"audience_unit_id": str(data.pick(active_units))}
        )
        await api.call("PATCH", f"/documents/{doc}", (200, 409), json=body)
    elif op == "ack" and state.documents:
        ackers = [m for m, b in state.members.items() if b["status"] in ("active", "exempt")]
        if not ackers:
            return
        mid = data.pick(ackers, "acker")
        await api.ack(
            data.pick(state.documents), await _login(state, mid), expect=(200, 201, 404, 409)
        )
    else:
        return
    state.ops[op] += 1


def _handle_of(account: dict[str, Any]) -> str:
    """The handle that declares this account again (see tests/support/stats.account_body)."""
    key: str = account["canonical_key"]
    if account["platform"] == "zalo":
        return "0" + key.rsplit("+84", 1)[1]
    if account["platform"] in ("website", "other"):
        return key.split(":", 1)[1].split(".", 1)[0]
    return key.rsplit(":", 1)[1]


# --------------------------------------------------------------------------- checks


def _vn_period(at: datetime, interval: str) -> datetime:
    """The start of the Vietnam day / week (Monday) / month holding `at`, as UTC."""
    local = at.astimezone(UTC) + timedelta(hours=7)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "week":
        day -= timedelta(days=day.weekday())
    elif interval == "month":
        day = day.replace(day=1)
    return day - timedelta(hours=7)


def _series_brute_force(
    w: World, unit: uuid.UUID, start: datetime, end: datetime, interval: str, by: str
) -> list[tuple[str, str, int]]:
    units = w.subtree(unit)
    counts: Counter[tuple[datetime, str]] = Counter()
    for r in w.reports:
        if r.unit_id in units and start <= r.created_at < end:
            counts[
                (
                    _vn_period(r.created_at, interval),
                    str(getattr(getattr(r, by), "value", getattr(r, by))),
                )
            ] += 1
    return [(p.isoformat().replace("+00:00", "Z"), k, n) for (p, k), n in sorted(counts.items())]


async def _check_everything(
    client: httpx.AsyncClient, api: Api, state: State, data: Chooser, median_abs: float
) -> None:
    w = await load_world()
    assert set(w.units) == set(state.units)
    names = {u: w.units[u].code for u in w.units}
    for unit in w.units:
        body = await api.compliance(unit)
        children = sorted(w.children(unit), key=lambda u: (u.name_search, u.code))
        assert [r["unit_id"] for r in body["rows"]] == [*(str(c.id) for c in children), None]
        for row in body["rows"]:
            target = unit if row["is_total"] else uuid.UUID(row["unit_id"])
            assert_figures(
                row,
                brute_force(w, target),
                median_abs=median_abs,
                where=f"{names[unit]} / {names.get(target)} after {dict(state.ops)}",
            )
        (own,) = (await api.compliance(unit, group_by="self"))["rows"]
        assert_figures(
            own, brute_force(w, unit), median_abs=median_abs, where=f"self {names[unit]}"
        )
    # A random window of filing time, on a random unit.
    unit = data.pick(sorted(w.units), "window unit")
    hours_ago = data.int(0, 400, "window end (h ago)")
    span = data.int(1, 400, "window span (h)")
    end = (utcnow() - timedelta(hours=hours_ago)).replace(microsecond=0)
    start = end - timedelta(hours=span)
    params = {"from": start.isoformat(), "to": end.isoformat()}
    bounds = data.pick(("both", "from", "to"), "window bounds")
    ranged = {k: v for k, v in params.items() if bounds in ("both", k)}
    lo, hi = (start if "from" in ranged else None), (end if "to" in ranged else None)
    for group_by in ("child", "self"):
        for row in (await api.compliance(unit, group_by=group_by, **ranged))["rows"]:
            target = unit if row["is_total"] or group_by == "self" else uuid.UUID(row["unit_id"])
            assert_figures(
                row,
                brute_force(w, target, start=lo, end=hi),
                median_abs=median_abs,
                where=f"window {lo}..{hi}",
            )
    # The time series over the same window.
    interval = data.pick(("day", "week", "month"), "interval")
    by = data.pick(("category", "platform", "status"), "by")
    r = await client.get(
        SERIES,
        params={**params, "unit_id": str(unit), "interval": interval, "by": by},
        headers=api.headers,
    )
    assert r.status_code == 200, r.text
    assert [(p["period_start"], p["key"], p["count"]) for p in r.json()["points"]] == (
        _series_brute_force(w, unit, start, end, interval, by)
    )
    # Per-document acknowledgement, from the root and from the audience (published ones;
    # archived ones: see test_stats.py::test_an_archived_document_keeps_its_acknowledgements).
    for doc in w.documents.values():
        if doc.status.value != "published":
            continue
        for unit in (state.root, doc.audience_unit_id):
            r = await client.get(
                f"{STATS}/documents/{doc.id}", params={"unit_id": str(unit)}, headers=api.headers
            )
            assert r.status_code == 200, r.text
            assert r.json()["revision"] == doc.revision
            for row in r.json()["rows"]:
                target = unit if row["is_total"] else uuid.UUID(row["unit_id"])
                assert (row["addressed"], row["acknowledged"]) == document_brute_force(
                    w, doc.id, target
                ), (names.get(target), doc.code)
    maintained, rebuilt = await maintained_and_rebuilt()
    assert counter_diff(maintained, rebuilt, names) == {}, dict(state.ops)


async def _example(
    client: httpx.AsyncClient,
    data: Chooser,
    *,
    merges: bool,
    median_abs: float,
    operations: tuple[int, int] = (3, 30),
    prelude: tuple[str, ...] = (),
) -> State:
    await empty_database()
    state, admin = await _build_tree(data)
    api = Api(client, admin)
    for _ in range(data.int(0, 8, "members")):
        await _op(api, state, data, "member_create", merges)
    ops = (*OPS, "unit_merge", "unit_merge") if merges else OPS
    for op in prelude:
        await _op(api, state, data, op, merges)
    for _ in range(data.int(*operations, "operations")):
        await _op(api, state, data, data.pick(ops, "op"), merges)
    if merges:
        # Always end on a merge of a unit holding an active member into a unit outside
        # its own subtree (the case that once left the dissolved unit counted twice).
        async with db.sessionmaker() as s:
            from api.models import Unit

            root = await s.get(Unit, state.root)
            merged = await make_unit(s, root, name="Chi bộ sáp nhập")
            into = await make_unit(s, root, name="Chi bộ tiếp nhận")
        state.units.update({merged.id: 1, into.id: 1})
        await _op(api, state, data, "member_create", merges)
        mid = next(reversed(state.members))
        await api.patch_member(mid, unit_id=merged.id, status="active")
        await api.call("POST", f"/units/{merged.id}/merge", json={"into_unit_id": str(into.id)})
        state.dissolved.add(merged.id)
    await _check_everything(client, api, state, data, median_abs)
    return state


@pytest.fixture
def many_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "report_rate_limit", 10_000)


@settings(BASE, max_examples=budget(20))
@given(data=st.data())
async def test_every_figure_equals_a_brute_force_recount(
    client: httpx.AsyncClient, many_reports: None, is_postgres: bool, data: st.DataObject
) -> None:
    # SQLite's julianday() keeps milliseconds: its medians may differ in the last digit.
    await _example(client, Chooser(data), merges=False, median_abs=0.0 if is_postgres else 1.5e-4)


@settings(BASE, max_examples=budget(4), phases=[Phase.generate])
@given(data=st.data())
async def test_every_figure_equals_a_brute_force_recount_with_merges(
    client: httpx.AsyncClient, many_reports: None, is_postgres: bool, data: st.DataObject
) -> None:
    await _example(client, Chooser(data), merges=True, median_abs=0.0 if is_postgres else 1.5e-4)


async def test_a_long_seeded_run_reaches_every_operation(
    client: httpx.AsyncClient, many_reports: None, is_postgres: bool
) -> None:
    """One long seeded run (no hypothesis), so that every kind of operation surely happens
    at least once under the same checks."""
    prelude = ("member_create", "member_create", *dict.fromkeys(OPS), "ack")
    state = await _example(
        client,
        Chooser(seed=85),
        merges=False,
        operations=(100, 100),
        prelude=prelude,
        median_abs=0.0 if is_postgres else 1.5e-4,
    )
    assert set(OPS) <= set(state.ops), state.ops
