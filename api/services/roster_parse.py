"""Roster sync bodies → validated rows, streamed (no FastAPI here).

Formats, chosen by Content-Type: JSON (`application/json`: `{mode, scope_unit_code,
units, members}`, read incrementally, one element at a time), NDJSON
(`application/x-ndjson`, `application/jsonl`: one member object per line), CSV
(`text/csv`: UTF-8 with or without BOM, or TCVN3 or Windows-1258 which are converted;
comma, semicolon or tab, guessed from the header line) and spreadsheets (XLSX, XLS, ODS:
any of their three media types, the format sniffed from the content; the first visible
worksheet, read by calamine in a bounded child process, see api/services/xlsx.py). The
body is first spooled to a temporary file by the router, so nothing here holds more than
one batch of rows.

Each member row is validated with the same rules as `MemberCreate` (the same pydantic
types: `PersonName`, `ShortText`, `Email`, `Phone`, `Code` and the external_id rule),
and yields one tuple in `STAGE_COLUMNS` order. A row that breaks a rule carries its
error (code `validation_failed`, the field and a detail) and never stops the others.

Row numbers: CSV and spreadsheets count sheet rows, the header being row 1 (what a
spreadsheet shows); NDJSON counts lines; JSON counts positions in `members` (and
`units`) from 1.

Column headers (CSV/spreadsheets) are matched after folding (case, diacritics, `đ`→`d`,
spaces, `_`, `-`, `.`), so `Mã đảng viên`, `MÃ ĐẢNG VIÊN` and `ma_dang_vien` are one header.
`HEADER_ALIASES` is the list; other columns (STT, Ngày sinh, …) are ignored and reported.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import IO, Any

from pydantic import TypeAdapter, ValidationError

from api.core.config import get_settings
from api.core.enums import LABELS
from api.core.errors import AppError, BadRequest, Unprocessable
from api.core.legacy_encodings import (
    CP1258_CODEC,
    TCVN3,
    TCVN3_CODEC,
    UNKNOWN,
    VNI,
    fix_tcvn3_case,
    has_foreign_glyphs,
    mojibake_kind,
    reads_as_cp1258,
    sniff_legacy,
    utf8_and_legacy_lines,
)
from api.core.text_vi import fold
from api.schemas.common import field_adapter
from api.schemas.members import EXTERNAL_ID_MAX, MemberCreate
from api.schemas.units import UnitCreate
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

JSON, NDJSON, CSV = "json", "ndjson", "csv"
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
UTF8 = "utf-8"
MIXED = "mixed"
TCVN3_CONVERTED = "TCVN3 (converted to Unicode)"
CP1258_CONVERTED = "Windows-1258 (converted to Unicode)"

# Member fields a row may leave out (the member keeps its value; a new member gets the
# default). external_id, full_name and unit_code are required in every row.
OPTIONAL_FIELDS = ("membership", "status", "position", "is_leader", "email", "phone")
STAGE_COLUMNS = (
    "row_no", "external_id", "full_name", "unit_code", "membership", "status", "position",
    "is_leader", "email", "phone", "has_membership", "has_status", "has_position",
    "has_is_leader", "has_email", "has_phone", "error_code", "error_field", "error_detail",
)  # fmt: skip
MEMBER_KEYS = frozenset(("external_id", "full_name", "unit_code", *OPTIONAL_FIELDS))
UNIT_KEYS = frozenset(("code", "name", "level", "parent_code"))
MAX_ELEMENT_CHARS = 1 << 20  # one JSON row larger than this is malformed, not incomplete
CHUNK = 1 << 16

# field -> accepted headers (matched after `header_key`). `family_middle` + `given_name`
# ("Họ đệm" + "Tên", the split form of many rosters) make full_name when it is absent.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "Mã đảng viên", "Mã", "Mã ĐV", "Mã số", "Mã số đảng viên",
                    "Số thẻ đảng viên", "Số thẻ"),
    "full_name": ("full_name", "Họ và tên", "Họ tên", "Họ và tên đảng viên", "Tên đầy đủ"),
    "family_middle": ("Họ đệm", "Họ và đệm", "Họ và tên đệm", "Họ lót"),
    "given_name": ("Tên",),
    "unit_code": ("unit_code", "Chi bộ", "Mã chi bộ", "Mã đơn vị", "Đơn vị", "Mã tổ chức đảng"),
    "membership": ("membership", "Loại đảng viên", "Loại"),
    "status": ("status", "Trạng thái", "Tình trạng"),
    "position": ("position", "Chức vụ"),
    "is_leader": ("is_leader", "Lãnh đạo", "Cấp ủy", "Là lãnh đạo", "Là cấp ủy"),
    "email": ("email", "E-mail", "Thư điện tử", "Địa chỉ email"),
    "phone": ("phone", "Số điện thoại", "SĐT", "Điện thoại", "Di động", "Số di động"),
}  # fmt: skip
_SEPARATORS = re.compile(r"[\s_\-./]+")


def header_key(header: str) -> str:
    return _SEPARATORS.sub(" ", fold(header)).strip()


_HEADER_FIELDS = {header_key(a): f for f, aliases in HEADER_ALIASES.items() for a in aliases}


def _enum_aliases(name: str, extra: dict[str, str]) -> dict[str, str]:
    """Folded code, Vietnamese and English label -> code."""
    _, labels = LABELS[name]
    out: dict[str, str] = {}
    for code, (vi, en) in labels.items():
        for alias in (code, vi, en):
            out[header_key(alias)] = code
    out.update({header_key(k): v for k, v in extra.items()})
    return out


MEMBERSHIP_ALIASES = _enum_aliases("membership", {
    "chính thức": "official", "dự bị": "probationary", "không phải đảng viên": "none",
    "không": "none",
})  # fmt: skip
STATUS_ALIASES = _enum_aliases("member_status", {
    "sinh hoạt": "active", "đang hoạt động": "active", "miễn": "exempt", "chuyển đi": "transferred",
    "chuyển sinh hoạt": "transferred", "xóa tên": "removed", "khai trừ": "removed",
    "từ trần": "deceased", "đã mất": "deceased",
})  # fmt: skip
LEVEL_ALIASES = _enum_aliases("unit_level", {"chi bộ": "cell", "tổ đảng": "group"})
_TRUE = frozenset({"true", "1", "x", "co", "yes", "y", "c"})
_FALSE = frozenset({"false", "0", "khong", "no", "n", "k"})

# Each field is validated by the very definition the API uses for it (issue 20: a row
# and `MemberCreate` once stripped external ids differently).
_EXTERNAL_ID = field_adapter(MemberCreate, "external_id")
_NAME = field_adapter(MemberCreate, "full_name")
_SHORT = field_adapter(MemberCreate, "position")
_EMAIL = field_adapter(MemberCreate, "email")
_PHONE = field_adapter(MemberCreate, "phone")
_UNIT_NAME = field_adapter(UnitCreate, "name")
_CODE = field_adapter(UnitCreate, "code")


def _problem_errors(loc: list[str | int], msg: str, typ: str) -> dict[str, Any]:
    return {"errors": [{"loc": loc, "msg": msg, "type": typ}]}


def invalid_json(detail: str) -> BadRequest:
    return BadRequest(
        "invalid_json",
        f"Nội dung JSON không hợp lệ: {detail}",
        f"The JSON body is malformed: {detail}",
    )


def invalid_file(vi: str, en: str) -> Unprocessable:
    return Unprocessable(
        "invalid_file", vi, en, extra=_problem_errors(["body"], en, "invalid_file")
    )


def unsupported_encoding(kind: str) -> Unprocessable:
    if kind == UNKNOWN:
        vi = "Tệp không ở dạng UTF-8 và không nhận ra bảng mã; hãy lưu lại dưới dạng CSV UTF-8."
        en = "The file is not UTF-8 and its encoding is not recognised; save it as CSV UTF-8."
    else:
        vi = (
            f"Tệp dùng bảng mã cũ {kind}; hãy chuyển sang Unicode (ví dụ bằng công cụ chuyển mã "
            "của Unikey) rồi gửi lại."
        )
        en = (
            f"The file uses the legacy {kind} encoding; convert it to Unicode (e.g. with "
            "Unikey's converter) and send it again."
        )
    return Unprocessable(
        "unsupported_encoding", vi, en, extra={"encoding": kind, **_problem_errors(["body"], en, "encoding")}
    )  # fmt: skip


def mixed_encoding(rows: list[int]) -> Unprocessable:
    """UTF-8 text with rows in another encoding: converting the whole file would turn
    its UTF-8 names into mojibake, so it is refused, naming the rows (line numbers) that
    are not UTF-8."""
    shown = ", ".join(map(str, rows))
    vi = (
        f"Tệp trộn lẫn UTF-8 với bảng mã khác (các dòng {shown} không phải UTF-8); hãy lưu "
        "toàn bộ tệp dưới dạng CSV UTF-8 rồi gửi lại."
    )
    en = (
        f"The file mixes UTF-8 with another encoding (lines {shown} are not UTF-8); save "
        "the whole file as CSV UTF-8 and send it again."
    )
    return Unprocessable(
        "unsupported_encoding", vi, en,
        extra={"encoding": MIXED, "rows": rows, **_problem_errors(["body"], en, "encoding")},
    )  # fmt: skip


def _missing_columns(missing: list[str]) -> Unprocessable:
    names = ", ".join(missing)
    return Unprocessable(
        "validation_failed",
        f"Thiếu cột bắt buộc: {names}.",
        f"Required columns are missing: {names}.",
        extra={"errors": [
            {"loc": ["body", "columns", m], "type": "missing",
             "msg": "missing column; accepted headers: " + ", ".join(HEADER_ALIASES[m])}
            for m in missing
        ]},
    )  # fmt: skip


# --- one row ------------------------------------------------------------------------


class _RowErrors:
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, name: str, msg: str) -> None:
        self.items.append((name, msg))


def _as_text(value: Any, *, digits: bool = False) -> Any:
    """Spreadsheet numbers as text ('12345', not '12345.0'); other values unchanged."""
    if digits and isinstance(value, float) and value.is_integer():
        return str(int(value))
    if digits and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _run(adapter: TypeAdapter[Any], value: Any, name: str, errors: _RowErrors) -> str | None:
    try:
        result: str | None = adapter.validate_python(value)
    except ValidationError as exc:
        errors.add(name, str(exc.errors()[0]["msg"]))
        return None
    return result


class Memo:
    """Validation results of repeated values (names, unit codes, enum labels) within one
    body: a roster repeats them a lot, and the same input has the same outcome."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self.items: dict[tuple[str, Any], tuple[Any, str | None]] = {}

    def run(self, adapter: TypeAdapter[Any], value: Any, name: str, errors: _RowErrors) -> Any:
        key = (name, value)
        try:
            hit = self.items.get(key)
        except TypeError:  # an unhashable JSON value
            hit = None
        if hit is None:
            probe = _RowErrors()
            result = _run(adapter, value, name, probe)
            hit = (result, probe.items[0][1] if probe.items else None)
            if len(self.items) >= self.LIMIT:
                self.items.clear()
            with suppress(TypeError):  # an unhashable JSON value is not remembered
                self.items[key] = hit
        if hit[1] is not None:
            errors.add(name, hit[1])
        return hit[0]


def _blank(value: Any) -> bool:
    return value is None or value == "" or (value.__class__ is str and value.isspace())


def _choices(aliases: Mapping[str, str]) -> str:
    return ", ".join(sorted(set(aliases.values())))


@lru_cache(maxsize=1024)
def _alias_key(value: str) -> str:
    return header_key(value)


def _alias(value: Any, aliases: Mapping[str, str], name: str, errors: _RowErrors) -> str | None:
    if not isinstance(value, str):
        errors.add(name, "must be one of: " + _choices(aliases))
        return None
    code = aliases.get(_alias_key(value) if len(value) <= 64 else header_key(value))
    if code is None:
        errors.add(name, f"'{value[:40]}' is not one of: " + _choices(aliases))
    return code


def _bool(value: Any, errors: _RowErrors) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and len(value) <= 64:
        key = _alias_key(value)
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
    errors.add("is_leader", "must be true or false (1/0, x, có/không)")
    return None


def _phone_text(value: Any) -> Any:
    """A spreadsheet number lost its leading 0: 912345678 is 0912345678."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = _as_text(value, digits=True)
        return "0" + text if isinstance(text, str) and len(text) == 9 else text
    return value


# Text no database column can hold: NUL (PostgreSQL text refuses it) and lone surrogates
# (not encodable as UTF-8). A row carrying one is rejected, and none of it is stored.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_MEDIA_TYPE = re.compile(r"^[a-z0-9!#$&^_.+\-]+/[a-z0-9!#$&^_.+\-]+$")
UNSTORABLE_DETAIL = "a field name or value holds a NUL or an invalid Unicode character"


def unstorable(raw: Mapping[str, Any]) -> str | None:
    """The field whose name or text cannot be stored (its name; "row" when the name itself
    is unstorable or not a plain one), or None when the row is clean."""
    text = "".join(itertools.chain(raw.keys(), (v for v in raw.values() if isinstance(v, str))))
    if _UNSTORABLE.search(text) is None:
        return None
    for key, value in raw.items():
        if _UNSTORABLE.search(key):
            return "row"
        if isinstance(value, str) and _UNSTORABLE.search(value):
            return key if _PLAIN_NAME.match(key) and len(key) <= 32 else "row"
    return "row"


def plain_names(names: Iterable[str]) -> str:
    """Field names for an error detail: the plain ones quoted, the rest only counted, so a
    detail never carries the caller's markup or unstorable text."""
    names = list(names)
    plain = [n for n in names if _PLAIN_NAME.match(n)]
    others = len(names) - len(plain)
    return ", ".join(plain + ([f"{others} other(s)"] if others else []))[:200]


def member_row(
    row_no: int, raw: Mapping[str, Any], *, tcvn3: bool = False, memo: Memo | None = None
) -> tuple[Any, ...]:
    """Validate one member row (field -> raw value; absent keys were not given).

    Returns the staging tuple (STAGE_COLUMNS). Empty `position`/`email`/`phone` clear the
    field; empty `membership`/`status`/`is_leader` count as not given."""
    if (bad := unstorable(raw)) is not None:
        return rejected_row(row_no, "validation_failed", UNSTORABLE_DETAIL, field=bad)
    memo = memo or Memo()
    errors = _RowErrors()
    external_id = _as_text(raw.get("external_id"), digits=True)
    shown_id = external_id.strip()[:EXTERNAL_ID_MAX] if isinstance(external_id, str) else None
    if _blank(external_id):
        errors.add("external_id", "required")
        external_id = None
    else:
        external_id = _run(_EXTERNAL_ID, external_id, "external_id", errors)

    name = raw.get("full_name")
    if _blank(name):
        errors.add("full_name", "required")
        full_name = None
    else:
        full_name = memo.run(_NAME, name, "full_name", errors)
        if full_name is not None and tcvn3:
            full_name = fix_tcvn3_case(full_name)

    code = _as_text(raw.get("unit_code"), digits=True)
    if _blank(code):
        errors.add("unit_code", "required")
        unit_code = None
    else:
        unit_code = memo.run(_CODE, code, "unit_code", errors)

    membership = status = position = email = phone = None
    is_leader: bool | None = None
    has_membership = has_status = has_leader = has_position = has_email = has_phone = False
    value = raw.get("membership")
    if not _blank(value):
        membership, has_membership = _alias(value, MEMBERSHIP_ALIASES, "membership", errors), True
    value = raw.get("status")
    if not _blank(value):
        status, has_status = _alias(value, STATUS_ALIASES, "status", errors), True
    value = raw.get("is_leader")
    if not _blank(value):
        is_leader, has_leader = _bool(value, errors), True
    if "position" in raw:
        has_position = True
        if not _blank(value := raw["position"]):
            position = memo.run(_SHORT, value, "position", errors)
    if "email" in raw:
        has_email = True
        if not _blank(value := raw["email"]):
            email = _run(_EMAIL, value, "email", errors)
    if "phone" in raw:
        has_phone = True
        if not _blank(value := _phone_text(raw["phone"])):
            phone = _run(_PHONE, value, "phone", errors)
    if errors.items:
        detail = "; ".join(f"{f}: {m}" for f, m in errors.items)[:500]
        return (row_no, shown_id, None, None, None, None, None, None, None, None,
                False, False, False, False, False, False,
                "validation_failed", errors.items[0][0], detail)  # fmt: skip
    return (row_no, external_id, full_name, unit_code, membership, status, position, is_leader,
            email, phone, has_membership, has_status, has_position, has_leader, has_email,
            has_phone, None, None, None)  # fmt: skip


def rejected_row(
    row_no: int, code: str, detail: str, external_id: Any = None, field: str | None = None
) -> tuple[Any, ...]:
    shown = (
        external_id.strip()[:EXTERNAL_ID_MAX]
        if isinstance(external_id, str) and not _UNSTORABLE.search(external_id)
        else None
    )
    return (row_no, shown, None, None, None, None, None, None, None, None,
            False, False, False, False, False, False, code, field, detail[:500])  # fmt: skip


def _object_row(row_no: int, obj: Any, memo: Memo | None = None) -> tuple[Any, ...]:
    if not isinstance(obj, dict):
        return rejected_row(row_no, "validation_failed", "a member row must be a JSON object")
    unknown = sorted(k for k in obj if k not in MEMBER_KEYS)
    if unknown:
        return rejected_row(
            row_no, "validation_failed", f"unknown field(s): {plain_names(unknown)}",
            obj.get("external_id"),
        )  # fmt: skip
    return member_row(row_no, obj, memo=memo)


@dataclass(slots=True)
class UnitRow:
    row_no: int
    code: str | None
    name: str | None
    level: str | None
    parent_code: str | None
    error_field: str | None = None
    error_detail: str | None = None


def unit_row(row_no: int, obj: Any) -> UnitRow:
    errors = _RowErrors()
    if not isinstance(obj, dict):
        return UnitRow(row_no, None, None, None, None, "code", "a unit row must be a JSON object")
    if unstorable(obj) is not None:
        return UnitRow(row_no, None, None, None, None, "code", UNSTORABLE_DETAIL)
    unknown = sorted(k for k in obj if k not in UNIT_KEYS)
    if unknown:
        errors.add(unknown[0], "unknown field")
    raw_code = obj.get("code")
    shown = raw_code.strip()[:64] if isinstance(raw_code, str) else None
    code = _run(_CODE, raw_code, "code", errors) if not _blank(raw_code) else None
    if code is None and _blank(raw_code):
        errors.add("code", "required")
    name = (
        _run(_UNIT_NAME, obj.get("name"), "name", errors) if not _blank(obj.get("name")) else None
    )
    if name is None and _blank(obj.get("name")):
        errors.add("name", "required")
    level = None
    if _blank(obj.get("level")):
        errors.add("level", "required")
    else:
        level = _alias(obj.get("level"), LEVEL_ALIASES, "level", errors)
    parent = obj.get("parent_code")
    parent_code = None if _blank(parent) else _run(_CODE, parent, "parent_code", errors)
    if errors.items:
        detail = "; ".join(f"{f}: {m}" for f, m in errors.items)[:500]
        return UnitRow(row_no, shown, None, None, None, errors.items[0][0], detail)
    return UnitRow(row_no, code, name, level, parent_code)


# --- bodies -----------------------------------------------------------------------------


def default_limits() -> Limits:
    settings = get_settings()
    return Limits(max_unzipped=settings.roster_xlsx_max_unzipped, max_rows=settings.roster_max_rows)


def _check_utf8(file: IO[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    file.seek(0)
    try:
        while chunk := file.read(CHUNK * 16):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        file.seek(0)
    return True


@contextmanager
def _text(file: IO[bytes], codec: str) -> Iterator[io.TextIOWrapper]:
    """The body as text, UTF-8 (a leading BOM dropped), TCVN3 or Windows-1258, lines
    split only at \n, \r\n and \r (as csv expects). The spooled file stays open."""
    file.seek(0)
    wrapper = io.TextIOWrapper(file, encoding=codec, newline="")
    try:
        yield wrapper
    finally:
        wrapper.detach()


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
    mode: Any = None
    scope_unit_code: Any = None
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

    def members(self) -> Iterator[tuple[Any, ...]]:
        self.source = self.fmt
        if self.fmt in SHEETS:
            yield from self._watch(self._sheet())
            return
        codec = self._detect_encoding()
        self._tcvn3 = codec == TCVN3_CODEC
        with _text(self.file, codec) as text:
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

    def _watch(self, rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """Count rows (at most `limits.max_rows`) and the names that look like
        legacy-encoding mojibake."""
        for row in rows:
            self.rows += 1
            if self.rows > self.limits.max_rows:
                raise too_many_rows(self.limits.max_rows)
            name = row[2]
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
        """The codec to read the body with: UTF-8; for a CSV, TCVN3 or Windows-1258 when
        the whole file reads as that encoding (converted); anything else is refused."""
        if _check_utf8(self.file):
            self.encoding = UTF8
            return "utf-8-sig"
        self.file.seek(0)
        kind = sniff_legacy(self.file.read(4 << 20))
        self.file.seek(0)
        if self.fmt == CSV:
            utf8, legacy = utf8_and_legacy_lines(self.file)
            if utf8:
                raise mixed_encoding(legacy)
            if kind == TCVN3:
                self.encoding = TCVN3_CONVERTED
                return TCVN3_CODEC
            if kind in (UNKNOWN, VNI) and reads_as_cp1258(self.file):
                self.encoding = CP1258_CONVERTED
                return CP1258_CODEC
        if self.fmt in (JSON, NDJSON) and kind == UNKNOWN:
            raise invalid_json("the body is not UTF-8")
        raise unsupported_encoding(kind)

    # --- NDJSON ---

    def _ndjson(self, lines: Iterable[str]) -> Iterator[tuple[Any, ...]]:
        for line_no, line in enumerate(lines, start=1):
            text = line.strip()
            if not text:
                continue
            try:
                obj = json.loads(text)
            except (ValueError, RecursionError) as exc:
                yield rejected_row(line_no, "invalid_json", f"not a JSON object: {exc}")
                continue
            yield _object_row(line_no, obj, self._memo)

    # --- CSV ---

    def _csv(self, lines: Iterator[str]) -> Iterator[tuple[Any, ...]]:
        first = next(lines, "")
        delimiter = max((",", ";", "\t"), key=lambda d: first.count(d))
        reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter, strict=False)
        try:
            yield from self._table(enumerate(reader, start=1))
        except csv.Error as exc:
            raise invalid_file(
                f"Tệp CSV hỏng ở dòng {reader.line_num}: {exc}",
                f"Malformed CSV at line {reader.line_num}: {exc}",
            ) from exc

    # --- XLSX, XLS, ODS ---

    def _sheet(self) -> Iterator[tuple[Any, ...]]:
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

    def _table(self, rows: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[Any, ...]]:
        columns = self._header(rows)
        split_name = "full_name" not in columns
        for row_no, cells in rows:
            if not any(cells) or all(_blank(c) for c in cells):
                continue
            raw: dict[str, Any] = {}
            for name, index in columns.items():
                raw[name] = cells[index] if index < len(cells) else None
            if split_name:
                parts = [raw.pop("family_middle", None), raw.pop("given_name", None)]
                raw["full_name"] = " ".join(str(p).strip() for p in parts if not _blank(p))
            yield member_row(row_no, raw, tcvn3=self._tcvn3, memo=self._memo)

    def _header(self, rows: Iterator[tuple[int, list[Any]]]) -> dict[str, int]:
        """The header: the first of the first 10 rows naming external_id."""
        seen: list[tuple[int, list[Any]]] = []
        for row_no, cells in rows:
            seen.append((row_no, cells))
            mapped = self._map(cells)
            if "external_id" in mapped[0]:
                return self._accept(mapped)
            if len(seen) >= 10:
                break
        first = next(((n, c) for n, c in seen if any(not _blank(x) for x in c)), None)
        if first is None:
            raise _missing_columns(["external_id", "full_name", "unit_code"])
        for cell in first[1]:
            if isinstance(cell, str) and (kind := mojibake_kind(cell)):
                raise unsupported_encoding(kind)
        return self._accept(self._map(first[1]))

    def _map(self, cells: list[Any]) -> tuple[dict[str, int], list[str], list[str]]:
        columns: dict[str, int] = {}
        ignored: list[str] = []
        duplicates: list[str] = []
        for index, cell in enumerate(cells):
            if _blank(cell):
                continue
            header = str(cell).strip()
            name = _HEADER_FIELDS.get(header_key(header))
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
            raise Unprocessable(
                "validation_failed",
                f"Cột trùng lặp: {', '.join(duplicates)}.",
                f"Duplicate columns: {', '.join(duplicates)}.",
                extra=_problem_errors(["body", "columns"], "duplicate column", "duplicate"),
            )
        has_name = "full_name" in columns or "given_name" in columns
        missing = [n for n in ("external_id", "full_name", "unit_code")
                   if (n != "full_name" and n not in columns) or (n == "full_name" and not has_name)]  # fmt: skip
        if missing:
            for header in ignored:
                if kind := mojibake_kind(header):
                    raise unsupported_encoding(kind)
            raise _missing_columns(missing)
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

    def _value(self) -> Any:
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

    def members(self) -> Iterator[tuple[Any, ...]]:
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

    def _member(self, row_no: int, value: Any) -> tuple[Any, ...]:
        return _object_row(row_no, value, self.reader._memo)

    def _array(self, name: str, make: Any) -> Iterator[Any]:
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
    name = key if _PLAIN_NAME.match(key) else "?"
    return Unprocessable(
        "validation_failed",
        f"Trường '{name}' không hợp lệ ({msg}).",
        f"Field '{name}' is not accepted ({msg}).",
        extra=_problem_errors(["body", key[:64]], msg, "extra_forbidden"),
    )


def media_format(content_type: str | None) -> str:
    """The body format for a Content-Type header; 415 for any other."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    fmt = MEDIA_TYPES.get(media)
    if fmt is None:
        accepted = ", ".join(sorted(MEDIA_TYPES))
        shown = media[:80] if _MEDIA_TYPE.match(media) else "?"
        raise AppError(
            "unsupported_media_type",
            f"Kiểu nội dung '{shown}' không được hỗ trợ; dùng: {accepted}.",
            f"Content-Type '{shown}' is not supported; use one of: {accepted}.",
        )
    return fmt


def validate_mode(value: Any) -> str:
    if value not in ("snapshot", "upsert"):
        raise Unprocessable(
            "validation_failed",
            "Thiếu hoặc sai 'mode' (snapshot hoặc upsert).",
            "'mode' is missing or invalid (snapshot or upsert).",
            extra=_problem_errors(["body", "mode"], "must be snapshot or upsert", "enum"),
        )
    return str(value)


def validate_scope_code(value: Any) -> str | None:
    if value is None:
        return None
    try:
        code: str = _CODE.validate_python(value)
        return code
    except ValidationError as exc:
        raise Unprocessable(
            "validation_failed",
            "'scope_unit_code' không hợp lệ.",
            "'scope_unit_code' is invalid.",
            extra=_problem_errors(
                ["body", "scope_unit_code"], str(exc.errors()[0]["msg"]), "value_error"
            ),
        ) from exc
