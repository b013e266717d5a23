"""The organisation the matrix runs in, and the objects its requests name.

The tree is `build_org` of tests/routers/org.py (R → A → A1/A2, R → B → B1/B2, member
`me` of A1 with the `member` login), plus `boss`, a member of A whose login is the
`manager` of A, and one member with a login at each position (A1, B1, R) to file reports,
make syncs and be the users in the matrix.

`World.target(kind, state, place, who, fresh)` gives the object a case names: shared by
the cases that must leave it as it is, made anew for each case expected to succeed (so a
success really happens, on an object in the right state). Builders use a session of
their own for each object: the app changes rows under them, and a long-lived session
would write back stale versions.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import db
from api.core.enums import DocumentStatus, Role
from api.models import ApiClient, Member, Unit, User
from tests.authz.table import (
    ABOUT_A,
    ABOUT_ME,
    ANCESTOR,
    IN_SCOPE,
    NOWHERE,
    OWN,
    PDF,
    REPORTS,
    SIBLING,
    SYNCS,
    Place,
    Who,
    n,
    roster_body,
)
from tests.factories import (
    auth,
    make_account,
    make_client,
    make_document,
    make_member,
    make_unit,
    make_user,
    png_bytes,
    report_body,
)
from tests.routers.org import Org, build_org


@dataclass
class Target:
    """What a case's request names: path ids, and the unit or member a body refers to."""

    place: Place
    ids: dict[str, str] = field(default_factory=dict)
    unit: Unit | None = None
    member: Member | None = None

    @property
    def unit_id(self) -> str:
        assert self.unit is not None
        return str(self.unit.id)

    @property
    def unit_code(self) -> str:
        assert self.unit is not None
        return self.unit.code

    @property
    def member_id(self) -> str:
        assert self.member is not None
        return str(self.member.id)


@dataclass
class Peer:
    member: Member
    user: User
    headers: dict[str, str]


@dataclass
class World:
    client: httpx.AsyncClient
    org: Org
    principals: dict[str, User | ApiClient]  # by role name (not anon)
    members: dict[str, Member]  # the caller's own member record, by role name
    peers: dict[str, Peer]  # a member with a login at each position (by place name)
    _headers: dict[str, dict[str, str]] = field(default_factory=dict)
    _shared: dict[tuple[Any, ...], Target] = field(default_factory=dict)
    _subject_urls: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        if role == "anon":
            return {}
        if role not in self._headers:
            self._headers[role] = auth(self.principals[role])
        return self._headers[role]

    def username(self, role: str) -> str:
        principal = self.principals[role]
        assert isinstance(principal, User)
        return principal.username

    def unit(self, at: Place) -> Unit:
        """The unit of a scope position (A1, B1, R); own syncs are placed in A1 too."""
        places = {
            OWN: self.org.a1,
            IN_SCOPE: self.org.a1,
            SIBLING: self.org.b1,
            ANCESTOR: self.org.root,
        }
        return places[at]

    def neighbour(self, at: Place) -> Unit:
        """A unit to merge a unit of this position into (same side of the tree)."""
        return self.org.b2 if at is SIBLING else self.org.a2

    async def target(
        self, kind: str | None, state: str, at: Place, who: Who, *, fresh: bool
    ) -> Target:
        if kind is None:
            return Target(NOWHERE)
        key = _key(kind, state, at, who)
        if fresh:
            return await BUILDERS[kind](self, at, who, state, True)
        if key not in self._shared:
            self._shared[key] = await BUILDERS[kind](self, at, who, state, False)
        return self._shared[key]

    def forget(self, kind: str | None, state: str, at: Place, who: Who) -> None:
        """A shared target was changed by a request that should have been refused."""
        self._shared.pop(_key(kind, state, at, who), None)

    async def subject_url(self, subject: Member) -> str:
        """A declared account of `subject`: reports of its posts are about them."""
        key = str(subject.id)
        if key not in self._subject_urls:
            url = f"https://www.facebook.com/chu.the.{n()}"
            async with db.sessionmaker() as s:
                member = await s.get(Member, subject.id)
                assert member is not None
                await make_account(s, member, url)
            self._subject_urls[key] = url
        return self._subject_urls[key]


def _key(kind: str | None, state: str, at: Place, who: Who) -> tuple[Any, ...]:
    """Shared targets are per kind, state and position; own ones also per caller."""
    return kind, state, at.name, who.name if at in (OWN, ABOUT_ME) else None


async def build_world(client: httpx.AsyncClient) -> World:
    """The organisation, its principals and the peers, in one transaction: the factories
    commit after every object, which costs a disk sync each on SQLite; here their commits
    are flushes and the whole world is committed once."""
    async with db.sessionmaker() as session:
        commit = session.commit
        session.commit = session.flush  # type: ignore[method-assign]
        world = await _populate(session, client)
        await commit()
    return world


async def _populate(session: AsyncSession, client: httpx.AsyncClient) -> World:
    org = await build_org(session)
    boss = await make_member(session, org.a, full_name="Phạm Văn Bí")
    manager = await make_user(session, member=boss, grants=[(Role.manager, org.a)])
    p = org.principals
    principals: dict[str, User | ApiClient] = {
        "admin": p["admin"], "manager": manager, "reviewer": p["reviewer_a"],
        "analyst": p["analyst_a"], "partner": p["partner_a"], "member": p["member"],
    }  # fmt: skip
    peers = {}
    for at, unit in ((IN_SCOPE, org.a1), (SIBLING, org.b1), (ANCESTOR, org.root)):
        member = await make_member(session, unit)
        user = await make_user(session, member=member)
        peers[at.name] = Peer(member, user, auth(user))
    return World(client, org, principals, {"member": org.me, "manager": boss}, peers)


# --------------------------------------------------------------------------- builders


async def _unit(w: World, at: Place, who: Who, state: str, fresh: bool) -> Target:
    unit = w.unit(at)
    if fresh and at is not ANCESTOR:  # the root stays the root (see the merge/dissolve entries)
        async with db.sessionmaker() as s:
            unit = await make_unit(s, w.org.a if at is IN_SCOPE else w.org.b)
    return Target(at, {"unit_id": str(unit.id)}, unit=unit)


async def _unit_ref(w: World, at: Place, who: Who, state: str, fresh: bool) -> Target:
    return Target(at, unit=w.unit(at))


async def _moving(w: World, at: Place, who: Who, state: str, fresh: bool, kind: str) -> Target:
    """An object of A2 (a unit under it, a member, a published document addressed to it);
    the body names the unit at the position."""
    async with db.sessionmaker() as s:
        if kind == "unit_move":
            ids = {"unit_id": str((await make_unit(s, w.org.a2)).id)}
        elif kind == "member_move":
            ids = {"member_id": str((await make_member(s, w.org.a2)).id)}
        else:
            ids = {"document_id": str((await make_document(s, w.org.a2)).id)}
    return Target(at, ids, unit=w.unit(at))


async def _member(w: World, at: Place, who: Who, state: str, fresh: bool) -> Target:
    if at is OWN:
        member = w.members[who.name]
    elif fresh:
        async with db.sessionmaker() as s:
            member = await make_member(s, w.unit(at))
    else:
        member = w.peers[at.name].member
    return Target(at, {"member_id": str(member.id)}, member=member)


async def _member_ref(w: World, at: Place, who: Who, state: str, fresh: bool) -> Target:
    """A member without a login, for POST /users."""
    async with db.sessionmaker() as s:
        member = await make_member(s, w.unit(at))
    return Target(at, member=member)


async def _account(w: World, at: Place, who: Who, state: str, fresh: bool) -> Target:
    owner = w.members[who.name] if at is OWN else w.peers[at.name].member
    async with db.sessionmaker() as s:
        member = await s.get(Member, owner.id)
        assert member is not None
        account = await make_account(s, member)
    return Target(at, {"account_id": str(account.id)}, member=owner)


async def _report(w: World, at: Place, who: Who, state: str, fresh: bool) -> Target:
    """Filed through the API (with one evidence file in state "evidence") by the caller's member (own), by the
    member at the position, or by the member of B1 about the caller's member (about_me) or
    about the member of A1 (about_a)."""
    body = report_body()
    if at is OWN:
        headers = w.headers(who.name)
    elif at in (ABOUT_ME, ABOUT_A):
        headers = w.peers[SIBLING.name].headers
        subject = w.members[who.name] if at is ABOUT_ME else w.peers[IN_SCOPE.name].member
        body["url"] = f"{await w.subject_url(subject)}/posts/{n()}"
    else:
        headers = w.peers[at.name].headers
    r = await w.client.post(REPORTS, json=body, headers=headers)
    assert r.status_code == 201, r.text
    report = r.json()
    assert (report["subject_member_id"] is not None) == (at in (ABOUT_ME, ABOUT_A)), report
    if state != "evidence":
        return Target(at, {"report_id": report["id"]})
    evidence = await w.client.post(
        f"{REPORTS}/{report['id']}/evidence", headers=headers,
        files={"file": ("anh.png", png_bytes(300), "image/png")},
    )  # fmt: skip
    assert evidence.status_code == 201, evidence.text
    return Target(at, {"report_id": report["id"], "evidence_id": evidence.json()["id"]})


async def _evidence(w: World, at: Place, who: Who, state: str, fresh: bool) -> Target:
    """The path names a report of A1 and the evidence of another report at the position."""
    through = await w.target("report", "evidence", IN_SCOPE, who, fresh=False)
    other = await _report(w, at, who, "evidence", True)
    return Target(
        at, {"report_id": through.ids["report_id"], "evidence_id": other.ids["evidence_id"]}
    )


async def _document(w: World, at: Place, who: Who, state: str, fresh: bool) -> Target:
    """Addressed to the position's unit: published, or a draft, or published with a file."""
    status = DocumentStatus.draft if state == "draft" else DocumentStatus.published
    async with db.sessionmaker() as s:
        doc = await make_document(
            s, w.unit(at), status=status, file=PDF if state == "file" else None
        )
    return Target(at, {"document_id": str(doc.id)})


async def _sync(w: World, at: Place, who: Who, state: str, fresh: bool) -> Target:
    """A previewed upsert of one new member: made by the caller (own, in A1) or by the
    admin, placed at the position's unit."""
    creator = who.name if at is OWN else "admin"
    request = roster_body(w, Target(at, unit=w.unit(at)))
    r = await w.client.post(SYNCS, headers=w.headers(creator), **request)
    assert r.status_code == 201, r.text
    return Target(at, {"sync_id": r.json()["id"]})


async def _user(w: World, at: Place, who: Who, state: str, fresh: bool) -> Target:
    """The caller's own login, or the login of a member at the position (a fresh one is
    inactive, so that `{"active": true}` changes it)."""
    if at is OWN:
        user = w.principals[who.name]
    elif fresh:
        async with db.sessionmaker() as s:
            member = await make_member(s, w.unit(at))
            user = await make_user(s, member=member, active=False)
    else:
        user = w.peers[at.name].user
    return Target(at, {"user_id": str(user.id)})


async def _client(w: World, at: Place, who: Who, state: str, fresh: bool) -> Target:
    if at is OWN:
        client = w.principals[who.name]
    else:
        async with db.sessionmaker() as s:
            client, _ = await make_client(s, Role.analyst, w.unit(at))
    return Target(at, {"client_id": str(client.id)})


Builder = Callable[[World, Place, Who, str, bool], Awaitable[Target]]
BUILDERS: dict[str, Builder] = {
    "unit": _unit, "unit_ref": _unit_ref, "member": _member, "member_ref": _member_ref,
    "account": _account, "report": _report, "evidence": _evidence, "document": _document, "sync": _sync,
    "user": _user, "client": _client,
    **{kind: functools.partial(_moving, kind=kind) for kind in ("unit_move", "member_move", "document_move")},
}  # fmt: skip
