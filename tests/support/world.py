"""The one world the tests build: an organisation tree with one principal per role
(`build_org`), and on top of it (`build_world`) the logins, peers and objects that the
generated authorization matrix (tests/authz) and the attack tests name.

    R (central)
    ├── A (provincial) ── A1 (cell) ── member `me` (the `member` login, `member.a`)
    │                  └─ A2 (cell)
    └── B (provincial) ── B1 (cell)
                       └─ B2 (cell)

`build_world` adds `boss`, a member of A whose login is the `manager` of A; a peer (a
member with a login) in A1, B1 and R; `other`, a member of A1 without a login; and, when
asked, one object of each kind (an account of `other`, a draft and a published document
for A, a report filed by `me`).

Both build in one transaction: the factories commit after every object, which costs a
disk sync each on SQLite; here their commits are flushes and the whole tree is committed
once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import db
from api.core.enums import DocumentStatus, Role, UnitLevel
from api.models import ApiClient, Member, Unit, User
from tests.support.factories import (
    auth,
    make_account,
    make_client,
    make_document,
    make_member,
    make_unit,
    make_user,
    report_body,
)

# The principals of `Org`, by name ('anon' sends no token).
ROLES = (
    "admin",
    "manager_a",
    "manager_b",
    "reviewer_a",
    "member",
    "partner_a",
    "analyst_a",
    "anon",
)
USERNAMES = {
    "admin": "root.admin",
    "manager_a": "manager.a",
    "manager_b": "manager.b",
    "reviewer_a": "reviewer.a",
    "member": "member.a",
}


@asynccontextmanager
async def one_commit(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """The factories' commits become flushes; one commit at the end."""
    commit = session.commit
    session.commit = session.flush  # type: ignore[method-assign]
    try:
        yield session
    finally:
        session.commit = commit  # type: ignore[method-assign]
    await commit()


@dataclass
class Org:
    root: Unit
    a: Unit
    a1: Unit
    a2: Unit
    b: Unit
    b1: Unit
    b2: Unit
    me: Member
    principals: dict[str, User | ApiClient] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # of the clients, by name

    def headers(self, role: str) -> dict[str, str]:
        """Bearer headers for a name of ROLES ('anon' sends none)."""
        return {} if role == "anon" else auth(self.principals[role])

    # The headers of the attack tests: English answers, so messages can be compared.
    @property
    def admin_h(self) -> dict[str, str]:
        return {**self.headers("admin"), "Accept-Language": "en"}

    @property
    def member_h(self) -> dict[str, str]:
        return {**self.headers("member"), "Accept-Language": "en"}

    @property
    def partner_h(self) -> dict[str, str]:
        return {**self.headers("partner_a"), "Accept-Language": "en"}


async def build_org(session: AsyncSession) -> Org:
    async with one_commit(session):
        return await _org(session)


async def _org(session: AsyncSession) -> Org:
    root = await make_unit(session, code="R", name="Trung ương", level=UnitLevel.central)
    a = await make_unit(session, root, code="A", name="Đảng bộ Tỉnh A", level=UnitLevel.provincial)
    a1 = await make_unit(session, a, code="A.1", name="Chi bộ A1", level=UnitLevel.cell)
    a2 = await make_unit(session, a, code="A.2", name="Chi bộ A2", level=UnitLevel.cell)
    b = await make_unit(session, root, code="B", name="Đảng bộ Tỉnh B", level=UnitLevel.provincial)
    b1 = await make_unit(session, b, code="B.1", name="Chi bộ B1", level=UnitLevel.cell)
    b2 = await make_unit(session, b, code="B.2", name="Chi bộ B2", level=UnitLevel.cell)
    me = await make_member(session, a1, full_name="Lê Thị Hoa")
    org = Org(root, a, a1, a2, b, b1, b2, me)
    grants: dict[str, list[tuple[Role, Unit | None]]] = {
        "admin": [(Role.admin, None)],
        "manager_a": [(Role.manager, a)],
        "manager_b": [(Role.manager, b)],
        "reviewer_a": [(Role.reviewer, a)],
        "member": [],
    }
    for name, granted in grants.items():
        org.principals[name] = await make_user(
            session,
            grants=granted,
            member=me if name == "member" else None,
            username=USERNAMES[name],
        )
    for name, role in (("partner_a", Role.partner), ("analyst_a", Role.analyst)):
        org.principals[name], org.secrets[name] = await make_client(session, role, a)
    return org


# --------------------------------------------------------------------------- the world


@dataclass
class Peer:
    member: Member
    user: User
    headers: dict[str, str]


@dataclass
class World:
    """`org`, with its principals renamed by role (the manager is `boss`'s login), the
    member record of each caller that has one, a peer at A1, B1 and R (by unit code),
    `other`, and the ids of the objects (when built with them)."""

    client: httpx.AsyncClient
    org: Org
    principals: dict[str, User | ApiClient]  # by role name (not anon)
    members: dict[str, Member]  # the caller's own member record, by role name
    peers: dict[str, Peer]  # by unit code: "A.1", "B.1", "R"
    other: Member
    ids: dict[str, str] = field(default_factory=dict)
    _headers: dict[str, dict[str, str]] = field(default_factory=dict)

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

    @property
    def admin_h(self) -> dict[str, str]:
        return self.org.admin_h

    @property
    def member_h(self) -> dict[str, str]:
        return self.org.member_h

    @property
    def partner_h(self) -> dict[str, str]:
        return self.org.partner_h


async def build_world(client: httpx.AsyncClient, *, objects: bool = False) -> World:
    """The world in one transaction; with `objects`, one object of each kind too (the
    report is filed through the API, by `me`)."""
    async with db.sessionmaker() as session, one_commit(session):
        world = await _world(session, client)
        if objects:
            await _objects(session, world)
    if objects:
        r = await client.post("/api/v1/reports", json=report_body(), headers=world.member_h)
        assert r.status_code == 201, r.text
        world.ids["report"] = r.json()["id"]
    return world


async def _world(session: AsyncSession, client: httpx.AsyncClient) -> World:
    org = await _org(session)
    boss = await make_member(session, org.a, full_name="Phạm Văn Bí")
    manager = await make_user(session, member=boss, grants=[(Role.manager, org.a)])
    p = org.principals
    principals: dict[str, User | ApiClient] = {
        "admin": p["admin"],
        "manager": manager,
        "reviewer": p["reviewer_a"],
        "analyst": p["analyst_a"],
        "partner": p["partner_a"],
        "member": p["member"],
    }
    peers = {}
    for unit in (org.a1, org.b1, org.root):
        member = await make_member(session, unit)
        user = await make_user(session, member=member)
        peers[unit.code] = Peer(member, user, auth(user))
    other = await make_member(session, org.a1, full_name="Trần Văn Nam")
    members = {"member": org.me, "manager": boss}
    return World(client, org, principals, members, peers, other)


async def _objects(session: AsyncSession, world: World) -> None:
    org = world.org
    account = await make_account(session, world.other)
    document = await make_document(session, org.a, status=DocumentStatus.draft)
    published = await make_document(session, org.a)
    world.ids.update(
        {
            "unit": str(org.a1.id),
            "member": str(world.other.id),
            "account": str(account.id),
            "document": str(document.id),
            "published": str(published.id),
            "user": str(org.principals["member"].id),
            "client": str(org.principals["partner_a"].id),
        }
    )
