"""Hostile input on the OAuth2 form (POST /auth/token, /auth/revoke): code-looking
credentials are wrong credentials, NUL in an identifier is a 422 (it was a 500 on
PostgreSQL), the grant type is never echoed, and no refused attempt writes anything but
its failed-login counter."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.enums import Role
from tests.attacks.writes import LOOKALIKES, MARKUP
from tests.support.factories import PASSWORD, TOKEN_URL, make_client, make_unit, make_user
from tests.support.problems import assert_problem, assert_safe_response
from tests.support.reads import diff, fingerprint

REVOKE_URL = "/api/v1/auth/revoke"


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.fixture
async def known(session: AsyncSession) -> dict[str, str]:
    """A user and a client that exist, so that a refusal is not just 'unknown'."""
    await make_user(session, grants=[(Role.admin, None)], username="form.admin")
    partner, secret = await make_client(session, Role.partner, await make_unit(session))
    return {"username": "form.admin", "client_id": partner.client_id, "secret": secret}


async def _post(client: httpx.AsyncClient, data: Any, **kwargs: Any) -> httpx.Response:
    return await client.post(TOKEN_URL, data=data, **kwargs)


class TestCodeLookingCredentials:
    async def test_are_just_wrong(self, client: httpx.AsyncClient, known: dict[str, str]) -> None:
        before = await fingerprint()
        logins = [{"username": text, "password": PASSWORD} for text in LOOKALIKES.values()]
        logins += [
            {"username": known["username"], "password": LOOKALIKES["sql_or"]},
            {"username": f"{known['username']}' --", "password": LOOKALIKES["sql_drop"]},
        ]
        for data in logins:  # each costs an argon2 check
            r = await _post(client, {"grant_type": "password", **data})
            body = assert_problem(r, 400, "invalid_grant")
            assert "access_token" not in body
            assert_safe_response(r, *MARKUP)
        for text in LOOKALIKES.values():
            r = await _post(
                client,
                {
                    "grant_type": "client_credentials",
                    "client_id": text,
                    "client_secret": known["secret"],
                },
            )
            assert_problem(r, 401, "invalid_client")
            r = await _post(
                client,
                {
                    "grant_type": "client_credentials",
                    "client_id": known["client_id"],
                    "client_secret": text,
                },
            )
            assert_problem(r, 401, "invalid_client")
            r = await _post(client, {"grant_type": "refresh_token", "refresh_token": text})
            assert_problem(r, 400, "invalid_grant")
            r = await client.post(REVOKE_URL, data={"token": text})
            assert (r.status_code, r.json()) == (200, {})
        # Only the failed-login counters (not compared) moved.
        assert diff(before, await fingerprint()) == {}


class TestNulInIdentifiers:
    """Regression: on PostgreSQL a NUL in the username or client id reached the database
    (the failed-login counter's key, then the lookup) and the login answered 500."""

    @pytest.mark.parametrize(
        ("data", "loc"),
        [
            (
                {"grant_type": "password", "username": "form\x00admin", "password": PASSWORD},
                ["body", "username"],
            ),
            ({"grant_type": "password", "username": "\x00", "password": "x"}, ["body", "username"]),
            (
                {
                    "grant_type": "client_credentials",
                    "client_id": "qd85_\x00",
                    "client_secret": "x",
                },
                ["body", "client_id"],
            ),
        ],
        ids=["username", "username_only_nul", "client_id"],
    )
    async def test_form_field(
        self,
        client: httpx.AsyncClient,
        known: dict[str, str],
        data: dict[str, str],
        loc: list[str],
    ) -> None:
        before = await fingerprint()
        body = assert_problem(await _post(client, data), 422, "validation_failed")
        assert body["errors"] == [{"loc": loc, "msg": "NUL character", "type": "value_error"}]
        assert diff(before, await fingerprint()) == {}

    async def test_http_basic_client_id(
        self, client: httpx.AsyncClient, known: dict[str, str]
    ) -> None:
        r = await _post(
            client,
            {"grant_type": "client_credentials"},
            headers=_basic(known["client_id"] + "\x00", known["secret"]),
        )
        body = assert_problem(r, 422, "validation_failed")
        assert body["errors"][0]["loc"] == ["header", "Authorization"]

    async def test_nul_in_a_secret_is_only_a_wrong_secret(
        self, client: httpx.AsyncClient, known: dict[str, str]
    ) -> None:
        """Secrets are hashed before any comparison, so a NUL there is harmless."""
        r = await _post(
            client,
            {
                "grant_type": "password",
                "username": known["username"],
                "password": PASSWORD + "\x00",
            },
        )
        assert_problem(r, 400, "invalid_grant")
        r = await _post(
            client,
            {
                "grant_type": "client_credentials",
                "client_id": known["client_id"],
                "client_secret": known["secret"] + "\x00",
            },
        )
        assert_problem(r, 401, "invalid_client")
        for token in ("a\x00b", "\x00"):
            assert_problem(
                await _post(client, {"grant_type": "refresh_token", "refresh_token": token}),
                400,
                "invalid_grant",
            )
            assert (await client.post(REVOKE_URL, data={"token": token})).status_code == 200

    async def test_the_right_credentials_still_work(
        self, client: httpx.AsyncClient, known: dict[str, str]
    ) -> None:
        r = await _post(
            client, {"grant_type": "password", "username": known["username"], "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        r = await _post(
            client,
            {"grant_type": "client_credentials"},
            headers=_basic(known["client_id"], known["secret"]),
        )
        assert r.status_code == 200, r.text


class TestOtherFormAttacks:
    async def test_grant_type_is_not_echoed(self, client: httpx.AsyncClient) -> None:
        """Regression: the detail used to quote the grant_type sent."""
        for grant_type in (LOOKALIKES["script_tag"], LOOKALIKES["img_onerror"], "a\x00b"):
            r = await _post(client, {"grant_type": grant_type})
            body = assert_problem(r, 400, "unsupported_grant_type")
            assert body["error"] == "unsupported_grant_type"
            assert grant_type not in r.text
            assert_safe_response(r, *MARKUP)

    async def test_malformed_forms(self, client: httpx.AsyncClient, known: dict[str, str]) -> None:
        cases = {
            "percent_invalid_utf8": (
                b"grant_type=password&username=%ff%fe&password=x",
                "400 invalid_grant",
            ),
            "raw_invalid_utf8": (
                b"grant_type=password&username=\xff\xfe&password=x",
                "400 invalid_grant",
            ),
            "surrogate_password": (
                b"grant_type=password&username=x&password=%ED%A0%80",
                "400 invalid_grant",
            ),
            "5000_fields": (
                b"&".join([b"a=1"] * 5000) + b"&grant_type=password&username=x&password=y",
                "400 bad_request",
            ),
            "long_username": (
                b"grant_type=password&username=" + b"x" * 65 + b"&password=y",
                "422 validation_failed",
            ),
            "long_refresh_token": (
                b"grant_type=refresh_token&refresh_token=" + b"x" * 4097,
                "422 validation_failed",
            ),
            "repeated_grant_type": (
                b"grant_type=password&grant_type=client_credentials&username=x&password=y",
                "400 invalid_grant",
            ),
        }
        before = await fingerprint()
        failures = []
        for name, (content, expected) in cases.items():
            r = await client.post(
                TOKEN_URL,
                content=content,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert_safe_response(r, *MARKUP)
            if (got := f"{r.status_code} {r.json().get('code')}") != expected:
                failures.append(f"{name}: {got}, expected {expected}")
        assert failures == []
        assert diff(before, await fingerprint()) == {}
