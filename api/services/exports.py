"""Tabular exports (statistics, a roster sync's changes) as CSV and XLSX.

CSV is `stats.to_csv`: UTF-8 with a BOM, formula triggers neutralised. XLSX
is what a Vietnamese office should open: Excel on vi-VN reads a comma CSV into one
column (its list separator is `;`), while an XLSX needs no guessing. Each XLSX has one
sheet with a bold header row, frozen under the header, typed cells (numbers and rates
as numbers, booleans as booleans, date-times as Excel dates in UTC) and text always
stored as text, so a cell starting with `=` is never a formula.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Literal

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from api.services.stats import to_csv

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ExportFormat = Literal["csv", "xlsx"]
MEDIA_TYPES: dict[str, str] = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}


def _xlsx_cell(sheet: object, value: object) -> object:
    """A write-only cell of `sheet` (openpyxl, untyped) holding the value as Excel should."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, uuid.UUID):
        value = str(value)
    if isinstance(value, datetime):
        # Excel has no time zones: the instant in UTC, shown as such.
        naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        cell = WriteOnlyCell(sheet, value=naive)
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, bool | int | float) or value is None:
        return WriteOnlyCell(sheet, value=value)
    cell = WriteOnlyCell(sheet, value=str(value))
    cell.data_type = "s"  # text stays text: never a formula, whatever it starts with
    return cell


def to_xlsx(
    sheet_title: str, columns: Sequence[str], rows: Iterable[Mapping[str, object]]
) -> bytes:
    """One sheet: a bold header row, panes frozen under it, typed cells."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.data_type = "s"
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, row.get(c)) for c in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render(
    fmt: ExportFormat,
    sheet_title: str,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, object]],
) -> bytes:
    return to_csv(list(columns), rows) if fmt == "csv" else to_xlsx(sheet_title, columns, rows)
