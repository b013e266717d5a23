"""Shared helpers for the identity tests (auth, JWT, users, clients, audit, conventions):
a small tree with one principal per role (problem assertions and row reads come from
tests/routers/org.py).

    R (central)
    ├── A (provincial) ── A1 (cell) ── member `mem_a` (linked to the `member` user)
    │                                └ member `other_a` (no login)
    └── B (provincial) ── B1 (cell) ── member `mem_b` (no login)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.enums import Role, UnitLevel
from api.models import ApiClient, Member, Unit, User
from tests.factories import PASSWORD, auth, make_client, make_member, make_unit, make_user
from tests.routers.org import PROBLEM, assert_problem, count_rows, fetch

__all__ = ["PROBLEM", "assert_problem", "count_rows", "fetch"]

TOKEN_URL = "/api/v1/auth/token"


@dataclass
class Tree:
    root: Unit
    a: Unit
    a1: Unit
    b: Unit
    b1: Unit
    mem_a: Member
    other_a: Member
    mem_b: Member
    principals: dict[str, User | ApiClient] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        """Bearer headers for a principal name ('anon' sends none)."""
        return {} if role == "anon" else auth(self.principals[role])


async def build_tree(session: AsyncSession) -> Tree:
    root = await make_unit(session, level=UnitLevel.central)
    a = await make_unit(session, root, level=UnitLevel.provincial)
    a1 = await make_unit(session, a, level=UnitLevel.cell)
    b = await make_unit(session, root, level=UnitLevel.provincial)
    b1 = await make_unit(session, b, level=UnitLevel.cell)
    mem_a = await make_member(session, a1)
    other_a = await make_member(session, a1)
    mem_b = await make_member(session, b1)
    tree = Tree(root, a, a1, b, b1, mem_a, other_a, mem_b)
    partner, partner_secret = await make_client(session, Role.partner, a)
    analyst, analyst_secret = await make_client(session, Role.analyst, a)
    tree.principals = {
        "admin": await make_user(session, grants=[(Role.admin, None)], username="root.admin"),
        "manager_a": await make_user(session, grants=[(Role.manager, a)], username="manager.a"),
        "manager_b": await make_user(session, grants=[(Role.manager, b)], username="manager.b"),
        "reviewer_a": await make_user(session, grants=[(Role.reviewer, a)], username="reviewer.a"),
        "member": await make_user(session, member=mem_a, username="member.a"),
        "partner_a": partner,
        "analyst_a": analyst,
    }
    tree.secrets = {"partner_a": partner_secret, "analyst_a": analyst_secret}
    return tree


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post(
        TOKEN_URL, data={"grant_type": "password", "username": username, "password": password}
    )


def assert_unauthorized(response: httpx.Response, code: str = "invalid_token") -> None:
    """401 problem with this code and a Bearer challenge."""
    assert_problem(response, 401, code)
    assert response.headers["www-authenticate"].startswith("Bearer")


def assert_documented(app: FastAPI, response: httpx.Response) -> None:
    """The response's status is one the OpenAPI document lists for its operation."""
    method = response.request.method.lower()
    path = response.request.url.path
    for template, item in app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) and method in item:
            documented = set(item[method]["responses"])
            assert str(response.status_code) in documented, (
                f"{method.upper()} {template} answered {response.status_code}, "
                f"documented {sorted(documented)}"
            )
            return
    raise AssertionError(f"no documented operation for {method.upper()} {path}")
