"""Formula injection in CSV output (issue 14, finding 3): a unit named `Chi bộ;=1+1;`
came out unquoted, and Vietnamese Excel (list separator `;`) made `=1+1` a cell. Every
CSV output is parsed here with both `,` and `;`: no cell may start with a formula trigger,
and read with `,` every text cell is the stored text with only a `'` put before
triggers."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.csv_safety import TRIGGERS, safe_text
from tests.support.factories import make_document
from tests.support.world import Org, build_org

HOSTILE = [
    "Chi bộ;=1+1;",
    '=HYPERLINK("http://evil.example","Bấm")',
    "+84 Chi bộ",
    "-Chi bộ",
    "@SUM(1+1)",
    'Chi bộ,"=2+2',
    "Chi bộ; -3",
    "Chi bộ; @x",
    "Chi bộ \"=cmd|' /C calc'!A0\"",
]


@pytest.fixture
async def org(session: AsyncSession) -> Org:
    return await build_org(session)


def _cells(body: bytes, delimiter: str) -> list[list[str]]:
    text = body.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _assert_inert(body: bytes) -> None:
    for delimiter in (",", ";"):
        for row in _cells(body, delimiter):
            for cell in row:
                assert not cell or cell[0] not in TRIGGERS, (delimiter, cell, row)
                start = cell.lstrip(' "\t\r\n')
                assert not start or start[0] not in "=+-@", (delimiter, cell, row)


def _restore(text: str) -> str:
    """The stored text: the `'` put before triggers taken out."""
    return re.sub(r"'(?=[=+\-@\t\r\n])", "", text)


class TestStatisticsCsv:
    async def test_hostile_unit_names_come_out_inert(
        self, client: httpx.AsyncClient, org: Org, session: AsyncSession
    ) -> None:
        for i, name in enumerate(HOSTILE):
            r = await client.post(
                "/api/v1/units",
                json={
                    "code": f"A.1.{i}",
                    "name": name,
                    "level": "group",
                    "parent_id": str(org.a1.id),
                },
                headers=org.admin_h,
            )
            assert r.status_code == 201, r.text
        document = await make_document(session, org.a1)
        await session.commit()
        outputs = [
            await client.get(
                "/api/v1/stats/compliance",
                params={"unit_id": str(org.a1.id), "format": "csv"},
                headers=org.admin_h,
            ),
            await client.get(
                f"/api/v1/stats/documents/{document.id}",
                params={"format": "csv"},
                headers=org.admin_h,
            ),
            await client.get(
                "/api/v1/stats/reports",
                params={"unit_id": str(org.a1.id), "format": "csv", "by": "category"},
                headers=org.admin_h,
            ),
        ]
        for r in outputs:
            assert r.status_code == 200, r.text
            _assert_inert(r.content)
        rows = _cells(outputs[0].content, ",")
        names = [row[rows[0].index("unit_name")] for row in rows[1:]]
        assert sorted(_restore(n) for n in names[:-1]) == sorted(HOSTILE)
        # Every text cell is quoted in the file itself.
        line = outputs[0].content.decode("utf-8-sig").splitlines()[1]
        assert line.count('"') >= 4


@given(st.text(st.sampled_from(list("ab ;,\"'=+-@\t\r\nđ")), max_size=20))
@example("Chi bộ;=1+1;")
@example("\t=1")
@example("\r@x")
def test_safe_text_leaves_no_trigger_after_any_split(text: str) -> None:
    out = safe_text(text)
    assert _restore(out) == text or "'" in text  # only `'` inserted
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n").writerow([out, 1])
    _assert_inert(buffer.getvalue().encode())
