"""CSV and XLSX exports (issue 15): the `/export` operations of every statistics
endpoint and of a roster sync's changes, and `?format=xlsx` on the JSON paths. An XLSX
holds the same table as the JSON (typed cells), a bold header row and frozen panes;
text never becomes a formula."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession

from api.services import exports
from tests.routers.test_roster_support import (
    SYNCS,
    Roster,
    all_changes,
    make_roster,
    post_sync,
    snapshot,
)
from tests.support.problems import assert_problem
from tests.support.stats import COMPLIANCE, PLATFORMS, SERIES, STATS, Api, recount
from tests.support.world import Org, build_org

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    org = await build_org(session)
    await recount()
    return org


def _sheet(r: httpx.Response) -> list[dict[str, Any]]:
    """The rows of an XLSX answer (header row as keys), after checking its envelope."""
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.headers["content-disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(r.content))
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    assert all(c.font.b for c in rows[0])
    assert all(isinstance(h, str) and h for h in header)
    return [dict(zip(header, [c.value for c in row], strict=True)) for row in rows[1:]]


def _csv_rows(r: httpx.Response) -> list[list[str]]:
    import csv

    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


class TestStatisticsExports:
    async def test_compliance_xlsx_is_the_json_with_typed_cells(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        h = org.headers("admin")
        params = {"unit_id": str(org.root.id)}
        js = (await client.get(COMPLIANCE, params=params, headers=h)).json()["rows"]
        for r in (
            await client.get(
                f"{COMPLIANCE}/export", params={**params, "format": "xlsx"}, headers=h
            ),
            await client.get(COMPLIANCE, params={**params, "format": "xlsx"}, headers=h),
        ):
            rows = _sheet(r)
            assert [x["unit_name"] for x in rows] == [j["unit_name"] for j in js]
            for x, j in zip(rows, js, strict=True):
                for key, val in j.items():
                    if key == "accounts_by_platform":
                        assert {p: x[f"accounts_{p}"] for p in PLATFORMS} == val
                    elif key in ("unit_id",):
                        assert x[key] == (str(val) if val else None)
                    else:
                        assert x[key] == val, key  # ints, floats, bools, None as such
                assert isinstance(x["members_active"], int)

    async def test_export_csv_equals_format_csv(self, client: httpx.AsyncClient, org: Org) -> None:
        h = org.headers("admin")
        params = {"unit_id": str(org.root.id)}
        old = await client.get(COMPLIANCE, params={**params, "format": "csv"}, headers=h)
        new = await client.get(
            f"{COMPLIANCE}/export", params={**params, "format": "csv"}, headers=h
        )
        assert _csv_rows(new) == _csv_rows(old)
        assert new.content.startswith(b"\xef\xbb\xbf")
        assert new.headers["content-disposition"].endswith('.csv"')

    async def test_series_and_document_exports(self, client: httpx.AsyncClient, org: Org) -> None:
        h = org.headers("admin")
        params = {"unit_id": str(org.root.id), "interval": "month", "by": "status"}
        js = (await client.get(SERIES, params=params, headers=h)).json()["points"]
        rows = _sheet(
            await client.get(f"{SERIES}/export", params={**params, "format": "xlsx"}, headers=h)
        )
        assert [(x["period_start"], x["key"], x["count"]) for x in rows] == [
            (datetime.fromisoformat(p["period_start"]).replace(tzinfo=None), p["key"], p["count"])
            for p in js
        ]
        doc = await Api(client, h).document(org.a.id)
        url = f"{STATS}/documents/{doc['id']}"
        js = (await client.get(url, headers=h)).json()["rows"]
        for fmt_rows in (
            _sheet(await client.get(f"{url}/export", params={"format": "xlsx"}, headers=h)),
            _sheet(await client.get(url, params={"format": "xlsx"}, headers=h)),
        ):
            assert [
                (x["unit_code"], x["addressed"], x["acknowledged"], x["ack_rate"]) for x in fmt_rows
            ] == [(j["unit_code"], j["addressed"], j["acknowledged"], j["ack_rate"]) for j in js]
        csv_rows = _csv_rows(await client.get(f"{url}/export", params={"format": "csv"}, headers=h))
        assert len(csv_rows) == len(js) + 1

    @pytest.mark.parametrize("params", [{}, {"format": "json"}, {"format": "pdf"}])
    async def test_export_format_is_required_and_closed(
        self, client: httpx.AsyncClient, org: Org, params: dict[str, str]
    ) -> None:
        r = await client.get(f"{COMPLIANCE}/export", params=params, headers=org.headers("admin"))
        body = assert_problem(r, 422, "validation_failed")
        assert body["errors"][0]["loc"] == ["query", "format"]

    async def test_export_errors_are_problems(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(
            f"{COMPLIANCE}/export",
            params={"unit_id": str(org.b.id), "format": "xlsx"},
            headers=org.headers("manager_a"),
        )
        assert_problem(r, 404, "not_found")
        r = await client.get(
            f"{COMPLIANCE}/export", params={"format": "xlsx"}, headers=org.headers("member")
        )
        assert_problem(r, 403, "forbidden")
        r = await client.get(f"{SERIES}/export", params={"format": "csv"})
        assert_problem(r, 401, "unauthorized")


class TestXlsxCells:
    def test_text_never_becomes_a_formula(self) -> None:
        data = exports.to_xlsx(
            "t",
            ["name", "n", "rate", "flag", "none"],
            [
                {"name": '=HYPERLINK("http://x")', "n": 3, "rate": 0.5, "flag": True, "none": None},
                {"name": "+1", "n": 0, "rate": None, "flag": False},
            ],
        )
        sheet = load_workbook(io.BytesIO(data)).worksheets[0]
        first, second = list(sheet.iter_rows(min_row=2))
        assert first[0].value == '=HYPERLINK("http://x")'
        assert first[0].data_type == "s"
        assert (first[1].value, first[2].value, first[3].value, first[4].value) == (
            3,
            0.5,
            True,
            None,
        )
        assert first[1].data_type == "n"
        assert second[0].value == "+1"
        assert second[0].data_type == "s"


class TestRosterChangesExport:
    @pytest.fixture
    async def roster(self, session: AsyncSession) -> Roster:
        return await make_roster(session)

    async def test_changes_export_holds_every_row(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        h = roster.headers("partner_a")
        r = await post_sync(client, h, snapshot())
        assert r.status_code == 201, r.text
        sync_id = r.json()["id"]
        changes = await all_changes(client, roster, sync_id)
        for resp in (
            await client.get(
                f"{SYNCS}/{sync_id}/changes/export", params={"format": "xlsx"}, headers=h
            ),
            await client.get(f"{SYNCS}/{sync_id}/changes", params={"format": "xlsx"}, headers=h),
        ):
            rows = _sheet(resp)
            assert [(x["row"], x["action"], x["external_id"]) for x in rows] == [
                (c["row"], c["action"], c["external_id"]) for c in changes
            ]
            for x, c in zip(rows, changes, strict=True):
                assert x["error_code"] == (c["error"]["code"] if c["error"] else None)
                for field in c["changes"]:
                    assert field in (x["changes"] or "")
        csv_rows = _csv_rows(
            await client.get(
                f"{SYNCS}/{sync_id}/changes/export", params={"format": "csv"}, headers=h
            )
        )
        assert csv_rows[0][:3] == ["row", "action", "external_id"]
        assert len(csv_rows) == len(changes) + 1
        rejected = _sheet(
            await client.get(
                f"{SYNCS}/{sync_id}/changes/export",
                params={"format": "xlsx", "action": "rejected"},
                headers=h,
            )
        )
        assert rejected
        assert {x["action"] for x in rejected} == {"rejected"}

    async def test_changes_export_is_scoped_and_validated(
        self, client: httpx.AsyncClient, roster: Roster
    ) -> None:
        r = await post_sync(client, roster.headers("partner_a"), snapshot())
        sync_id = r.json()["id"]
        url = f"{SYNCS}/{sync_id}/changes/export"
        assert_problem(
            await client.get(url, params={"format": "xlsx"}, headers=roster.headers("manager_b")),
            404,
            "not_found",
        )
        assert_problem(
            await client.get(url, headers=roster.headers("partner_a")), 422, "validation_failed"
        )
        assert_problem(
            await client.get(url, params={"format": "ods"}, headers=roster.headers("partner_a")),
            422,
            "validation_failed",
        )


class TestFormatOnTheJsonPaths:
    """`?format=` and `Accept: text/csv` on the JSON paths, kept for existing callers."""

    async def test_changes_path_answers_csv_and_refuses_other_formats(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        roster = await make_roster(session)
        h = roster.headers("partner_a")
        sync_id = (await post_sync(client, h, snapshot())).json()["id"]
        url = f"{SYNCS}/{sync_id}/changes"
        by_accept = await client.get(url, headers={**h, "Accept": "text/csv"})
        by_format = await client.get(url, params={"format": "csv"}, headers=h)
        assert _csv_rows(by_accept) == _csv_rows(by_format)
        assert (
            (await client.get(url, headers=h))
            .headers["content-type"]
            .startswith("application/json")
        )
        body = assert_problem(
            await client.get(url, params={"format": "pdf"}, headers=h), 422, "validation_failed"
        )
        assert body["errors"][0]["loc"] == ["query", "format"]

    async def test_stats_path_refuses_unknown_formats(
        self, client: httpx.AsyncClient, org: Org
    ) -> None:
        r = await client.get(SERIES, params={"format": "ods"}, headers=org.headers("admin"))
        body = assert_problem(r, 422, "validation_failed")
        assert body["errors"][0]["loc"] == ["query", "format"]
