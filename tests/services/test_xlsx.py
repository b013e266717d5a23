"""Untrusted XLSX bodies within bounds (issue 14, finding 1): decompression bombs, huge
cells, entity declarations, row floods, parts corrupt mid-stream. Each is a 422
`invalid_file` naming the limit, never a 500 or an exhausted worker. The memory figures
are in bench/xlsx_bomb.py."""

from __future__ import annotations

import io
import struct
import zipfile
from typing import Any

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell.rich_text import CellRichText, TextBlock  # type: ignore[import-untyped]
from openpyxl.cell.text import InlineFont  # type: ignore[import-untyped]

from api.core.errors import AppError
from api.services import xlsx
from api.services.roster.parse import RosterReader
from api.services.roster.rows import STAGE_COLUMNS
from api.services.xlsx import XLSX, Limits

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
HEADER = ["external_id", "full_name", "unit_code", "membership"]


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replace_part(body: bytes, name: str, content: bytes, declared: int | None = None) -> bytes:
    """The workbook with one part replaced or added (its declared size forged when
    asked)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info.filename, src.read(info), compress_type=zipfile.ZIP_DEFLATED)
        dst.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    data = out.getvalue()
    if declared is None:
        return data
    # Forge the uncompressed size of `name` in its central directory entry.
    start = 0
    while (at := data.find(b"PK\x01\x02", start)) >= 0:
        name_len = struct.unpack("<H", data[at + 28 : at + 30])[0]
        if data[at + 46 : at + 46 + name_len].decode() == name:
            return data[: at + 24] + struct.pack("<I", declared) + data[at + 28 :]
        start = at + 4
    raise AssertionError(name)


def read(body: bytes, **limits: int) -> list[dict[str, Any]]:
    reader = RosterReader(io.BytesIO(body), XLSX)
    if limits:
        reader.limits = Limits(**{"max_unzipped": 512 << 20, "max_rows": 10**7, **limits})
    return [dict(zip(STAGE_COLUMNS, r, strict=True)) for r in reader.members()]


def refused(body: bytes, **limits: int) -> AppError:
    with pytest.raises(AppError) as exc:
        read(body, **limits)
    assert (exc.value.status, exc.value.code) == (422, "invalid_file")
    return exc.value


def test_a_plain_workbook_reads_with_its_shared_and_rich_strings() -> None:
    rich = CellRichText([TextBlock(InlineFont(b=True), "Nguyễn "), "Văn An"])
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["X1", rich, "A.1", "official"])
    sheet.append(["X2", "Lê Thị Hoa", "A.1", "dự bị"])
    out = io.BytesIO()
    book.save(out)
    rows = read(out.getvalue())
    assert [(r["external_id"], r["full_name"], r["membership"]) for r in rows] == [
        ("X1", "Nguyễn Văn An", "official"),
        ("X2", "Lê Thị Hoa", "probationary"),
    ]


def test_sheets_larger_than_the_cap_are_refused_before_inflating() -> None:
    body = workbook([HEADER, ["X1", "A B", "A.1", "official"]])
    row = b'<row><c t="inlineStr"><is><t>' + b"a" * 30_000 + b"</t></is></c></row>"
    sheet = f"<worksheet {NS}><sheetData>".encode() + row * 100 + b"</sheetData></worksheet>"
    exc = refused(replace_part(body, "xl/worksheets/sheet1.xml", sheet), max_unzipped=1 << 20)
    assert exc.extra["limit"] == {"name": "unzipped_bytes", "value": 1 << 20}


def test_a_forged_small_size_is_caught_when_the_part_inflates() -> None:
    """zipfile stops at the declared size; the CRC then fails: 422, not a 500."""
    body = workbook([HEADER, ["X1", "A B", "A.1", "official"]])
    sheet = (
        f"<worksheet {NS}><sheetData>".encode() + b"<row/>" * 200_000 + b"</sheetData></worksheet>"
    )
    refused(replace_part(body, "xl/worksheets/sheet1.xml", sheet, declared=1000))


def test_a_cell_longer_than_excel_allows_is_refused() -> None:
    body = workbook([HEADER, ["X1", "A B", "A.1", "official"]])
    sheet = (
        f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'.encode()
        + b"a" * 40_000
        + b"</t></is></c></row></sheetData></worksheet>"
    )
    exc = refused(replace_part(body, "xl/worksheets/sheet1.xml", sheet))
    assert exc.extra["limit"]["name"] == "cell_characters"


def test_entity_declarations_are_refused() -> None:
    body = workbook([HEADER, ["X1", "A B", "A.1", "official"]])
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        + f"<sst {NS}><si><t>&b;</t></si></sst>".encode()
    )
    refused(replace_part(body, "xl/sharedStrings.xml", laughs))


def test_rows_are_counted_as_they_stream() -> None:
    body = workbook([HEADER] + [[f"X{i}", "A B", "A.1", "official"] for i in range(10)])
    assert len(read(body, max_rows=11)) == 10
    exc = refused(body, max_rows=5)
    assert exc.extra["limit"] == {"name": "rows", "value": 5}


def test_a_shared_string_index_out_of_range_is_refused() -> None:
    body = workbook([HEADER, ["X1", "A B", "A.1", "official"]])
    sheet = (
        f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="s"><v>99999</v></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    refused(replace_part(body, "xl/worksheets/sheet1.xml", sheet))


def test_too_many_parts_are_refused_from_the_end_record() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for i in range(xlsx.MAX_PARTS + 1):
            z.writestr(f"p{i}", b"")
    exc = refused(out.getvalue())
    assert exc.extra["limit"]["name"] == "parts"


@pytest.mark.parametrize("far", ["IV100000", "XFD1048576"])
def test_a_used_range_too_wide_for_the_memory_budget_is_refused(far: str) -> None:
    """Two cells, 5 KB: calamine would build a dense grid of 25.6M (800 MB) or 17G cells
    (550 GB, and a failed allocation aborts the process). The child process reading it
    dies at its memory budget; the file is refused naming the budget, the worker lives."""
    book = Workbook()
    book.active["A1"] = "external_id"
    book.active[far] = "x"
    out = io.BytesIO()
    book.save(out)
    assert len(out.getvalue()) < 10_000
    exc = refused(out.getvalue())
    assert exc.extra["limit"] == {"name": "memory_bytes", "value": 200 << 20}
