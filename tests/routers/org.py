"""A small organisation tree with one principal per role, shared by the role × scope
matrices of the units, members and me tests.

    R (central)
    ├── A (provincial) ── A1 (cell) ── member `me` (linked to the member user)
    │                  └─ A2 (cell)
    └── B (provincial) ── B1 (cell)
                       └─ B2 (cell)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import db
from api.core.enums import Role, UnitLevel
from api.models import ApiClient, Member, Unit, User
from tests.factories import auth, make_client, make_member, make_unit, make_user

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
PROBLEM = "application/problem+json"


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

    def headers(self, role: str) -> dict[str, str]:
        """Bearer headers for a role of ROLES ('anon' sends none)."""
        return {} if role == "anon" else auth(self.principals[role])


async def build_org(session: AsyncSession) -> Org:
    root = await make_unit(session, code="R", name="Trung ương", level=UnitLevel.central)
    a = await make_unit(session, root, code="A", name="Đảng bộ Tỉnh A", level=UnitLevel.provincial)
    a1 = await make_unit(session, a, code="A.1", name="Chi bộ A1", level=UnitLevel.cell)
    a2 = await make_unit(session, a, code="A.2", name="Chi bộ A2", level=UnitLevel.cell)
    b = await make_unit(session, root, code="B", name="Đảng bộ Tỉnh B", level=UnitLevel.provincial)
    b1 = await make_unit(session, b, code="B.1", name="Chi bộ B1", level=UnitLevel.cell)
    b2 = await make_unit(session, b, code="B.2", name="Chi bộ B2", level=UnitLevel.cell)
    me = await make_member(session, a1, full_name="Lê Thị Hoa")
    org = Org(root, a, a1, a2, b, b1, b2, me)
    org.principals = {
        "admin": await make_user(session, grants=[(Role.admin, None)]),
        "manager_a": await make_user(session, grants=[(Role.manager, a)]),
        "manager_b": await make_user(session, grants=[(Role.manager, b)]),
        "reviewer_a": await make_user(session, grants=[(Role.reviewer, a)]),
        "member": await make_user(session, member=me),
        "partner_a": (await make_client(session, Role.partner, a))[0],
        "analyst_a": (await make_client(session, Role.analyst, a))[0],
    }
    return org


async def count_rows(model: Any, *where: Any) -> int:
    """Rows of `model` matching `where`, read in a fresh session (never a stale snapshot)."""
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def fetch(model: Any, ident: uuid.UUID) -> Any:
    """The current committed row, read in a fresh session."""
    async with db.sessionmaker() as s:
        return await s.get(model, ident)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert {"type", "title", "detail", "instance"} <= body.keys()
    if status == 401:
        assert response.headers["www-authenticate"].startswith(("Bearer", "Basic"))
    return body


def assert_status(response: httpx.Response, status: int) -> None:
    """Exact status; error statuses must also carry the matching problem code."""
    codes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 422: "validation_failed"}
    if status < 400:
        assert response.status_code == status, response.text
    else:
        assert_problem(response, status, codes[status])


async def audit_actions(entity_id: uuid.UUID) -> list[str]:
    """Actions of the audit events about one entity, oldest first."""
    from api.models import AuditEvent

    async with db.sessionmaker() as s:
        rows = await s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
        return list(rows.all())


async def walk(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any
) -> list[list[dict[str, Any]]]:
    """Every page of a list, following next_cursor until it is null."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        r = await client.get(url, params=query, headers=headers)
        assert r.status_code == 200, r.text
        pages.append(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "pagination does not terminate"
