"""Hostile roster sync bodies (POST /api/v1/roster/syncs reads its own body: JSON,
NDJSON, CSV). Code-looking names are data; a bad row is a rejected row of the preview
(one bad row does not refuse the body); a body that cannot be read is a 4xx problem and
writes nothing, not even a preview."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from tests.attacks.writes import LOOKALIKES, MARKUP
from tests.support.problems import assert_safe_response, summary
from tests.support.reads import diff, fingerprint
from tests.support.world import Org, World, build_org, build_world

SYNCS = "/api/v1/roster/syncs"


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await build_world(client, objects=True)


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


def _partner(w: World | Org) -> dict[str, str]:
    return w.partner_h


def _row(external_id: str, full_name: str = "Nguyễn Văn An", **extra: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "full_name": full_name,
        "unit_code": "A.1",
        "membership": "official",
        **extra,
    }


async def _sync(
    client: httpx.AsyncClient,
    w: World | Org,
    body: bytes | dict[str, Any],
    content_type: str = "application/json",
    **params: str,
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.post(
        SYNCS,
        params=params,
        content=content,
        headers={**_partner(w), "Content-Type": content_type},
    )


class TestRosterRows:
    async def test_code_looking_names_are_applied_verbatim(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        members = int((await fingerprint())["members"])
        rows = [
            _row("DV-SQL-1", LOOKALIKES["sql_or"], position=LOOKALIKES["sql_drop"]),
            _row("DV-XSS-1", LOOKALIKES["script_tag"], position=LOOKALIKES["img_onerror"]),
            _row(LOOKALIKES["sql_or"]),  # an external_id with spaces: rejected
            _row("DV-BAD-UNIT", unit_code=LOOKALIKES["script_tag"]),  # not a unit code
            {**_row("DV-UNKNOWN-KEY"), "<script>": 1},  # an unknown field
        ]
        r = await _sync(
            client,
            world,
            {"mode": "upsert", "members": rows},
            dry_run="false",
            skip_rejected="true",
        )
        assert r.status_code == 201, r.text
        assert_safe_response(r)
        sync = r.json()
        assert (sync["status"], sync["counts"]["created"], sync["counts"]["rejected"]) == (
            "applied",
            2,
            3,
        )
        for external_id, name, position in (
            ("DV-SQL-1", LOOKALIKES["sql_or"], LOOKALIKES["sql_drop"]),
            ("DV-XSS-1", LOOKALIKES["script_tag"], LOOKALIKES["img_onerror"]),
        ):
            found = await client.get("/api/v1/members", params={"q": name}, headers=world.admin_h)
            (member,) = [m for m in found.json()["items"] if m["external_id"] == external_id]
            assert (member["full_name"], member["position"]) == (name, position)
        assert int((await fingerprint())["members"]) == members + 2  # the world's, and these two

    async def test_csv_with_formula_and_code_is_data(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        """CSV injection: a cell starting with `=` is a name like any other here (qd85
        writes CSV only for statistics, whose cells are numbers and unit names)."""
        csv = (
            b"external_id,full_name,unit_code,membership\n"
            b'DV-F-1,"=HYPERLINK(""http://evil.example"")",A.1,official\n'
            b"DV-F-2,<b>bold</b>,A.1,official\n"
        )
        r = await _sync(client, world, csv, "text/csv", mode="upsert", dry_run="false")
        assert r.status_code == 201, r.text
        assert r.json()["counts"]["created"] == 2


UNREADABLE: dict[str, tuple[bytes, str, dict[str, str], str]] = {
    "invalid_utf8_json": (
        b'{"mode":"upsert","members":[{"full_name":"\xff\xfe"}]}',
        "application/json",
        {},
        "400 invalid_json",
    ),
    "invalid_utf8_csv": (
        b"external_id,full_name,unit_code,membership\nX1,\xff\xfe\xfd,A.1,official\n",
        "text/csv",
        {"mode": "upsert"},
        "422 unsupported_encoding",
    ),
    "truncated": (b'{"mode":"upsert","members":[', "application/json", {}, "400 invalid_json"),
    "mode_script": (
        b'{"mode":"<script>alert(1)</script>","members":[]}',
        "application/json",
        {},
        "422 validation_failed",
    ),
    "scope_sql": (
        b'{"mode":"upsert","scope_unit_code":"\' OR 1=1 --","members":[]}',
        "application/json",
        {},
        "422 validation_failed",
    ),
    "scope_query_script": (
        b'{"mode":"upsert","members":[]}',
        "application/json",
        {"scope_unit_code": "<script>"},
        "422 validation_failed",
    ),
    "dry_run_sql": (
        b'{"mode":"upsert","members":[]}',
        "application/json",
        {"dry_run": "' OR 1=1"},
        "422 validation_failed",
    ),
    "top_level_array": (b"[" + b"0," * 99_999 + b"0]", "application/json", {}, "400 invalid_json"),
    "empty": (b"", "application/json", {}, "422 invalid_file"),
}


class TestUnreadableBodies:
    """Refused whole: a problem, and no preview (nothing stored at all)."""

    async def test_refused(self, client: httpx.AsyncClient, world: World) -> None:
        before = await fingerprint()
        failures = []
        for name, (body, content_type, params, expected) in UNREADABLE.items():
            r = await _sync(client, world, body, content_type, **params)
            assert_safe_response(r, *MARKUP)
            if summary(r) != expected:
                failures.append(f"{name}: {summary(r)}, expected {expected}")
        assert failures == []
        assert diff(before, await fingerprint()) == {}

    async def test_over_50_mb_is_413(self, client: httpx.AsyncClient, world: World) -> None:
        async def body() -> Any:
            yield b'{"mode":"upsert","members":['

        before = await fingerprint()
        r = await client.post(
            SYNCS,
            content=body(),
            headers={
                **world.org.headers("partner_a"),
                "Content-Type": "application/json",
                "Content-Length": str(50_000_001),
            },
        )
        assert summary(r) == "413 payload_too_large", r.text
        assert diff(before, await fingerprint()) == {}


class TestParserCrashes:
    """Bodies that once ended in a 500: each is refused, or its row rejected."""

    async def test_deeply_nested_json_body(self, client: httpx.AsyncClient, org: Org) -> None:
        nested = b"[" * 10_000 + b"]" * 10_000
        r = await _sync(client, org, b'{"mode":"upsert","members":[' + nested + b"]}")
        assert summary(r) == "400 invalid_json", r.text

    async def test_integer_of_5000_digits(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await _sync(client, org, b'{"mode":"upsert","members":[' + b"9" * 5000 + b"]}")
        assert summary(r) == "400 invalid_json", r.text

    async def test_deeply_nested_ndjson_line(self, client: httpx.AsyncClient, org: Org) -> None:
        lines = json.dumps(_row("DV-OK-1")).encode() + b"\n" + b"[" * 10_000 + b"]" * 10_000
        r = await _sync(client, org, lines, "application/x-ndjson", mode="upsert")
        assert r.status_code == 201, r.text
        assert (r.json()["counts"]["created"], r.json()["counts"]["rejected"]) == (1, 1)

    async def test_lone_surrogate_in_a_row_key(self, client: httpx.AsyncClient, org: Org) -> None:
        body = (
            b'{"mode":"upsert","members":['
            + json.dumps({**_row("DV-S-1"), "\ud800": 1}).encode()
            + b"]}"
        )
        r = await _sync(client, org, body)
        assert r.status_code == 201, r.text
        assert r.json()["counts"]["rejected"] == 1

    @pytest.mark.parametrize("where", ["json_external_id", "json_enum", "json_key", "csv"])
    async def test_nul_in_a_row(self, client: httpx.AsyncClient, org: Org, where: str) -> None:
        rows = {
            "json_external_id": _row("DV\x00N1"),
            "json_enum": _row("DV-N2", membership="offi\x00cial"),
            "json_key": {**_row("DV-N3"), "x\x00": 1},
        }
        if where in rows:
            r = await _sync(client, org, {"mode": "upsert", "members": [rows[where]]})
        else:
            csv = b"external_id,full_name,unit_code,membership\nDV\x00N4,An,A.1,official\n"
            r = await _sync(client, org, csv, "text/csv", mode="upsert")
        assert r.status_code == 201, r.text
        assert r.json()["counts"]["rejected"] == 1


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx_bomb(strings_bytes: int, cell: int = 10) -> bytes:
    """A valid workbook whose shared-strings part inflates to `strings_bytes` (cells of
    `cell` characters); the sheet references the first four as a header."""
    from tests.services.test_xlsx import NS, replace_part, workbook

    body = workbook([["X"]])
    one = b"<si><t>" + b"a" * cell + b"</t></si>"
    head = f"<sst {NS}>".encode() + b"".join(
        f"<si><t>{h}</t></si>".encode() for h in ("external_id", "full_name", "unit_code", "x")
    )
    strings = head + one * (strings_bytes // len(one)) + b"</sst>"
    sheet = (
        f'<worksheet {NS}><sheetData><row r="1">'
        + "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCD"))
        + "</row></sheetData></worksheet>"
    ).encode()
    body = replace_part(body, "xl/worksheets/sheet1.xml", sheet)
    body = replace_part(body, "xl/sharedStrings.xml", strings)
    # Declare the part so openpyxl reads it.
    types = b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'  # noqa: E501
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        ct = z.read("[Content_Types].xml").replace(b"</Types>", types)
    return replace_part(body, "[Content_Types].xml", ct)


class TestDecompressionBombs:
    """Issue 14, finding 1: a small XLSX that inflates far beyond its size is refused
    before it is inflated, naming the limit; nothing is stored."""

    async def test_a_bomb_over_the_cap_is_422_naming_the_limit(
        self, client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "roster_xlsx_max_unzipped", 4 << 20)
        body = _xlsx_bomb(8 << 20, cell=1000)
        assert len(body) < 200_000  # a ratio over 40
        before = await fingerprint()
        r = await _sync(client, org, body, XLSX_TYPE, mode="upsert")
        assert summary(r) == "422 invalid_file", r.text
        assert r.json()["limit"] == {"name": "unzipped_bytes", "value": 4 << 20}
        assert_safe_response(r)
        assert diff(before, await fingerprint()) == {}

    async def test_many_shared_strings_under_the_cap_are_read(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await _sync(client, org, _xlsx_bomb(2 << 20), XLSX_TYPE, mode="upsert")
        assert r.status_code == 201, r.text
        assert r.json()["counts"]["created"] == 0

    async def test_rows_over_the_cap_are_422(
        self, client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "roster_max_rows", 3)
        rows = b"".join(f"DV-R{i},An,A.1,official\n".encode() for i in range(4))
        csv = b"external_id,full_name,unit_code,membership\n" + rows
        r = await _sync(client, org, csv, "text/csv", mode="upsert")
        assert summary(r) == "422 invalid_file", r.text
        assert r.json()["limit"] == {"name": "rows", "value": 3}


class TestMixedEncodings:
    """Issue 14, finding 2: a UTF-8 roster with one row pasted from a TCVN3 file was
    converted whole (every UTF-8 name became mojibake); now it is refused, naming the
    row, and nothing is stored."""

    async def test_one_tcvn3_row_in_a_utf8_file_is_422_naming_it(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        from api.core.legacy_encodings import encode_tcvn3

        names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hữu Đức", "Phạm Minh Tuấn", "Hồ Yến"]
        lines = [b"external_id,full_name,unit_code,membership"] + [
            b"DV-M%d,%s,A.1,official" % (i, encode_tcvn3(n) if i == 2 else n.encode())
            for i, n in enumerate(names)
        ]
        before = await fingerprint()
        r = await _sync(client, org, b"\n".join(lines), "text/csv", mode="upsert", dry_run="false")
        assert summary(r) == "422 unsupported_encoding", r.text
        assert (r.json()["encoding"], r.json()["rows"]) == ("mixed", [4])
        assert diff(before, await fingerprint()) == {}

    async def test_a_whole_tcvn3_file_is_still_converted(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        from api.core.legacy_encodings import encode_tcvn3

        body = b"external_id,full_name,unit_code,membership\nDV-T1,%s,A.1,official\n" % (
            encode_tcvn3("Nguyễn Văn An")
        )
        r = await _sync(client, org, body, "text/csv", mode="upsert")
        assert r.status_code == 201, r.text
        assert r.json()["encoding"] == "TCVN3 (converted to Unicode)"
