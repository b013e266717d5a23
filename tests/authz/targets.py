"""The objects the matrix's requests name, in the world of tests/support/world.py.

`Matrix.target(kind, state, place, who, fresh)` gives the object a case names: shared by
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

from api.core.db import db
from api.core.enums import DocumentStatus, Role
from api.models import Member, Unit
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
from tests.support.factories import (
    make_account,
    make_client,
    make_document,
    make_member,
    make_unit,
    make_user,
    png_bytes,
    report_body,
)
from tests.support.world import Peer, World, build_world


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
class Matrix:
    """The world and the targets made in it so far."""

    world: World
    _shared: dict[tuple[Any, ...], Target] = field(default_factory=dict)
    _subject_urls: dict[str, str] = field(default_factory=dict)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.world.client

    def headers(self, role: str) -> dict[str, str]:
        return self.world.headers(role)

    def username(self, role: str) -> str:
        return self.world.username(role)

    def unit(self, at: Place) -> Unit:
        """The unit of a scope position (A1, B1, R); own syncs are placed in A1 too."""
        org = self.world.org
        places = {OWN: org.a1, IN_SCOPE: org.a1, SIBLING: org.b1, ANCESTOR: org.root}
        return places[at]

    def peer(self, at: Place) -> Peer:
        """The member with a login at a scope position."""
        return self.world.peers[self.unit(at).code]

    def neighbour(self, at: Place) -> Unit:
        """A unit to merge a unit of this position into (same side of the tree)."""
        return self.world.org.b2 if at is SIBLING else self.world.org.a2

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


async def build_matrix(client: httpx.AsyncClient) -> Matrix:
    return Matrix(await build_world(client))


def _key(kind: str | None, state: str, at: Place, who: Who) -> tuple[Any, ...]:
    """Shared targets are per kind, state and position; own ones also per caller."""
    return kind, state, at.name, who.name if at in (OWN, ABOUT_ME) else None


# --------------------------------------------------------------------------- builders


async def _unit(w: Matrix, at: Place, who: Who, state: str, fresh: bool) -> Target:
    unit = w.unit(at)
    if fresh and at is not ANCESTOR:  # the root stays the root (see the merge/dissolve entries)
        async with db.sessionmaker() as s:
            unit = await make_unit(s, w.world.org.a if at is IN_SCOPE else w.world.org.b)
    return Target(at, {"unit_id": str(unit.id)}, unit=unit)


async def _unit_ref(w: Matrix, at: Place, who: Who, state: str, fresh: bool) -> Target:
    return Target(at, unit=w.unit(at))


async def _moving(w: Matrix, at: Place, who: Who, state: str, fresh: bool, kind: str) -> Target:
    """An object of A2 (a unit under it, a member, a published document addressed to it);
    the body names the unit at the position."""
    async with db.sessionmaker() as s:
        if kind == "unit_move":
            ids = {"unit_id": str((await make_unit(s, w.world.org.a2)).id)}
        elif kind == "member_move":
            ids = {"member_id": str((await make_member(s, w.world.org.a2)).id)}
        else:
            ids = {"document_id": str((await make_document(s, w.world.org.a2)).id)}
    return Target(at, ids, unit=w.unit(at))


async def _member(w: Matrix, at: Place, who: Who, state: str, fresh: bool) -> Target:
    if at is OWN:
        member = w.world.members[who.name]
    elif fresh:
        async with db.sessionmaker() as s:
            member = await make_member(s, w.unit(at))
    else:
        member = w.peer(at).member
    return Target(at, {"member_id": str(member.id)}, member=member)


async def _member_ref(w: Matrix, at: Place, who: Who, state: str, fresh: bool) -> Target:
    """A member without a login, for POST /users."""
    async with db.sessionmaker() as s:
        member = await make_member(s, w.unit(at))
    return Target(at, member=member)


async def _account(w: Matrix, at: Place, who: Who, state: str, fresh: bool) -> Target:
    owner = w.world.members[who.name] if at is OWN else w.peer(at).member
    async with db.sessionmaker() as s:
        member = await s.get(Member, owner.id)
        assert member is not None
        account = await make_account(s, member)
    return Target(at, {"account_id": str(account.id)}, member=owner)


async def _report(w: Matrix, at: Place, who: Who, state: str, fresh: bool) -> Target:
    """Filed through the API (with one evidence file in state "evidence") by the caller's
    member (own), by the member at the position, or by the member of B1 about the caller's
    member (about_me) or about the member of A1 (about_a)."""
    body = report_body()
    if at is OWN:
        headers = w.headers(who.name)
    elif at in (ABOUT_ME, ABOUT_A):
        headers = w.peer(SIBLING).headers
        subject = w.world.members[who.name] if at is ABOUT_ME else w.peer(IN_SCOPE).member
        body["url"] = f"{await w.subject_url(subject)}/posts/{n()}"
    else:
        headers = w.peer(at).headers
    r = await w.client.post(REPORTS, json=body, headers=headers)
    assert r.status_code == 201, r.text
    report = r.json()
    assert (report["subject_member_id"] is not None) == (at in (ABOUT_ME, ABOUT_A)), report
    if state != "evidence":
        return Target(at, {"report_id": report["id"]})
    evidence = await w.client.post(
        f"{REPORTS}/{report['id']}/evidence",
        headers=headers,
        files={"file": ("anh.png", png_bytes(300), "image/png")},
    )
    assert evidence.status_code == 201, evidence.text
    return Target(at, {"report_id": report["id"], "evidence_id": evidence.json()["id"]})


async def _evidence(w: Matrix, at: Place, who: Who, state: str, fresh: bool) -> Target:
    """The path names a report of A1 and the evidence of another report at the position."""
    through = await w.target("report", "evidence", IN_SCOPE, who, fresh=False)
    other = await _report(w, at, who, "evidence", True)
    return Target(
        at, {"report_id": through.ids["report_id"], "evidence_id": other.ids["evidence_id"]}
    )


async def _document(w: Matrix, at: Place, who: Who, state: str, fresh: bool) -> Target:
    """Addressed to the position's unit: published, or a draft, or published with a file."""
    status = DocumentStatus.draft if state == "draft" else DocumentStatus.published
    async with db.sessionmaker() as s:
        doc = await make_document(
            s, w.unit(at), status=status, file=PDF if state == "file" else None
        )
    return Target(at, {"document_id": str(doc.id)})


async def _sync(w: Matrix, at: Place, who: Who, state: str, fresh: bool) -> Target:
    """A previewed upsert of one new member: made by the caller (own, in A1) or by the
    admin, placed at the position's unit."""
    creator = who.name if at is OWN else "admin"
    request = roster_body(w, Target(at, unit=w.unit(at)))
    r = await w.client.post(SYNCS, headers=w.headers(creator), **request)
    assert r.status_code == 201, r.text
    return Target(at, {"sync_id": r.json()["id"]})


async def _user(w: Matrix, at: Place, who: Who, state: str, fresh: bool) -> Target:
    """The caller's own login, or the login of a member at the position (a fresh one is
    inactive, so that `{"active": true}` changes it)."""
    if at is OWN:
        user = w.world.principals[who.name]
    elif fresh:
        async with db.sessionmaker() as s:
            member = await make_member(s, w.unit(at))
            user = await make_user(s, member=member, active=False)
    else:
        user = w.peer(at).user
    return Target(at, {"user_id": str(user.id)})


async def _client(w: Matrix, at: Place, who: Who, state: str, fresh: bool) -> Target:
    if at is OWN:
        client = w.world.principals[who.name]
    else:
        async with db.sessionmaker() as s:
            client, _ = await make_client(s, Role.analyst, w.unit(at))
    return Target(at, {"client_id": str(client.id)})


Builder = Callable[[Matrix, Place, Who, str, bool], Awaitable[Target]]
BUILDERS: dict[str, Builder] = {
    "unit": _unit,
    "unit_ref": _unit_ref,
    "member": _member,
    "member_ref": _member_ref,
    "account": _account,
    "report": _report,
    "evidence": _evidence,
    "document": _document,
    "sync": _sync,
    "user": _user,
    "client": _client,
    **{
        kind: functools.partial(_moving, kind=kind)
        for kind in ("unit_move", "member_move", "document_move")
    },
}
