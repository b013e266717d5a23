"""Roster sync bodies: CSV (BOM, Vietnamese headers, delimiters, TCVN3), XLSX, NDJSON and
JSON, and every malformed input as a problem with a stable code."""

from __future__ import annotations

import io
import json
import unicodedata
from typing import Any

import httpx
import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.core.legacy_encodings import encode_cp1258, encode_tcvn3
from api.main import create_app
from api.models import RosterSync
from tests.routers.test_roster_support import (
    EXPECTED_COUNTS,
    Roster,
    all_changes,
    apply,
    make_roster,
    member_by_external_id,
    post_sync,
    row,
    snapshot_rows,
    to_csv,
)
from tests.support.problems import assert_problem
from tests.support.reads import count_rows

VI_HEADERS = {
    "external_id": "Mã đảng viên",
    "full_name": "Họ và tên",
    "unit_code": "Chi bộ",
    "membership": "Loại đảng viên",
    "status": "Trạng thái",
    "position": "Chức vụ",
    "is_leader": "Cấp ủy",
    "email": "Email",
    "phone": "Số điện thoại",
}
SNAPSHOT_A = {"mode": "snapshot", "scope_unit_code": "A"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def roster(session: AsyncSession) -> Roster:
    return await make_roster(session)


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ndjson(rows: list[Any]) -> bytes:
    return "".join(
        (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows
    ).encode()


class TestCsv:
    async def test_bom_semicolons_and_vietnamese_headers(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = to_csv(snapshot_rows(), VI_HEADERS, delimiter=";", bom=True)
        r = await post_sync(client, roster.headers("partner_a"), body, **SNAPSHOT_A)
        assert r.status_code == 201, r.text
        sync = r.json()
        assert sync["source"] == "csv"
        assert sync["encoding"] == "utf-8"
        assert sync["counts"] == EXPECTED_COUNTS
        # CSV rows are numbered as a spreadsheet shows them: the header is row 1.
        assert [e["row"] for e in sync["errors"]] == [17, 18, 19]

    async def test_headers_match_whatever_their_case_and_accents(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        rows = [
            row(
                "A-001",
                "Nguyễn Văn An",
                "A.1",
                membership="Đảng viên chính thức",
                phone="0912 000 111",
            )
        ]
        headers = {
            "external_id": "MÃ ĐẢNG VIÊN",
            "full_name": "ho_va_ten",
            "unit_code": " Mã chi bộ ",
            "membership": "loai dang vien",
            "phone": "SĐT",
        }
        body = b"STT,Ngay sinh," + to_csv(rows, headers).replace(b"\r\n", b"\r\n1,01/01/1980,", 1)
        r = await post_sync(client, roster.headers("partner_a"), body, mode="upsert")
        assert r.status_code == 201, r.text
        assert r.json()["ignored_columns"] == ["STT", "Ngay sinh"]
        changes = await all_changes(client, roster, r.json()["id"])
        assert changes[0]["changes"] == {"phone": [None, "+84912000111"]}

    async def test_split_name_columns_make_the_full_name(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = "Số thẻ đảng viên,Họ đệm,Tên,Mã đơn vị,Loại\nA-001,Nguyễn Văn,An,A.1,chính thức\n".encode()  # noqa: E501
        r = await post_sync(client, roster.headers("partner_a"), body, mode="upsert")
        assert r.status_code == 201, r.text
        assert r.json()["counts"]["unchanged"] == 1

    async def test_text_is_normalised_like_everywhere_else(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        nfd = "\u0110a\u0323\u0306ng Thi\u0323 Lan"  # "Đặng Thị Lan" decomposed
        lookalike = "\u00d0\u1eb7ng  Th\u1ecb Lan "  # Ð (U+00D0) for Đ, extra spaces
        rows = [
            row("N-101", nfd, "A.1", membership="official"),
            row("N-102", lookalike, "A.1", membership="official"),
        ]
        r = await post_sync(
            client, roster.headers("partner_a"), to_csv(rows), mode="upsert", dry_run=False
        )
        assert r.status_code == 201, r.text
        for ext in ("N-101", "N-102"):
            member = await member_by_external_id(ext)
            assert member is not None
            assert member.full_name == "Đặng Thị Lan"

    async def test_bad_rows_are_rejected_with_their_row_and_field(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        rows = [
            row("N-201", "Good Row", "A.1", membership="official"),
            row("N-202", "Bad Email", "A.1", membership="official", email="not-an-email"),
            row("N-203", "Bad Phone", "A.1", membership="official", phone="12ab"),
            row("N-204", "Bad Enum", "A.1", membership="honorary"),
            row("N-205", "X" * 201, "A.1", membership="official"),
            row("N-206", "Bad Leader", "A.1", membership="official", is_leader="maybe"),
            row("N 207", "Bad Id", "A.1", membership="official"),
            row("N-208", "", "A.1", membership="official"),
            row("N-209", "Bad status", "A.1", membership="official", status="retired"),
        ]
        r = await post_sync(client, roster.headers("partner_a"), to_csv(rows), mode="upsert")
        assert r.status_code == 201, r.text
        sync = r.json()
        assert sync["counts"]["created"] == 1
        fields = {e["row"]: (e["code"], e["field"]) for e in sync["errors"]}
        assert fields == {
            3: ("validation_failed", "email"),
            4: ("validation_failed", "phone"),
            5: ("validation_failed", "membership"),
            6: ("validation_failed", "full_name"),
            7: ("validation_failed", "is_leader"),
            8: ("validation_failed", "external_id"),
            9: ("validation_failed", "full_name"),
            10: ("validation_failed", "status"),
        }

    async def test_required_columns_missing_is_422(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = "STT,Họ và tên,Email\n1,Nguyễn Văn An,a@b.vn\n".encode()
        r = await post_sync(client, roster.headers("partner_a"), body, mode="upsert")
        problem = assert_problem(r, 422, "validation_failed")
        assert {tuple(e["loc"]) for e in problem["errors"]} == {
            ("body", "columns", "external_id"),
            ("body", "columns", "unit_code"),
        }

    async def test_duplicate_columns_are_422(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = "Mã,Mã đảng viên,Họ tên,Chi bộ\nA,B,C,D\n".encode()
        r = await post_sync(client, roster.headers("partner_a"), body, mode="upsert")
        assert_problem(r, 422, "validation_failed")

    async def test_header_only_is_an_empty_roster(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = "Mã đảng viên,Họ và tên,Chi bộ\n".encode()
        r = await post_sync(client, roster.headers("partner_a"), body, mode="upsert")
        assert r.status_code == 201
        assert r.json()["rows_total"] == 0

    async def test_a_broken_quote_is_422_invalid_file(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = b'external_id,full_name,unit_code\nA-001,"' + b"x" * 200_000 + b"\n"
        r = await post_sync(client, roster.headers("partner_a"), body, mode="upsert")
        assert_problem(r, 422, "invalid_file")


class TestLegacyEncodings:
    async def test_a_tcvn3_csv_is_converted(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        text = (
            "Mã đảng viên,Họ và tên,Chi bộ,Loại đảng viên,Chức vụ\r\n"
            "N-301,Bảo Thắng,A.1,chính thức,Bí thư chi bộ\r\n"
            "N-302,nguyễn thị ánh,A.1,dự bị,\r\n"
            "A-004,Hoàng Thị Dung,A.2,chính thức,\r\n"
        )
        body = encode_tcvn3(text)
        assert b"B\xb6o Th\xbeng" in body  # "B¶o Th¾ng", as domain.md shows it
        r = await post_sync(client, roster.headers("partner_a"), body, mode="upsert", dry_run=False)
        assert r.status_code == 201, r.text
        assert r.json()["encoding"] == "TCVN3 (converted to Unicode)"
        assert r.json()["counts"]["created"] == 2
        a = await member_by_external_id("N-301")
        assert a is not None
        assert (a.full_name, a.position) == ("Bảo Thắng", "Bí thư chi bộ")
        b = await member_by_external_id("N-302")
        assert b is not None
        assert b.full_name == "Nguyễn Thị Ánh", "capitals lost to TCVN3 fonts"
        assert b.membership == "probationary"

    async def test_a_windows_1258_csv_is_converted(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        """Excel's "CSV (Comma delimited)" on Vietnamese Windows: base letters, then the
        tone marks as combining characters."""
        text = (
            "Mã đảng viên,Họ và tên,Chi bộ,Loại đảng viên,Chức vụ\r\n"
            "N-311,Nguyễn Thị Ánh Tuyết,A.1,chính thức,Bí thư chi bộ\r\n"
            "N-312,Đỗ Quốc Việt,A.1,dự bị,Phó bí thư\r\n"
            "N-313,Lương Thế Vinh,A.2,chính thức,\r\n"
        )
        body = encode_cp1258(text)
        assert "Nguyễn".encode("cp1258", "replace") not in body
        assert b"Nguy\xea\xden" in body  # "ê" then the combining tilde
        r = await post_sync(client, roster.headers("partner_a"), body, mode="upsert", dry_run=True)
        assert r.status_code == 201, r.text
        sync = r.json()
        assert sync["encoding"] == "Windows-1258 (converted to Unicode)"
        assert sync["counts"]["created"] == 3, sync
        assert sync["errors"] == []
        r = await post_sync(client, roster.headers("partner_a"), body, mode="upsert", dry_run=False)
        assert r.status_code == 201, r.text
        for external_id, name, position in (
            ("N-311", "Nguyễn Thị Ánh Tuyết", "Bí thư chi bộ"),
            ("N-312", "Đỗ Quốc Việt", "Phó bí thư"),
            ("N-313", "Lương Thế Vinh", None),
        ):
            member = await member_by_external_id(external_id)
            assert member is not None
            assert (member.full_name, member.position) == (name, position)
            assert unicodedata.is_normalized("NFC", member.full_name)
        member = await member_by_external_id("N-312")
        assert member is not None
        assert member.membership == "probationary"

    async def test_windows_1258_that_does_not_read_as_vietnamese_is_refused(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        """Any single-byte text decodes as cp1258: a name that is not Vietnamese in it
        (a tone mark after a consonant, a foreign letter, a non-Vietnamese syllable)
        leaves the whole file refused."""
        good = encode_cp1258("Mã đảng viên,Họ và tên,Chi bộ\nN-1,Nguyễn Văn An,A.1\n")
        for bad in (
            b"N-2,Tr\xecn,A.1\n",  # acute after a consonant
            b"N-2,Tra\xecn\xde,A.1\n",  # two tones on one vowel
            "N-2,Gérard,A.1\n".encode("cp1258"),  # not a Vietnamese syllable
            "N-2,Müller,A.1\n".encode("cp1258"),
        ):
            r = await post_sync(client, roster.headers("partner_a"), good + bad, mode="upsert")
            problem = assert_problem(r, 422, "unsupported_encoding")
            assert problem["encoding"] == "unknown"
        assert await count_rows(RosterSync) == 0

    async def test_windows_1258_rows_in_a_utf8_file_are_refused(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = "external_id,full_name,unit_code\nN-1,Nguyễn Văn An,A.1\n".encode() + encode_cp1258(
            "N-2,Trần Thị Bình,A.1\n"
        )
        r = await post_sync(client, roster.headers("partner_a"), body, mode="upsert")
        problem = assert_problem(r, 422, "unsupported_encoding")
        assert problem["encoding"] == "mixed"
        assert problem["rows"] == [3]

    async def test_vni_is_refused(self, client: httpx.AsyncClient, roster: Roster) -> None:
        body = "Ma,Ho va ten,Chi bo\nN-1,Nguyeãn Vaên Thaønh,A.1\nN-2,Tröông Thò Hoaø,A.1\n".encode(
            "cp1252"
        )
        r = await post_sync(client, roster.headers("partner_a"), body, mode="upsert")
        problem = assert_problem(r, 422, "unsupported_encoding")
        assert problem["encoding"] == "VNI"
        assert "VNI" in problem["detail"]
        assert await count_rows(RosterSync) == 0

    async def test_tcvn3_saved_as_utf8_is_refused(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        mojibake = (
            encode_tcvn3("Bảo Thắng,Nguyễn Thị Hoa,Trần Văn Đức").decode("latin-1").split(",")
        )
        rows = [
            row(f"N-40{i}", name, "A.1", membership="official") for i, name in enumerate(mojibake)
        ]
        r = await post_sync(client, roster.headers("partner_a"), to_csv(rows), mode="upsert")
        problem = assert_problem(r, 422, "unsupported_encoding")
        assert problem["encoding"] == "TCVN3"
        r = await post_sync(
            client, roster.headers("partner_a"), {"mode": "upsert", "members": rows}
        )
        assert_problem(r, 422, "unsupported_encoding")

    async def test_tcvn3_headers_saved_as_utf8_are_refused(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        header = encode_tcvn3("Mã đảng viên,Họ và tên,Chi bộ").decode("latin-1")
        r = await post_sync(
            client, roster.headers("partner_a"), f"{header}\nA-1,X,A.1\n".encode(), mode="upsert"
        )
        assert_problem(r, 422, "unsupported_encoding")

    async def test_a_foreign_name_here_and_there_is_not_mojibake(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        rows = [
            row(f"N-50{i}", f"Nguyễn Văn Tâm {i}", "A.1", membership="official") for i in range(10)
        ]
        rows.append(row("N-510", "Müller Jürgen", "A.1", membership="official"))
        r = await post_sync(client, roster.headers("partner_a"), to_csv(rows), mode="upsert")
        assert r.status_code == 201, r.text

    async def test_other_8_bit_text_is_refused(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = "external_id,full_name,unit_code\nN-1,Müller,A.1\n".encode("latin-1")
        problem = assert_problem(
            await post_sync(client, roster.headers("partner_a"), body, mode="upsert"),
            422,
            "unsupported_encoding",
        )
        assert problem["encoding"] == "unknown"


class TestXlsx:
    async def test_first_sheet_with_a_title_row_and_numbers(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = xlsx(
            [
                ["DANH SÁCH ĐẢNG VIÊN CHI BỘ"],
                [],
                ["STT", "Mã ĐV", "Họ và tên", "Chi bộ", "Loại đảng viên", "SĐT", "Lãnh đạo"],
                [1, 123456, "Phan Văn Số", "A.1", "chính thức", 912345678, "x"],
                [2, "A-001", "Nguyễn Văn An", "A.1", "chính thức", None, None],
                [3, 42.0, "Lò Văn Hai", "A.2", "dự bị", "0987 654 321", 0],
            ]
        )
        r = await post_sync(
            client,
            roster.headers("partner_a"),
            body,
            content_type=XLSX,
            mode="upsert",
            dry_run=False,
        )
        assert r.status_code == 201, r.text
        sync = r.json()
        assert sync["source"] == "xlsx"
        assert sync["counts"]["created"] == 2
        assert sync["counts"]["updated"] == 0
        assert sync["counts"]["unchanged"] == 1
        a = await member_by_external_id("123456")
        assert a is not None
        assert a.phone == "+84912345678"
        assert a.is_leader is True
        b = await member_by_external_id("42")
        assert b is not None
        assert b.phone == "+84987654321"
        assert b.is_leader is False

    async def test_row_numbers_are_sheet_rows(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = xlsx([["Mã", "Họ tên", "Chi bộ"], ["N-1", "A B", "ZZ"]])
        r = await post_sync(
            client, roster.headers("partner_a"), body, content_type=XLSX, mode="upsert"
        )
        assert [(e["row"], e["code"]) for e in r.json()["errors"]] == [(2, "unknown_unit")]

    async def test_not_a_workbook_is_422(self, client: httpx.AsyncClient, roster: Roster) -> None:
        for body in (b"this is not a zip", b"PK\x03\x04garbage"):
            r = await post_sync(
                client, roster.headers("partner_a"), body, content_type=XLSX, mode="upsert"
            )
            assert_problem(r, 422, "invalid_file")


class TestNdjson:
    async def test_rows_with_a_malformed_line(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = ndjson(
            [
                row("N-601", "Mạc Văn Một", "A.1", membership="official"),
                '{"external_id": "N-602", "full_name": ',
                "",
                row("N-603", "Mạc Văn Ba", "A.2", membership="probationary", is_leader=True),
                ["not", "an", "object"],
                row("N-605", "Mạc Văn Năm", "A.2", membership="official", declaration="declared"),
            ]
        )
        for content_type in ("application/x-ndjson", "application/jsonl; charset=utf-8"):
            r = await post_sync(
                client, roster.headers("partner_a"), body, content_type=content_type, mode="upsert"
            )
            assert r.status_code == 201, r.text
            sync = r.json()
            assert sync["source"] == "ndjson"
            assert sync["counts"]["created"] == 2
            assert [(e["row"], e["code"]) for e in sync["errors"]] == [
                (2, "invalid_json"),
                (5, "validation_failed"),
                (6, "validation_failed"),
            ]

    async def test_snapshot_by_query(self, client: httpx.AsyncClient, roster: Roster) -> None:
        body = ndjson(snapshot_rows())
        r = await post_sync(
            client,
            roster.headers("partner_a"),
            body,
            content_type="application/x-ndjson",
            **SNAPSHOT_A,
        )
        assert r.status_code == 201, r.text
        assert r.json()["counts"] == EXPECTED_COUNTS


class TestJson:
    async def test_keys_in_any_order(self, client: httpx.AsyncClient, roster: Roster) -> None:
        body = json.dumps({"members": snapshot_rows(), "scope_unit_code": "A", "mode": "snapshot"})
        r = await post_sync(
            client, roster.headers("partner_a"), body.encode(), content_type="application/json"
        )
        assert r.status_code == 201, r.text
        assert r.json()["counts"] == EXPECTED_COUNTS

    async def test_large_body_streams(self, client: httpx.AsyncClient, roster: Roster) -> None:
        rows = [
            row(f"N-{i:05d}", f"Khúc Thừa Dụ {i}", "A.1", membership="official")
            for i in range(3000)
        ]
        r = await post_sync(
            client, roster.headers("partner_a"), {"mode": "upsert", "members": rows}
        )
        assert r.status_code == 201
        assert r.json()["counts"]["created"] == 3000
        r = await apply(client, roster, r.json()["id"])
        assert r.status_code == 200

    @pytest.mark.parametrize(
        "body",
        [
            b'{"mode": "upsert", "members": [{"external_id": "x"}',
            b'{"mode": "upsert", "members": [] } trailing',
            b'{"mode": "upsert" "members": []}',
            b"[1, 2]",
            b'{"mode": "upsert", "members": [{"a": 1} {"b": 2}]}',
            b"\xff\xfe{}",
        ],
    )
    async def test_malformed_json_is_400(
        self, client: httpx.AsyncClient, roster: Roster, body: bytes
    ) -> None:
        r = await post_sync(
            client, roster.headers("partner_a"), body, content_type="application/json"
        )
        assert_problem(r, 400, "invalid_json")
        assert await count_rows(RosterSync) == 0

    @pytest.mark.parametrize(
        "body",
        [
            {"mode": "upsert", "members": [], "extra": 1},
            {"members": []},
            {"mode": "full", "members": []},
            {"mode": "snapshot", "members": []},
            {"mode": "snapshot", "scope_unit_code": "NOPE", "members": []},
            {"mode": "snapshot", "scope_unit_code": "bad code!", "members": []},
            {"mode": "upsert", "mode ": "x", "members": []},
        ],
    )
    async def test_bad_top_level_is_422(
        self, client: httpx.AsyncClient, roster: Roster, body: dict[str, Any]
    ) -> None:
        r = await post_sync(client, roster.headers("partner_a"), body)
        assert_problem(r, 422, "validation_failed")
        assert await count_rows(RosterSync) == 0

    async def test_body_and_query_must_agree(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        body = {"mode": "upsert", "members": []}
        assert_problem(
            await post_sync(client, roster.headers("partner_a"), body, mode="snapshot"),
            422,
            "validation_failed",
        )
        r = await post_sync(
            client, roster.headers("partner_a"), {"members": snapshot_rows()}, **SNAPSHOT_A
        )
        assert r.status_code == 201
        assert r.json()["counts"] == EXPECTED_COUNTS


class TestRequestProblems:
    async def test_empty_body_is_422(self, client: httpx.AsyncClient, roster: Roster) -> None:
        for content_type in ("text/csv", "application/json", "application/x-ndjson", XLSX):
            r = await post_sync(
                client, roster.headers("partner_a"), b"", content_type=content_type, mode="upsert"
            )
            assert_problem(r, 422, "invalid_file")

    @pytest.mark.parametrize(
        "content_type", ["text/plain", "application/xml", "multipart/form-data", None]
    )
    async def test_unknown_content_type_is_415(
        self, client: httpx.AsyncClient, roster: Roster, content_type: str | None
    ) -> None:
        headers = {
            **roster.headers("partner_a"),
            **({"Content-Type": content_type} if content_type else {}),
        }
        r = await client.post(
            "/api/v1/roster/syncs", content=b"a,b\n", headers=headers, params={"mode": "upsert"}
        )
        assert_problem(r, 415, "unsupported_media_type")

    @pytest.mark.parametrize(
        "params",
        [
            {"mode": "full"},
            {"mode": "upsert", "dry_run": "perhaps"},
            {"mode": "upsert", "allow_mass_deactivation": "2"},
            {"mode": "upsert", "skip_rejected": "nope"},
            {"mode": "upsert", "scope_unit_code": "x" * 65},
        ],
    )
    async def test_bad_query_is_422(
        self, client: httpx.AsyncClient, roster: Roster, params: dict[str, str]
    ) -> None:
        r = await post_sync(client, roster.headers("partner_a"), to_csv(snapshot_rows()), **params)
        assert_problem(r, 422, "validation_failed")

    async def test_mode_is_required_for_row_formats(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        r = await post_sync(client, roster.headers("partner_a"), to_csv(snapshot_rows()))
        assert_problem(r, 422, "validation_failed")
        r = await post_sync(
            client, roster.headers("partner_a"), to_csv(snapshot_rows()), mode="snapshot"
        )
        assert_problem(r, 422, "validation_failed")

    async def test_scope_outside_the_caller_is_422(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        r = await post_sync(
            client,
            roster.headers("partner_a"),
            to_csv(snapshot_rows()),
            mode="snapshot",
            scope_unit_code="B",
        )
        problem = assert_problem(r, 422, "validation_failed")
        assert problem["errors"][0]["loc"] == ["query", "scope_unit_code"]

    async def test_body_over_the_limit_is_413(self, roster: Roster) -> None:
        small = create_app(get_settings().model_copy(update={"max_roster_body": 2_000}))
        transport = httpx.ASGITransport(app=small, client=("127.0.0.1", 50000))
        body = to_csv([row(f"N-{i}", "Nguyễn Văn An", "A.1") for i in range(200)])
        assert len(body) > 2_000
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            headers = {**roster.headers("partner_a"), "Content-Type": "text/csv"}
            r = await c.post("/api/v1/roster/syncs?mode=upsert", content=body, headers=headers)
            assert_problem(r, 413, "payload_too_large")

            async def chunks() -> Any:  # no Content-Length: the limit is counted as it streams
                for i in range(0, len(body), 500):
                    yield body[i : i + 500]

            r = await c.post("/api/v1/roster/syncs?mode=upsert", content=chunks(), headers=headers)
            assert_problem(r, 413, "payload_too_large")
        assert await count_rows(RosterSync) == 0
