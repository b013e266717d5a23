"""Roster workbooks as offices keep them (issue 22): XLSX, XLS and ODS with a hidden
first sheet, merged titles, STT, dates, numeric phones and formulas, each previewed and
applied with the right Vietnamese names; the format is sniffed from the content; every
malformed or oversized workbook is a 422 naming the problem, and nothing is stored."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.config import get_settings
from api.models import RosterSync
from tests.routers.test_roster_support import Roster, make_roster, member_by_external_id, post_sync
from tests.services.test_xlsx import replace_part
from tests.support.problems import assert_problem
from tests.support.reads import count_rows
from tests.workbooks import (
    EXPECTED,
    REJECTED,
    SHEET,
    ods_zip,
    real_world_ods,
    real_world_xls,
    real_world_xlsx,
    simple_ods,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS = "application/vnd.ms-excel"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
BUILDERS = {
    "xlsx": (real_world_xlsx, XLSX),
    "xls": (real_world_xls, XLS),
    "ods": (real_world_ods, ODS),
}


@pytest.fixture
async def roster(session: AsyncSession) -> Roster:
    return await make_roster(session)


@pytest.mark.parametrize("fmt", list(BUILDERS))
async def test_a_real_world_workbook_is_read_like_xlsx(
    client: httpx.AsyncClient, roster: Roster, fmt: str
) -> None:
    build, media_type = BUILDERS[fmt]
    body = build()
    r = await post_sync(
        client, roster.headers("partner_a"), body, content_type=media_type, mode="upsert"
    )
    assert r.status_code == 201, r.text
    sync = r.json()
    assert (sync["source"], sync["sheet"], sync["encoding"]) == (fmt, SHEET, None)
    assert sync["counts"]["created"] == 3, sync
    assert sync["counts"]["rejected"] == 1
    # Sheet rows as the spreadsheet shows them: two title rows, a blank, the header (4).
    assert [(e["row"], e["external_id"], e["code"]) for e in sync["errors"]] == REJECTED
    assert sorted(sync["ignored_columns"]) == ["Ngày sinh", "STT"]
    r = await post_sync(
        client,
        roster.headers("partner_a"),
        body,
        content_type=media_type,
        mode="upsert",
        dry_run=False,
        skip_rejected=True,
    )
    assert r.status_code == 201, r.text
    for external_id, (name, phone, membership) in EXPECTED.items():
        member = await member_by_external_id(external_id)
        assert member is not None, external_id
        assert (member.full_name, member.phone, member.membership) == (name, phone, membership)
    assert await member_by_external_id("H-999") is None, "the hidden first sheet was read"


@pytest.mark.parametrize("declared", [XLSX, XLS, ODS])
@pytest.mark.parametrize("fmt", list(BUILDERS))
async def test_the_format_is_sniffed_from_the_content(
    client: httpx.AsyncClient, roster: Roster, fmt: str, declared: str
) -> None:
    r = await post_sync(
        client,
        roster.headers("partner_a"),
        BUILDERS[fmt][0](),
        content_type=declared,
        mode="upsert",
    )
    assert r.status_code == 201, r.text
    assert r.json()["source"] == fmt


async def test_rows_above_the_used_range_still_count(
    client: httpx.AsyncClient, roster: Roster
) -> None:
    book = Workbook()
    book.active["B3"] = "Mã"
    book.active["C3"] = "Họ tên"
    book.active["D3"] = "Chi bộ"
    book.active.append([None, "N-1", "A B", "ZZ"])
    out = io.BytesIO()
    book.save(out)
    r = await post_sync(
        client, roster.headers("partner_a"), out.getvalue(), content_type=XLSX, mode="upsert"
    )
    assert r.status_code == 201, r.text
    assert [(e["row"], e["code"]) for e in r.json()["errors"]] == [(4, "unknown_unit")]


async def test_a_plain_ods_reads_its_first_sheet(client: httpx.AsyncClient, roster: Roster) -> None:
    body = simple_ods(
        [["Mã", "Họ và tên", "Chi bộ", "Loại"], ["N-701", "Trần Thị Bình", "A.1", "dự bị"]]
    )
    r = await post_sync(client, roster.headers("partner_a"), body, content_type=ODS, mode="upsert")
    assert r.status_code == 201, r.text
    assert r.json()["errors"] == []
    r = await post_sync(
        client, roster.headers("partner_a"), body, content_type=ODS, mode="upsert", dry_run=False
    )
    assert r.status_code == 201, r.text
    assert r.json()["sheet"] == "Sheet1"
    member = await member_by_external_id("N-701")
    assert member is not None
    assert member.full_name == "Trần Thị Bình"


class TestBadWorkbooks:
    async def _refused(
        self, client: httpx.AsyncClient, roster: Roster, body: bytes, media_type: str
    ) -> dict[str, object]:
        r = await post_sync(
            client, roster.headers("partner_a"), body, content_type=media_type, mode="upsert"
        )
        problem = assert_problem(r, 422, "invalid_file")
        assert await count_rows(RosterSync) == 0
        return problem

    @pytest.mark.parametrize("media_type", [XLS, ODS, XLSX])
    async def test_not_a_workbook(
        self, client: httpx.AsyncClient, roster: Roster, media_type: str
    ) -> None:
        for body in (
            b"plain text, not a workbook",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,  # OLE2, empty
            ods_zip("<not-content/>"),
        ):
            await self._refused(client, roster, body, media_type)

    async def test_a_workbook_with_no_visible_sheet(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        book = Workbook()
        book.active.append(["Mã", "Họ tên", "Chi bộ"])
        out = io.BytesIO()
        book.save(out)
        workbook_xml = zipfile.ZipFile(out).read("xl/workbook.xml")
        assert b'state="visible"' in workbook_xml
        hidden = workbook_xml.replace(b'state="visible"', b'state="hidden"')
        body = replace_part(out.getvalue(), "xl/workbook.xml", hidden)
        problem = await self._refused(client, roster, body, XLSX)
        assert problem["errors"] == [
            {
                "loc": ["body"],
                "type": "invalid_file",
                "msg": "The workbook has no visible worksheet.",
            }
        ]

    async def test_an_xls_over_its_size_cap(
        self, client: httpx.AsyncClient, roster: Roster, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "roster_xls_max_bytes", 4096)
        problem = await self._refused(client, roster, real_world_xls(), XLS)
        assert problem["limit"] == {"name": "xls_bytes", "value": 4096}

    async def test_an_ods_content_over_the_unzipped_cap(
        self, client: httpx.AsyncClient, roster: Roster, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "roster_xlsx_max_unzipped", 1 << 20)
        rows = "<table:table-row><table:table-cell/></table:table-row>" * 40_000
        body = ods_zip(f"<office:document-content>{rows}</office:document-content>")
        assert len(body) < 100_000
        problem = await self._refused(client, roster, body, ODS)
        assert problem["limit"] == {"name": "unzipped_bytes", "value": 1 << 20}

    async def test_an_ods_whose_repeats_span_a_huge_range(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        """Two values 1,000 columns and 20,000 rows apart, in 700 bytes: a dense grid of
        20M cells (640 MB). The reading child dies at its budget; the worker answers.
        (calamine refuses wider repeats itself: "cannot detect file format", also 422.)"""
        body = simple_ods(
            [["Mã", "Họ tên", "Chi bộ"]],
            '<table:table-row table:number-rows-repeated="20000"><table:table-cell/>'
            "</table:table-row><table:table-row><table:table-cell "
            'table:number-columns-repeated="1000"/><table:table-cell office:value-type="string">'
            "<text:p>x</text:p></table:table-cell></table:table-row>",
        )
        assert len(body) < 2_000
        problem = await self._refused(client, roster, body, ODS)
        assert problem["limit"] == {"name": "memory_bytes", "value": 200 << 20}
