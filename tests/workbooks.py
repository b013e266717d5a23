"""Workbooks shaped as Vietnamese roster offices keep them (issue 22), built by the tests:
a hidden first sheet, merged title rows above the header, an `STT` column, a date of
birth, phone numbers stored as numbers, and formulas with cached values.

- XLSX: written by openpyxl, then the formula cells get the cached values that Excel
  would have stored (openpyxl writes formulas without them).
- ODS: an ODF zip written by hand (`mimetype` first and stored, a manifest, content.xml
  with the sheets; a hidden table through its table style's `table:display="false"`).
- XLS: `tests/fixtures/roster.xls`, written once by `tests/fixtures/make_roster_xls.py`
  with xlwt (unmaintained since 2017, so it is not a dependency; see that script).

Every format holds the same rows (`ROWS`), so one set of expectations (`EXPECTED`)
covers them all.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

HIDDEN_SHEET = "Hướng dẫn"
SHEET = "Danh sách"
WIDTH = 7
TITLE = "DANH SÁCH ĐẢNG VIÊN CHI BỘ"
SUBTITLE = "(Kèm theo Công văn số 12-CV/ĐU ngày 01/12/2026)"
HEADER = [
    "STT",
    "Mã đảng viên",
    "Họ và tên",
    "Ngày sinh",
    "Chi bộ",
    "Số điện thoại",
    "Loại đảng viên",
]
# (STT, id, name, born, unit, phone, membership); a tuple ("=formula", cached) is a formula.
ROWS: list[list[Any]] = [
    [
        1,
        "N-601",
        "Nguyễn Thị Ánh Tuyết",
        datetime.date(1980, 5, 17),
        "A.1",
        912345678,
        "chính thức",
    ],
    [2, "N-602", "Đỗ Quốc Việt", datetime.date(1975, 11, 2), "A.1", 987654321, "dự bị"],
    [
        ("=A6+1", 3),
        "N-603",
        "Lương Thế Vinh",
        datetime.date(1990, 1, 31),
        "A.2",
        ("=F6+1", 987654322),
        "chính thức",
    ],
    [("=A7+1", 4), "N-604", "Bùi Văn Hùng", datetime.date(1988, 8, 8), "ZZ", None, "chính thức"],
]
HEADER_ROW = 4  # two title rows and a blank one above it
# The hidden first sheet would add this member if it were read.
HIDDEN_ROWS: list[list[Any]] = [
    ["Mã đảng viên", "Họ và tên", "Chi bộ"],
    ["H-999", "Ẩn Danh", "A.1"],
]
# external_id -> (full_name, phone, membership) once applied; N-604 is rejected (row 8).
EXPECTED = {
    "N-601": ("Nguyễn Thị Ánh Tuyết", "+84912345678", "official"),
    "N-602": ("Đỗ Quốc Việt", "+84987654321", "probationary"),
    "N-603": ("Lương Thế Vinh", "+84987654322", "official"),
}
REJECTED = [(8, "N-604", "unknown_unit")]
XLS_FIXTURE = Path(__file__).parent / "fixtures" / "roster.xls"


def _value(cell: Any) -> Any:
    return cell[1] if isinstance(cell, tuple) else cell


def real_world_xlsx() -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]

    book = Workbook()
    hidden = book.active
    hidden.title = HIDDEN_SHEET
    hidden.sheet_state = "hidden"
    for row in HIDDEN_ROWS:
        hidden.append(row)
    sheet = book.create_sheet(SHEET)
    sheet.append([TITLE])
    sheet.append([SUBTITLE])
    sheet.append([])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=WIDTH)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=WIDTH)
    sheet.append(HEADER)
    cached: dict[str, Any] = {}
    for row in ROWS:
        sheet.append([c[0] if isinstance(c, tuple) else c for c in row])
        for c in row:
            if isinstance(c, tuple):
                cached[c[0][1:]] = c[1]
    for row_cells in sheet.iter_rows(min_row=HEADER_ROW + 1):
        for cell in row_cells:
            if isinstance(cell.value, datetime.date):
                cell.number_format = "DD/MM/YYYY"
    out = io.BytesIO()
    book.save(out)
    # Excel stores each formula's last result beside it; openpyxl writes an empty one.
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    patched = io.BytesIO()
    with source, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                for formula, value in cached.items():
                    old = f"<f>{formula}</f><v />".encode()
                    assert old in data, formula
                    data = data.replace(old, f"<f>{formula}</f><v>{value}</v>".encode())
            target.writestr(info, data)
    return patched.getvalue()


# --- ODS ------------------------------------------------------------------------------

_OFFICE = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.2"'
)
ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"


def _ods_cell(cell: Any) -> str:
    formula = ""
    if isinstance(cell, tuple):
        ref = re.sub(r"([A-Z]+[0-9]+)", r"[.\1]", cell[0][1:])
        formula = f' table:formula="of:={escape(ref)}"'
        cell = cell[1]
    if cell is None:
        return "<table:table-cell/>"
    if isinstance(cell, bool):
        raise TypeError(cell)
    if isinstance(cell, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{cell}"{formula}>'
            f"<text:p>{cell}</text:p></table:table-cell>"
        )
    if isinstance(cell, datetime.date):
        shown = cell.strftime("%d/%m/%Y")
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{cell.isoformat()}">'
            f"<text:p>{shown}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{escape(str(cell))}</text:p>'
        "</table:table-cell>"
    )


def _ods_row(cells: list[Any]) -> str:
    return "<table:table-row>" + "".join(_ods_cell(c) for c in cells) + "</table:table-row>"


def _ods_title(text: str) -> str:
    covered = "<table:covered-table-cell/>" * (WIDTH - 1)
    return (
        f'<table:table-row><table:table-cell table:number-columns-spanned="{WIDTH}" '
        f'table:number-rows-spanned="1" office:value-type="string"><text:p>{escape(text)}'
        f"</text:p></table:table-cell>{covered}</table:table-row>"
    )


def real_world_ods() -> bytes:
    hidden = "".join(_ods_row(r) for r in HIDDEN_ROWS)
    visible = (
        _ods_title(TITLE)
        + _ods_title(SUBTITLE)
        + '<table:table-row><table:table-cell table:number-columns-repeated="7"/></table:table-row>'
        + _ods_row(HEADER)
        + "".join(_ods_row(r) for r in ROWS)
        # LibreOffice ends a sheet with the rest of its million rows, empty and repeated.
        + '<table:table-row table:number-rows-repeated="1048567"><table:table-cell '
        'table:number-columns-repeated="1024"/></table:table-row>'
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_OFFICE}>'
        "<office:automatic-styles>"
        '<style:style style:name="ta1" style:family="table"><style:table-properties '
        'table:display="true"/></style:style>'
        '<style:style style:name="ta2" style:family="table"><style:table-properties '
        'table:display="false"/></style:style>'
        "</office:automatic-styles><office:body><office:spreadsheet>"
        f'<table:table table:name="{escape(HIDDEN_SHEET)}" table:style-name="ta2">{hidden}</table:table>'  # noqa: E501
        f'<table:table table:name="{escape(SHEET)}" table:style-name="ta1">{visible}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    return ods_zip(content)


def ods_zip(content: str) -> bytes:
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'  # noqa: E501
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODS_MIME}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", ODS_MIME, compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def simple_ods(rows: list[list[Any]], tail: str = "") -> bytes:
    """One visible sheet holding `rows`, then the raw XML rows of `tail`."""
    body = "".join(_ods_row(r) for r in rows) + tail
    return ods_zip(
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_OFFICE}>'
        f'<office:body><office:spreadsheet><table:table table:name="Sheet1">{body}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )


def real_world_xls() -> bytes:
    return XLS_FIXTURE.read_bytes()
