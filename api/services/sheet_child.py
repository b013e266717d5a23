"""Read one spreadsheet (XLSX, XLS or ODS) with calamine in a child process, bounded.

calamine (Rust) is an order of magnitude faster than openpyxl, but it builds the whole
sheet in memory as a dense grid of 32-byte cells spanning the used range: a 5 KB XLSX
with one cell at A1 and one at XFD1048576 asks for 550 GB, and a failed allocation in
Rust aborts the whole process. So it never runs inside a server worker: this module is
run as `python -m api.services.sheet_child BUDGET MAX_ROWS`, which

- caps its own address space at what it holds after start-up plus BUDGET bytes
  (`RLIMIT_AS`) and its CPU time (`RLIMIT_CPU`), before reading anything;
- reads the workbook from standard input;
- writes frames to standard output, each a 4-byte little-endian length and a `marshal`
  payload: first `{"sheet": name}` or `{"error": code}`,
  then lists of rows (cells cut at `MAX_COLUMNS`; dates as ISO text), then an empty
  frame at the end.

The first visible worksheet is read (a hidden first sheet is skipped). A run that dies
(the memory cap, a crash) ends without the empty frame; the parent refuses the file.
"""

from __future__ import annotations

import datetime
import io
import marshal
import resource
import struct
import sys
from typing import BinaryIO

MAX_COLUMNS = 256
MAX_TEXT = 32_767
BATCH = 2_000
CPU_SECONDS = 120


def _vm_size() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


# A cell as python-calamine reads it.
Cell = (
    int
    | float
    | str
    | bool
    | datetime.time
    | datetime.date
    | datetime.datetime
    | datetime.timedelta
)


def _frame(out: BinaryIO, payload: dict[str, str] | list[list[Cell]]) -> None:
    data = marshal.dumps(payload)
    out.write(struct.pack("<I", len(data)) + data)


def _cell(value: Cell) -> Cell:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    return value


def main() -> int:
    budget, max_rows = int(sys.argv[1]), int(sys.argv[2])
    import python_calamine as calamine  # imported before the cap: its code is not data

    limit = _vm_size() + budget
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    out = sys.stdout.buffer
    data = sys.stdin.buffer.read()
    try:
        book = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        del data
        visible = [
            m.name
            for m in book.sheets_metadata
            if m.visible == calamine.SheetVisibleEnum.Visible
            and m.typ == calamine.SheetTypeEnum.WorkSheet
        ]
        if not visible:
            _frame(out, {"error": "no_sheet"})
            return 0
        sheet = book.get_sheet_by_name(visible[0])
        # iter_rows starts at the sheet's first row (empty rows above the used range
        # included), so rows are numbered from 1 as the spreadsheet shows them.
        _frame(out, {"sheet": visible[0]})
        batch: list[list[Cell]] = []
        for count, row in enumerate(sheet.iter_rows(), start=1):
            if count > max_rows:
                _frame(out, {"error": "rows"})
                return 0
            cells = row[:MAX_COLUMNS] if len(row) > MAX_COLUMNS else row
            for index, value in enumerate(cells):
                kind = value.__class__
                if kind is str:
                    if len(str(value)) > MAX_TEXT:
                        _frame(out, {"error": "cell_characters"})
                        return 0
                elif kind is not float and kind is not int and kind is not bool:
                    cells[index] = _cell(value)
            batch.append(cells)
            if len(batch) >= BATCH:
                _frame(out, batch)
                batch = []
        if batch:
            _frame(out, batch)
    except calamine.CalamineError:
        _frame(out, {"error": "not_a_workbook"})
        return 0
    except MemoryError:
        return 3
    except Exception:  # a malformed file calamine reports otherwise (ValueError, …)
        _frame(out, {"error": "not_a_workbook"})
        return 0
    out.write(struct.pack("<I", 0))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
