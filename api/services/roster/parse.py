"""Roster sync bodies → validated rows, streamed (no FastAPI here).

Formats, chosen by Content-Type: JSON (`application/json`: `{mode, scope_unit_code,
units, members}`, read incrementally, one element at a time), NDJSON
(`application/x-ndjson`, `application/jsonl`: one member object per line), CSV
(`text/csv`: UTF-8 with or without BOM, or TCVN3 or Windows-1258 which are converted
(api/services/roster/encodings.py); comma, semicolon or tab, guessed from the header
line) and spreadsheets (XLSX, XLS, ODS: any of their three media types, the format
sniffed from the content; the first visible worksheet, read by calamine in a bounded
child process, see api/services/xlsx.py). The body is first spooled to a temporary file
by the router, so nothing here holds more than one batch of rows. Each row is validated
by api/services/roster/rows.py.

Row numbers: CSV and spreadsheets count sheet rows, the header being row 1 (what a
spreadsheet shows); NDJSON counts lines; JSON counts positions in `members` (and
`units`) from 1.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, TypeVar, cast

from api.core.config import get_settings
from api.core.errors import AppError, Unprocessable
from api.core.i18n import msg
from api.core.legacy_encodings import (
    CP1258_CODEC,
    TCVN3_CODEC,
    UNKNOWN,
    has_foreign_glyphs,
    mojibake_kind,
)
from api.services.roster.encodings import CSV, JSON, NDJSON, as_text, detect
from api.services.roster.errors import (
    body_field,
    duplicate_columns,
    invalid_file,
    invalid_json,
    missing_columns,
    unsupported_encoding,
)
from api.services.roster.rows import (
    HEADER_ALIASES,
    HEADER_FIELDS,
    PLAIN_NAME,
    Memo,
    StagedRow,
    UnitRow,
    blank,
    header_key,
    member_row,
    object_row,
    rejected_row,
    unit_row,
)
from api.services.xlsx import (
    ODS,
    XLS,
    XLSX,
    Limits,
    SheetReader,
    check_sizes,
    sniff,
    too_many_rows,
)

T = TypeVar("T")
SHEETS = (XLSX, XLS, ODS)
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS_MEDIA_TYPE = "application/vnd.ms-excel"
ODS_MEDIA_TYPE = "application/vnd.oasis.opendocument.spreadsheet"
MEDIA_TYPES = {
    "application/json": JSON,
    "application/x-ndjson": NDJSON,
    "application/ndjson": NDJSON,
    "application/jsonl": NDJSON,
    "application/x-jsonlines": NDJSON,
    "text/csv": CSV,
    XLSX_MEDIA_TYPE: XLSX,
    XLS_MEDIA_TYPE: XLS,
    ODS_MEDIA_TYPE: ODS,
}
MAX_ELEMENT_CHARS = 1 << 20  # one JSON row larger than this is malformed, not incomplete
CHUNK = 1 << 16
_MEDIA_TYPE = re.compile(r"^[a-z0-9!#$&^_.+\-]+/[a-z0-9!#$&^_.+\-]+$")


def default_limits() -> Limits:
    settings = get_settings()
    return Limits(max_unzipped=settings.roster_xlsx_max_unzipped, max_rows=settings.roster_max_rows)


def _chunks(text: io.TextIOWrapper) -> Iterator[str]:
    while chunk := text.read(CHUNK):
        yield chunk


@dataclass
class RosterReader:
    """Reads one body. `members()` yields staging tuples; afterwards `mode`,
    `scope_unit_code` (JSON bodies), `units`, `encoding`, `ignored_columns` and
    `rows` describe what was read. `finish()` refuses mojibake seen in the rows."""

    file: IO[bytes]
    fmt: str
    mode: object = None
    scope_unit_code: object = None
    top_level: set[str] = field(default_factory=set)
    units: list[UnitRow] = field(default_factory=list)
    encoding: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    rows: int = 0
    source: str | None = None
    sheet: str | None = None
    _suspect: int = 0
    _suspect_kinds: dict[str, int] = field(default_factory=dict)
    _tcvn3: bool = False
    _memo: Memo = field(default_factory=Memo)
    limits: Limits = field(default_factory=default_limits)

    def members(self) -> Iterator[StagedRow]:
        self.source = self.fmt
        if self.fmt in SHEETS:
            yield from self._watch(self._sheet())
            return
        codec = self._detect_encoding()
        self._tcvn3 = codec == TCVN3_CODEC
        with as_text(self.file, codec) as text:
            if self.fmt == JSON:
                yield from self._watch(_JsonBody(_chunks(text), self).members())
            elif self.fmt == NDJSON:
                yield from self._watch(self._ndjson(text))
            elif codec == CP1258_CODEC:
                # Tone marks follow their letter on the same line: NFC line by line.
                lines = (unicodedata.normalize("NFC", line) for line in text)
                yield from self._watch(self._csv(lines))
            else:
                yield from self._watch(self._csv(text))

    def _watch(self, rows: Iterator[StagedRow]) -> Iterator[StagedRow]:
        """Count rows (at most `limits.max_rows`) and the names that look like
        legacy-encoding mojibake."""
        for row in rows:
            self.rows += 1
            if self.rows > self.limits.max_rows:
                raise too_many_rows(self.limits.max_rows)
            name = cast("str | None", row[2])  # full_name, as rows.py stages it
            if name is not None and has_foreign_glyphs(name):
                kind = mojibake_kind(name) or UNKNOWN
                self._suspect += 1
                self._suspect_kinds[kind] = self._suspect_kinds.get(kind, 0) + 1
            yield row

    def finish(self) -> None:
        """422 `unsupported_encoding` when the names read as TCVN3/VNI mojibake: at least
        one in ten rows holds Latin-1 glyphs that no Vietnamese name contains."""
        if self._suspect and self._suspect * 10 >= self.rows:
            kind = max(self._suspect_kinds, key=lambda k: self._suspect_kinds[k])
            raise unsupported_encoding(kind)

    def _detect_encoding(self) -> str:
        """The codec to read the body with (api/services/roster/encodings.py)."""
        codec, self.encoding = detect(self.file, self.fmt)
        return codec

    # --- NDJSON ---

    def _ndjson(self, lines: Iterable[str]) -> Iterator[StagedRow]:
        for line_no, line in enumerate(lines, start=1):
            text = line.strip()
            if not text:
                continue
            try:
                obj = json.loads(text)
            except (ValueError, RecursionError) as exc:
                yield rejected_row(line_no, "invalid_json", f"not a JSON object: {exc}")
                continue
            yield object_row(line_no, obj, self._memo)

    # --- CSV ---

    def _csv(self, lines: Iterator[str]) -> Iterator[StagedRow]:
        first = next(lines, "")
        delimiter = max((",", ";", "\t"), key=lambda d: first.count(d))
        reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter, strict=False)
        try:
            yield from self._table(enumerate(reader, start=1))
        except csv.Error as exc:
            raise invalid_file(
                msg("roster.malformed_csv", line=reader.line_num, error=exc),
            ) from exc

    # --- XLSX, XLS, ODS ---

    def _sheet(self) -> Iterator[StagedRow]:
        """The first visible worksheet, in the format the content shows (any of the
        three spreadsheet media types is accepted for any of them)."""
        self.source = sniff(self.file)
        settings = get_settings()
        check_sizes(self.file, self.source, self.limits, settings.roster_xls_max_bytes)
        sheet = SheetReader(self.file, self.limits, settings.roster_sheet_memory)
        rows = sheet.rows()
        try:
            yield from self._table(rows)
        finally:
            self.sheet = sheet.sheet
            rows.close()

    # --- tables (CSV and spreadsheets) ---

    def _table(self, rows: Iterator[tuple[int, Sequence[object]]]) -> Iterator[StagedRow]:
        columns = self._header(rows)
        split_name = "full_name" not in columns
        for row_no, cells in rows:
            if not any(cells) or all(blank(c) for c in cells):
                continue
            raw: dict[str, object] = {}
            for name, index in columns.items():
                raw[name] = cells[index] if index < len(cells) else None
            if split_name:
                parts = [raw.pop("family_middle", None), raw.pop("given_name", None)]
                raw["full_name"] = " ".join(str(p).strip() for p in parts if not blank(p))
            yield member_row(row_no, raw, tcvn3=self._tcvn3, memo=self._memo)

    def _header(self, rows: Iterator[tuple[int, Sequence[object]]]) -> dict[str, int]:
        """The header: the first of the first 10 rows naming external_id."""
        seen: list[tuple[int, Sequence[object]]] = []
        for row_no, cells in rows:
            seen.append((row_no, cells))
            mapped = self._map(cells)
            if "external_id" in mapped[0]:
                return self._accept(mapped)
            if len(seen) >= 10:
                break
        first = next(((n, c) for n, c in seen if any(not blank(x) for x in c)), None)
        if first is None:
            raise missing_columns(["external_id", "full_name", "unit_code"], HEADER_ALIASES)
        for cell in first[1]:
            if isinstance(cell, str) and (kind := mojibake_kind(cell)):
                raise unsupported_encoding(kind)
        return self._accept(self._map(first[1]))

    def _map(self, cells: Sequence[object]) -> tuple[dict[str, int], list[str], list[str]]:
        columns: dict[str, int] = {}
        ignored: list[str] = []
        duplicates: list[str] = []
        for index, cell in enumerate(cells):
            if blank(cell):
                continue
            header = str(cell).strip()
            name = HEADER_FIELDS.get(header_key(header))
            if name is None:
                ignored.append(header[:100])
            elif name in columns:
                duplicates.append(header[:100])
            else:
                columns[name] = index
        return columns, ignored, duplicates

    def _accept(self, mapped: tuple[dict[str, int], list[str], list[str]]) -> dict[str, int]:
        columns, ignored, duplicates = mapped
        if duplicates:
            raise duplicate_columns(duplicates)
        has_name = "full_name" in columns or "given_name" in columns
        missing = [
            n
            for n in ("external_id", "full_name", "unit_code")
            if (n != "full_name" and n not in columns) or (n == "full_name" and not has_name)
        ]
        if missing:
            for header in ignored:
                if kind := mojibake_kind(header):
                    raise unsupported_encoding(kind)
            raise missing_columns(missing, HEADER_ALIASES)
        self.ignored_columns = ignored
        return columns


class _JsonBody:
    """An incremental reader of `{"mode", "scope_unit_code", "units": [...], "members":
    [...]}`: each array element is decoded on its own (json.JSONDecoder.raw_decode over a
    sliding buffer), so memory holds one element, not the body."""

    _WS = re.compile(r"[ \t\n\r]*")
    _DECODER = json.JSONDecoder()

    def __init__(self, chunks: Iterator[str], reader: RosterReader) -> None:
        self.chunks = chunks
        self.reader = reader
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.where = "the body"

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = next(self.chunks, None)
        if chunk is None:
            self.eof = True
            return False
        if self.pos > CHUNK:
            self.buf = self.buf[self.pos :]
            self.pos = 0
        self.buf += chunk
        return True

    def _peek(self) -> str:
        while True:
            match = self._WS.match(self.buf, self.pos)
            assert match is not None
            self.pos = match.end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def _expect(self, chars: str) -> str:
        ch = self._peek()
        if not ch or ch not in chars:
            found = repr(ch) if ch else "end of body"
            raise invalid_json(
                f"expected {' or '.join(repr(c) for c in chars)} in {self.where}, found {found}"
            )
        self.pos += 1
        return ch

    def _value(self) -> object:
        self._peek()
        while True:
            try:
                value, end = self._DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos > MAX_ELEMENT_CHARS or not self._more():
                    raise invalid_json(f"{exc.msg} in {self.where}") from exc
                continue
            except RecursionError as exc:
                raise invalid_json(f"nested too deeply in {self.where}") from exc
            except ValueError as exc:  # e.g. an integer past Python's digit limit
                raise invalid_json(f"a value cannot be read in {self.where}") from exc
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if number and end == len(self.buf) and self._more():
                continue  # the number may go on in the next chunk
            self.pos = end
            return value

    def members(self) -> Iterator[StagedRow]:
        self._expect("{")
        if self._peek() == "}":
            self.pos += 1
        else:
            while True:
                self.where = "the body"
                key = self._value()
                if not isinstance(key, str):
                    raise invalid_json("object keys must be strings")
                self._expect(":")
                if key in self.reader.top_level:
                    raise _body_field(key, "duplicate field")
                self.reader.top_level.add(key)
                if key == "members":
                    yield from self._array("members", self._member)
                elif key == "units":
                    for unit in self._array("units", unit_row):
                        self.reader.units.append(unit)
                elif key in ("mode", "scope_unit_code"):
                    setattr(self.reader, key, self._value())
                else:
                    raise _body_field(key, "unknown field")
                if self._expect(",}") == "}":
                    break
        if self._peek():
            raise invalid_json("unexpected data after the JSON object")

    def _member(self, row_no: int, value: object) -> StagedRow:
        return object_row(row_no, value, self.reader._memo)

    def _array(self, name: str, make: Callable[[int, object], T]) -> Iterator[T]:
        self.where = name
        self._expect("[")
        if self._peek() == "]":
            self.pos += 1
            return
        index = 0
        while True:
            index += 1
            self.where = f"{name}[{index - 1}]"
            yield make(index, self._value())
            if self._expect(",]") == "]":
                return


def _body_field(key: str, msg: str) -> Unprocessable:
    return body_field(key, key if PLAIN_NAME.match(key) else "?", msg)


def media_format(content_type: str | None) -> str:
    """The body format for a Content-Type header; 415 for any other."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    fmt = MEDIA_TYPES.get(media)
    if fmt is None:
        accepted = ", ".join(sorted(MEDIA_TYPES))
        shown = media[:80] if _MEDIA_TYPE.match(media) else "?"
        raise AppError(
            "unsupported_media_type",
            msg("roster.unsupported_content_type", shown=shown, accepted=accepted),
        )
    return fmt
