"""Reading an untrusted XLSX workbook within bounds (issue 14, finding 1).

An XLSX file is a zip archive: 100 KB can inflate to gigabytes, and openpyxl keeps the
whole shared-strings part in memory as Python strings (about three times its XML size).
So before openpyxl sees the archive:

- the central directory is checked from the end record (at most `MAX_PARTS` parts, no
  zip64 directory), before `zipfile` builds an object per entry;
- each part's uncompressed size is read from the directory and capped (worksheets and
  shared strings together at `max_unzipped` bytes, every other part, which openpyxl reads
  whole, at `MAX_OTHER_PART`). `zipfile` never inflates a part beyond its declared size
  (it stops there and the CRC check fails), so the declared sizes are real bounds;

and while it reads:

- shared strings go to a temporary file with an offset table (8 bytes per string in
  memory), not to a list of strings;
- the sheets and shared strings are first scanned with expat, streaming: a document
  type declaration (entity expansion) or a text run longer than an Excel cell
  (`MAX_TEXT` characters), which openpyxl would build whole in memory, is refused;
- rows are counted as they stream (`max_rows`), and a row is never padded beyond
  `MAX_COLUMNS` columns.

A workbook over a limit is refused with 422 `invalid_file` naming the limit (`limit`:
name and value), never with a 500 or an exhausted worker.
"""

from __future__ import annotations

import mmap
import struct
import tempfile
import zipfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from api.core.errors import Unprocessable

MAX_PARTS = 10_000
MAX_OTHER_PART = 8 << 20  # styles, workbook, relationships, theme: read whole by openpyxl
MAX_COLUMNS = 256
MAX_TEXT = 32_767  # Excel's own limit of characters in a cell
_SCAN_CHUNK = 1 << 16
_EOCD = b"PK\x05\x06"
_SHEET_PREFIX = "xl/worksheets/"
_STRINGS = "xl/sharedstrings.xml"


@dataclass(frozen=True, slots=True)
class Limits:
    max_unzipped: int
    max_rows: int


def too_large(name: str, value: int, vi: str, en: str) -> Unprocessable:
    return Unprocessable(
        "invalid_file", vi, en,
        extra={"limit": {"name": name, "value": value},
               "errors": [{"loc": ["body"], "msg": en, "type": "invalid_file"}]},
    )  # fmt: skip


def not_a_workbook() -> Unprocessable:
    en = "The body is not a valid XLSX workbook."
    return Unprocessable(
        "invalid_file", "Tệp không phải sổ tính XLSX hợp lệ.", en,
        extra={"errors": [{"loc": ["body"], "msg": en, "type": "invalid_file"}]},
    )  # fmt: skip


def _check_directory(file: IO[bytes]) -> None:
    """Refuse archives with more than MAX_PARTS entries or a zip64 directory, reading
    only the end-of-central-directory record."""
    file.seek(0, 2)
    size = file.tell()
    tail_len = min(size, (1 << 16) + 22)
    file.seek(size - tail_len)
    tail = file.read(tail_len)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise not_a_workbook()
    entries, directory_size = struct.unpack("<xxxxxxxxxxHIxxxxxx", tail[at : at + 22])[0:2]
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF or entries > MAX_PARTS:
        raise too_large(
            "parts", MAX_PARTS,
            f"Sổ tính có quá nhiều phần (tối đa {MAX_PARTS}).",
            f"The workbook has too many parts (at most {MAX_PARTS}).",
        )  # fmt: skip
    file.seek(0)


def check_archive(file: IO[bytes], limits: Limits) -> None:
    """The size checks above, on the declared (and enforced) uncompressed sizes."""
    _check_directory(file)
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise not_a_workbook() from exc
    with archive:
        total = 0
        for info in archive.infolist():
            name = info.filename.lower()
            if name.startswith(_SHEET_PREFIX) or name == _STRINGS:
                total += info.file_size
            elif info.file_size > MAX_OTHER_PART:
                raise too_large(
                    "part_bytes", MAX_OTHER_PART,
                    f"Phần “{info.filename[:80]}” của sổ tính vượt {MAX_OTHER_PART >> 20} MiB khi giải nén.",
                    f"The workbook part “{info.filename[:80]}” exceeds {MAX_OTHER_PART >> 20} MiB uncompressed.",
                )  # fmt: skip
        if total > limits.max_unzipped:
            raise _too_unzipped(limits)
        for info in archive.infolist():
            name = info.filename.lower()
            if name.startswith(_SHEET_PREFIX) or name == _STRINGS:
                with archive.open(info) as part:
                    _scan(part)
    file.seek(0)


def _too_unzipped(limits: Limits) -> Unprocessable:
    return too_large(
        "unzipped_bytes", limits.max_unzipped,
        f"Sổ tính vượt {limits.max_unzipped >> 20} MiB khi giải nén; hãy gửi dạng CSV "
        "hoặc chia nhỏ.",
        f"The workbook exceeds {limits.max_unzipped >> 20} MiB uncompressed; send it as "
        "CSV or in parts.",
    )  # fmt: skip


class _Refused(Exception):
    pass


def _scan(part: IO[bytes]) -> None:
    """Stream one XML part through expat: no DTD, no text run over MAX_TEXT characters."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    run = 0

    def text(data: str) -> None:
        nonlocal run
        run += len(data)
        if run > MAX_TEXT:
            raise _Refused("text")

    def boundary(*_: Any) -> None:
        nonlocal run
        run = 0

    def doctype(*_: Any) -> None:
        raise _Refused("doctype")

    parser.CharacterDataHandler = text
    parser.StartElementHandler = boundary
    parser.EndElementHandler = boundary
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    try:
        while chunk := part.read(_SCAN_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Refused as exc:
        if str(exc) == "doctype":
            raise not_a_workbook() from exc
        raise too_large(
            "cell_characters", MAX_TEXT,
            f"Một ô của sổ tính dài hơn {MAX_TEXT:,} ký tự.",
            f"A cell of the workbook holds more than {MAX_TEXT:,} characters.",
        ) from exc  # fmt: skip
    except expat.ExpatError as exc:
        raise not_a_workbook() from exc


class DiskStrings:
    """The shared-strings table on disk: UTF-8 text in a temporary file, an offset per
    string in memory. Indexing as openpyxl does (`strings[int(v)]`)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._offsets = array("Q", [0])
        self._map: mmap.mmap | None = None

    def append(self, text: str) -> None:
        data = text.encode("utf-8", "surrogatepass")
        self._file.write(data)
        self._offsets.append(self._offsets[-1] + len(data))

    def freeze(self) -> None:
        self._file.flush()
        if self._offsets[-1]:
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self):
            raise IndexError(index)
        start, end = self._offsets[index], self._offsets[index + 1]
        if self._map is None:
            return ""
        return self._map[start:end].decode("utf-8", "surrogatepass")

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
        self._file.close()


def _read_strings(source: IO[bytes]) -> DiskStrings:
    """openpyxl's read_string_table, streamed: each <si> is turned into its text and
    dropped from the tree at once."""
    from openpyxl.xml.constants import SHEET_MAIN_NS  # type: ignore[import-untyped]
    from openpyxl.xml.functions import iterparse  # type: ignore[import-untyped]

    si, t, r = (f"{{{SHEET_MAIN_NS}}}{name}" for name in ("si", "t", "r"))
    strings = DiskStrings()
    root = None
    try:
        for event, node in iterparse(source, events=("start", "end")):
            if root is None:
                root = node
            if event == "end" and node.tag == si:
                # openpyxl's Text.content: the plain text, then the rich-text runs;
                # phonetic runs (rPh) are not part of the value.
                parts = [child.text or "" for child in node if child.tag == t]
                for run in node:
                    if run.tag == r:
                        parts.extend(c.text or "" for c in run if c.tag == t)
                strings.append("".join(parts).replace("x005F_", ""))
                root.clear()
    except BaseException:
        strings.close()
        raise
    strings.freeze()
    return strings


@dataclass
class Workbook:
    workbook: Any
    strings: DiskStrings | None

    def close(self) -> None:
        self.workbook.close()
        if self.strings is not None:
            self.strings.close()


def open_workbook(file: IO[bytes], limits: Limits) -> Workbook:
    """The workbook, read-only and values only, after the archive checks."""
    from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader  # type: ignore[import-untyped]

    check_archive(file, limits)
    holder: list[DiskStrings] = []

    class _Reader(ExcelReader):  # type: ignore[misc]
        def read_strings(self) -> None:
            part = self.package.find(SHARED_STRINGS)
            self.shared_strings: Any = []
            if part is not None:
                with self.archive.open(part.PartName[1:]) as src:
                    holder.append(_read_strings(src))
                    self.shared_strings = holder[0]

    try:
        reader = _Reader(file, read_only=True, data_only=True)
        reader.read()
    except Exception:
        for strings in holder:
            strings.close()
        raise
    return Workbook(reader.wb, holder[0] if holder else None)


def sheet_rows(book: Workbook, limits: Limits) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells) of the first sheet, counting rows as they stream."""
    sheet = book.workbook.worksheets[0]
    width = min(sheet.max_column or MAX_COLUMNS, MAX_COLUMNS)
    for count, cells in enumerate(sheet.iter_rows(values_only=True, max_col=width), start=1):
        if count > limits.max_rows:
            raise too_many_rows(limits.max_rows)
        yield count, list(cells)


def too_many_rows(limit: int) -> Unprocessable:
    return too_large(
        "rows", limit,
        f"Mỗi lần đồng bộ nhận tối đa {limit:,} dòng; hãy chia nhỏ danh sách.",
        f"A sync takes at most {limit:,} rows; split the roster.",
    )  # fmt: skip
