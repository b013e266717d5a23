"""Secrets (passwords, client secrets, access and refresh tokens, their signatures) are
never written anywhere but where they must be: not in any log record (request log on,
every logger captured, tracebacks of 500s included), not in any row of any table (audit
events and stored idempotent responses included), not in an error response, not in the
metrics. The test performs every operation that handles a secret, then reads it all back."""

from __future__ import annotations

import base64
import logging
import secrets
import traceback
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.core.db import Base, db
from api.core.enums import Role, UnitLevel
from api.models import AuditEvent, IdempotencyRecord
from api.services import auth as auth_service
from api.services import users as users_service
from tests.support.factories import PASSWORD, auth, make_member, make_unit, make_user, report_body

TOKEN_URL = "/api/v1/auth/token"


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _record_text(record: logging.LogRecord) -> str:
    """Everything a handler could write out of a record."""
    parts = [record.getMessage(), repr(record.args), repr(record.msg)]
    if record.exc_info:
        parts.append("".join(traceback.format_exception(*record.exc_info)))
    parts += [record.exc_text or "", record.stack_info or ""]
    parts += [f"{k}={v!r}" for k, v in vars(record).items() if k not in ("args", "msg", "exc_info")]
    return "\n".join(parts)


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Capture]:
    """Every record of every logger at INFO and above, with the request log turned on."""
    monkeypatch.setattr(get_settings(), "log_requests", True)
    capture = _Capture()
    root, ours = logging.getLogger(), logging.getLogger("qd85")  # "qd85" does not propagate
    old_level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(capture)
    ours.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        ours.removeHandler(capture)
        root.setLevel(old_level)


class Secrets:
    """Every secret seen in the scenario, and the answers that must not echo any."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.refusals: list[httpx.Response] = []

    def add(self, label: str, value: str | None) -> None:
        if not value:
            return
        self.values[label] = value
        if value.count(".") == 2:  # a JWT: its signature alone is a secret too
            self.values[f"{label} signature"] = value.rsplit(".", 1)[1]

    def tokens(self, label: str, r: httpx.Response) -> dict[str, Any]:
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store"
        body: dict[str, Any] = r.json()
        self.add(f"{label} access", body["access_token"])
        self.add(f"{label} refresh", body.get("refresh_token"))
        return body

    def refused(self, r: httpx.Response, status: int) -> None:
        assert r.status_code == status, r.text
        self.refusals.append(r)

    def found_in(self, text: str) -> list[str]:
        return sorted(label for label, value in self.values.items() if value in text)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def _all_rows() -> dict[str, list[str]]:
    """Every row of every table, as text (bytes decoded)."""
    out: dict[str, list[str]] = {}
    async with db.sessionmaker() as s:
        for table in Base.metadata.sorted_tables:
            rows = (await s.execute(select(table))).all()
            out[table.name] = [
                repr([v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in row])
                for row in rows
            ]
    return out


async def _scenario(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> Secrets:
    """Every operation that handles a secret, each secret recorded as it appears."""
    seen = Secrets()
    unit = await make_unit(session, level=UnitLevel.provincial)
    cell = await make_unit(session, unit, level=UnitLevel.cell)
    member = await make_member(session, cell)
    await make_user(session, grants=[(Role.admin, None)], username="secret.admin")
    seen.add("factory password", PASSWORD)

    # Password logins, good and bad.
    admin = seen.tokens(
        "admin",
        await client.post(
            TOKEN_URL,
            data={"grant_type": "password", "username": "secret.admin", "password": PASSWORD},
        ),
    )
    wrong = "wrong-" + secrets.token_urlsafe(12)
    seen.add("wrong password", wrong)
    seen.refused(
        await client.post(
            TOKEN_URL,
            data={"grant_type": "password", "username": "secret.admin", "password": wrong},
        ),
        400,
    )
    admin_h = _bearer(admin["access_token"])

    # Users: creation with a password, a refused creation, a password change.
    first = "first-" + secrets.token_urlsafe(12)
    seen.add("new user password", first)
    r = await client.post(
        "/api/v1/users",
        headers=admin_h,
        json={"username": "secret.member", "password": first, "member_id": str(member.id)},
    )
    assert r.status_code == 201, r.text
    user_id = r.json()["id"]
    refused = "refused-" + secrets.token_urlsafe(12)
    seen.add("password of a refused creation", refused)
    seen.refused(
        await client.post(
            "/api/v1/users",
            headers=admin_h,
            json={"username": "no spaces allowed", "password": refused},
        ),
        422,
    )
    seen.refused(
        await client.post(
            "/api/v1/users",
            headers=admin_h,
            json={"username": "secret.member", "password": refused},
        ),
        409,
    )
    changed = "changed-" + secrets.token_urlsafe(12)
    seen.add("changed password", changed)
    r = await client.patch(f"/api/v1/users/{user_id}", json={"password": changed}, headers=admin_h)
    assert r.status_code == 200, r.text
    mine = seen.tokens(
        "member",
        await client.post(
            TOKEN_URL,
            data={"grant_type": "password", "username": "secret.member", "password": changed},
        ),
    )
    seen.refused(
        await client.post(
            TOKEN_URL,
            data={"grant_type": "password", "username": "secret.member", "password": first},
        ),
        400,
    )

    # Clients: creation (twice with one Idempotency-Key), the grant, rotation.
    created = []
    for _ in range(2):
        r = await client.post(
            "/api/v1/clients",
            headers={**admin_h, "Idempotency-Key": "client-1"},
            json={"name": "Hệ thống tỉnh", "role": "partner", "unit_id": str(unit.id)},
        )
        assert r.status_code == 201, r.text
        assert r.headers["cache-control"] == "no-store"
        created.append(r.json())
        seen.add(f"client secret {len(created)}", r.json()["client_secret"])
    partner = created[0]
    seen.tokens(
        "partner form",
        await client.post(
            TOKEN_URL,
            data={
                "grant_type": "client_credentials",
                "client_id": partner["client_id"],
                "client_secret": partner["client_secret"],
            },
        ),
    )
    seen.tokens(
        "partner basic",
        await client.post(
            TOKEN_URL,
            data={"grant_type": "client_credentials"},
            headers=_basic(partner["client_id"], partner["client_secret"]),
        ),
    )
    wrong_secret = secrets.token_urlsafe(32)
    seen.add("wrong client secret", wrong_secret)
    seen.refused(
        await client.post(
            TOKEN_URL,
            data={"grant_type": "client_credentials"},
            headers=_basic(partner["client_id"], wrong_secret),
        ),
        401,
    )
    r = await client.post(f"/api/v1/clients/{partner['id']}/rotate-secret", headers=admin_h)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    seen.add("rotated client secret", r.json()["client_secret"])
    partner_token = seen.tokens(
        "partner rotated",
        await client.post(
            TOKEN_URL,
            data={
                "grant_type": "client_credentials",
                "client_id": partner["client_id"],
                "client_secret": r.json()["client_secret"],
            },
        ),
    )
    seen.refused(
        await client.post(
            TOKEN_URL,
            data={
                "grant_type": "client_credentials",
                "client_id": partner["client_id"],
                "client_secret": partner["client_secret"],
            },
        ),
        401,
    )

    # Refresh: rotation, reuse of the rotated token, logout.
    rotated = seen.tokens(
        "member rotated",
        await client.post(
            TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": mine["refresh_token"]}
        ),
    )
    seen.refused(
        await client.post(
            TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": mine["refresh_token"]}
        ),
        400,
    )
    again = seen.tokens(
        "member again",
        await client.post(
            TOKEN_URL,
            data={"grant_type": "password", "username": "secret.member", "password": changed},
        ),
    )
    assert (
        await client.post("/api/v1/auth/revoke", data={"token": again["refresh_token"]})
    ).status_code == 200
    seen.refused(
        await client.post(
            TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": again["refresh_token"]}
        ),
        400,
    )

    # Requests carrying bearer tokens, on reads and keyed writes (stored for replay).
    for token in (admin["access_token"], rotated["access_token"], partner_token["access_token"]):
        assert (await client.get("/api/v1/auth/me", headers=_bearer(token))).status_code == 200
    member_h = {**_bearer(rotated["access_token"]), "Idempotency-Key": "report-1"}
    body = report_body()
    for _ in range(2):
        r = await client.post("/api/v1/reports", json=body, headers=member_h)
        assert r.status_code == 201, r.text
    tampered = mine["access_token"][:-6] + (
        "AAAAAA" if not mine["access_token"].endswith("AAAAAA") else "BBBBBB"
    )
    seen.refused(await client.get("/api/v1/auth/me", headers=_bearer(tampered)), 401)
    seen.refused(
        await client.get("/api/v1/auth/me", params={"access_token": admin["access_token"]}), 401
    )

    # Unexpected failures while a password and a token are in the request.
    async def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("unexpected failure")

    def sync_boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("unexpected failure")

    crash = "crash-" + secrets.token_urlsafe(12)
    seen.add("password of a crashed request", crash)
    with monkeypatch.context() as m:
        m.setattr(users_service, "create_user", boom)
        m.setattr(auth_service, "create_access_token", sync_boom)
        seen.refused(
            await client.post(
                "/api/v1/users", headers=admin_h, json={"username": "crash.user", "password": crash}
            ),
            500,
        )
        seen.refused(
            await client.post(
                TOKEN_URL,
                data={"grant_type": "password", "username": "secret.member", "password": changed},
            ),
            500,
        )
    return seen


class TestSecretsStayOut:
    async def test_of_logs_rows_answers_and_metrics(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        logs: _Capture,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        seen = await _scenario(client, session, monkeypatch)
        assert len(seen.values) >= 30

        # The capture did see the traffic: request lines and the two tracebacks.
        requests = [r for r in logs.records if r.name == "qd85.request"]
        assert len(requests) == sum(1 for r in logs.records if r.name == "httpx") >= 30
        assert any('"/api/v1/auth/token"' in r.getMessage() for r in requests)
        crashes = [r for r in logs.records if r.exc_info and r.name == "qd85.errors"]
        assert len(crashes) == 2
        # httpx logs the test client's own requests (URL and all): not the service's.
        served = [r for r in logs.records if not r.name.startswith(("httpx", "httpcore"))]
        leaks = {f"{r.name}: {r.getMessage()[:80]}": seen.found_in(_record_text(r)) for r in served}
        assert {k: v for k, v in leaks.items() if v} == {}

        rows = await _all_rows()
        assert rows["audit_events"]
        assert rows["idempotency_records"]
        leaks = {
            f"{table}[{i}]": seen.found_in(text)
            for table, texts in rows.items()
            for i, text in enumerate(texts)
        }
        assert {k: v for k, v in leaks.items() if v} == {}

        for r in seen.refusals:
            assert seen.found_in(r.text) == [], (r.request.url, r.status_code, r.text)
            assert seen.found_in(str(r.headers)) == []
        assert seen.found_in((await client.get("/metrics")).text) == []

        # The audit trail says that a secret was set or changed, never what it is.
        async with db.sessionmaker() as s:
            events = {e.action: e.changes for e in (await s.scalars(select(AuditEvent))).all()}
        assert events["user.create"]["password"] == "[redacted]"
        assert events["user.update"]["password"] == "[redacted]"
        assert events["client.rotate_secret"] == {"client_secret": "[redacted]"}
        assert "client_secret" not in events["client.create"]

    async def test_a_client_creation_is_never_replayed(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        """POST /clients does not honour Idempotency-Key (SPEC §3 lists it for reports,
        declarations, acknowledgements and roster syncs only): a retry makes a second
        client with its own secret, and no response holding a secret is stored for
        replay. Replaying one would mean keeping the secret in clear text at rest."""
        unit = await make_unit(session)
        admin = await make_user(session, grants=[(Role.admin, None)])
        headers = {**auth(admin), "Idempotency-Key": f"client-{uuid.uuid4()}"}
        body = {"name": "Hệ thống", "role": "analyst", "unit_id": str(unit.id)}
        first = await client.post("/api/v1/clients", json=body, headers=headers)
        second = await client.post("/api/v1/clients", json=body, headers=headers)
        assert (first.status_code, second.status_code) == (201, 201)
        assert "idempotent-replayed" not in second.headers
        assert first.json()["id"] != second.json()["id"]
        assert first.json()["client_secret"] != second.json()["client_secret"]
        async with db.sessionmaker() as s:
            assert (await s.scalars(select(IdempotencyRecord))).all() == []
