"""The write endpoints of the attack tests, each with a valid body, its caller and, for
each string field, which look-alikes of code it takes as data and which it refuses; they
run in the world of tests/support/world.py (`build_world(client, objects=True)`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.factories import report_body
from tests.support.world import World

# --- the write endpoints ------------------------------------------------------------------------

# Strings that look like code. Where a field is free text they are data: stored and
# returned exactly as sent. Where a field has a format (codes, usernames, e-mails, URLs)
# they are refused with a 422 that names the field.
LOOKALIKES = {
    "sql_or": "' OR 1=1 --",
    "sql_drop": '"; DROP TABLE members; --',
    "script_tag": "<script>alert(1)</script>",
    "img_onerror": '"><img src=x onerror=alert(1)>',
}
MARKUP = ("<script", "<img", "onerror")
TEXT = frozenset(LOOKALIKES)  # every look-alike is accepted as data
STRICT = frozenset[str]()  # every look-alike is refused


@dataclass(frozen=True)
class Target:
    """A write endpoint: how to call it with a valid body and who calls it; for each
    string field, which look-alikes it accepts (the rest are refused) and the problem
    code of a refusal; how to read the object back."""

    name: str
    method: str
    url: Callable[[World], str]
    body: Callable[[World], dict[str, Any]]
    headers: Callable[[World], dict[str, str]]
    fields: dict[str, frozenset[str]]
    read: Callable[[World, dict[str, Any]], str] | None = None
    ok: int = 201
    codes: dict[str, str] = field(default_factory=dict)
    # Makes a fresh object for the call (a state change can be made once per object).
    prepare: Callable[[httpx.AsyncClient, World], Awaitable[None]] | None = None
    # Where a field comes back: its name in the answer, and its value in what `read` gives.
    echo: dict[str, str] = field(default_factory=dict)
    pick: Callable[[dict[str, Any], str], Any] = lambda body, name: body.get(name)

    def code(self, name: str) -> str:
        return self.codes.get(name, "validation_failed")


def _admin(w: World) -> dict[str, str]:
    return w.admin_h


def _member(w: World) -> dict[str, str]:
    return w.member_h


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def _fresh_account(client: httpx.AsyncClient, w: World) -> None:
    url = f"https://www.facebook.com/{_unique('fresh.')}"
    r = await client.post(
        f"/api/v1/members/{w.org.me.id}/accounts", json={"url": url}, headers=w.member_h
    )
    assert r.status_code == 201, r.text
    w.ids["fresh_account"] = r.json()["id"]


async def _fresh_report(client: httpx.AsyncClient, w: World) -> None:
    r = await client.post("/api/v1/reports", json=report_body(), headers=w.member_h)
    assert r.status_code == 201, r.text
    w.ids["fresh_report"] = r.json()["id"]


TARGETS: list[Target] = [
    Target(
        "units.create",
        "POST",
        lambda w: "/api/v1/units",
        lambda w: {
            "code": _unique("U."),
            "name": "Chi bộ mới",
            "level": "cell",
            "parent_id": str(w.org.a.id),
        },
        _admin,
        {"code": STRICT, "name": TEXT},
        read=lambda w, b: f"/api/v1/units/{b['id']}",
    ),
    Target(
        "units.update",
        "PATCH",
        lambda w: f"/api/v1/units/{w.ids['unit']}",
        lambda w: {"name": "Chi bộ đổi tên"},
        _admin,
        {"name": TEXT},
        read=lambda w, b: f"/api/v1/units/{b['id']}",
        ok=200,
    ),
    Target(
        "members.create",
        "POST",
        lambda w: "/api/v1/members",
        lambda w: {
            "full_name": "Phạm Văn Mới",
            "unit_id": str(w.org.a1.id),
            "membership": "official",
            "external_id": _unique("DV"),
            "position": "Đảng viên",
            "email": "moi@example.vn",
            "phone": "0912345678",
        },
        _admin,
        {
            "full_name": TEXT,
            "position": TEXT,
            "email": STRICT,
            "phone": STRICT,
            # Any visible ASCII without spaces is an identifier of the partner system.
            "external_id": frozenset({"script_tag"}),
        },
        read=lambda w, b: f"/api/v1/members/{b['id']}",
    ),
    Target(
        "members.update",
        "PATCH",
        lambda w: f"/api/v1/members/{w.ids['member']}",
        lambda w: {"full_name": "Trần Văn Nam", "position": "Bí thư"},
        _admin,
        {"full_name": TEXT, "position": TEXT},
        read=lambda w, b: f"/api/v1/members/{b['id']}",
        ok=200,
    ),
    Target(
        "accounts.declare",
        "POST",
        lambda w: f"/api/v1/members/{w.org.me.id}/accounts",
        lambda w: {"url": f"https://www.facebook.com/{_unique('acc.')}", "display_name": "Hoa Lê"},
        _member,
        {"url": STRICT, "display_name": TEXT},
        read=lambda w, b: f"/api/v1/accounts/{b['id']}",
        codes={"url": "invalid_account_url"},
    ),
    Target(
        "accounts.update",
        "PATCH",
        lambda w: f"/api/v1/accounts/{w.ids['account']}",
        lambda w: {"display_name": "Trang cá nhân"},
        _admin,
        {"display_name": TEXT},
        read=lambda w, b: f"/api/v1/accounts/{b['id']}",
        ok=200,
    ),
    Target(
        "accounts.reject",
        "POST",
        lambda w: f"/api/v1/accounts/{w.ids['fresh_account']}/reject",
        lambda w: {"note": "Không khớp"},
        _admin,
        {"note": TEXT},
        ok=200,
        prepare=_fresh_account,
        echo={"note": "review_note"},
        read=lambda w, b: f"/api/v1/accounts/{b['id']}",
    ),
    Target(
        "reports.create",
        "POST",
        lambda w: "/api/v1/reports",
        lambda w: report_body(),
        _member,
        {"url": STRICT, "description": TEXT},
        read=lambda w, b: f"/api/v1/reports/{b['id']}",
        codes={"url": "invalid_url"},
    ),
    Target(
        "reports.transition",
        "POST",
        lambda w: f"/api/v1/reports/{w.ids['fresh_report']}/transitions",
        lambda w: {"to": "in_review", "comment": "Đang xác minh"},
        _admin,
        {"comment": TEXT},
        ok=200,
        prepare=_fresh_report,
        read=lambda w, b: f"/api/v1/reports/{b['id']}/timeline",
        pick=lambda body, name: body["items"][-1][name] if "items" in body else None,
    ),
    Target(
        "documents.create",
        "POST",
        lambda w: "/api/v1/documents",
        lambda w: {
            "code": _unique("HD-"),
            "title": "Hướng dẫn",
            "doc_type": "guidance",
            "issuer": "Ban Tuyên giáo",
            "issued_on": "2026-01-05",
            "summary": "Tóm tắt",
            "body": "## Nội dung",
            "audience_unit_id": str(w.org.a.id),
        },
        _admin,
        {"code": TEXT, "title": TEXT, "issuer": TEXT, "summary": TEXT, "body": TEXT},
        read=lambda w, b: f"/api/v1/documents/{b['id']}",
    ),
    Target(
        "documents.update",
        "PATCH",
        lambda w: f"/api/v1/documents/{w.ids['document']}",
        lambda w: {"title": "Hướng dẫn sửa", "body": "## Sửa"},
        _admin,
        {"title": TEXT, "body": TEXT},
        read=lambda w, b: f"/api/v1/documents/{b['id']}",
        ok=200,
    ),
    Target(
        "users.create",
        "POST",
        lambda w: "/api/v1/users",
        lambda w: {
            "username": _unique("new."),
            "password": "a-long-passphrase",
            "grants": [{"role": "reviewer", "unit_id": str(w.org.a.id)}],
        },
        # A password is never stored or compared as text (only its argon2 hash): any
        # character is allowed, as in any password field.
        _admin,
        {"username": STRICT, "password": TEXT},
    ),
    Target(
        "users.update",
        "PATCH",
        lambda w: f"/api/v1/users/{w.ids['user']}",
        lambda w: {"password": "another-long-passphrase"},
        _admin,
        {"password": TEXT},
        ok=200,
    ),
    Target(
        "clients.create",
        "POST",
        lambda w: "/api/v1/clients",
        lambda w: {"name": "Hệ thống tỉnh", "role": "partner", "unit_id": str(w.org.a.id)},
        _admin,
        {"name": TEXT},
        read=lambda w, b: f"/api/v1/clients/{b['id']}",
    ),
]
TARGET_IDS = [t.name for t in TARGETS]
PASSWORD_FIELDS = frozenset({"password"})


async def call(
    client: httpx.AsyncClient,
    w: World,
    t: Target,
    body: bytes | dict[str, Any],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Send `body` (a dict as JSON, or raw bytes as application/json) to the target
    (after `prepare`, which makes the object a state change needs)."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.request(
        t.method,
        t.url(w),
        content=content,
        headers={**t.headers(w), "Content-Type": "application/json", **(headers or {})},
    )


async def prepare(client: httpx.AsyncClient, w: World, t: Target) -> None:
    if t.prepare is not None:
        await t.prepare(client, w)
