"""One roster row → one staging tuple (no FastAPI here).

Each member row is validated with the same rules as `MemberCreate` (the same pydantic
types: `PersonName`, `ShortText`, `Email`, `Phone`, `Code` and the external_id rule),
and yields one tuple in `STAGE_COLUMNS` order. A row that breaks a rule carries its
error (code `validation_failed`, the field and a detail) and never stops the others.

Column headers (CSV/spreadsheets) are matched after folding (case, diacritics, `đ`→`d`,
spaces, `_`, `-`, `.`), so `Mã đảng viên`, `MÃ ĐẢNG VIÊN` and `ma_dang_vien` are one header.
`HEADER_ALIASES` is the list; other columns (STT, Ngày sinh, …) are ignored and reported.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from api.core.enums import LABELS
from api.core.errors import Unprocessable
from api.core.i18n import msg
from api.core.legacy_encodings import fix_tcvn3_case
from api.core.text_vi import fold
from api.schemas.common import field_adapter
from api.schemas.members import EXTERNAL_ID_MAX, MemberCreate
from api.schemas.units import UnitCreate
from api.services.roster.errors import problem_errors

# One row as staged for COPY, in STAGE_COLUMNS order (values of mixed types).
StagedRow = tuple[object, ...]

# Member fields a row may leave out (the member keeps its value; a new member gets the
# default). external_id, full_name and unit_code are required in every row.
OPTIONAL_FIELDS = ("membership", "status", "position", "is_leader", "email", "phone")
STAGE_COLUMNS = (
    "row_no",
    "external_id",
    "full_name",
    "unit_code",
    "membership",
    "status",
    "position",
    "is_leader",
    "email",
    "phone",
    "has_membership",
    "has_status",
    "has_position",
    "has_is_leader",
    "has_email",
    "has_phone",
    "error_code",
    "error_field",
    "error_detail",
)
MEMBER_KEYS = frozenset(("external_id", "full_name", "unit_code", *OPTIONAL_FIELDS))
UNIT_KEYS = frozenset(("code", "name", "level", "parent_code"))
MAX_ELEMENT_CHARS = 1 << 20  # one JSON row larger than this is malformed, not incomplete
CHUNK = 1 << 16

# field -> accepted headers (matched after `header_key`). `family_middle` + `given_name`
# ("Họ đệm" + "Tên", the split form of many rosters) make full_name when it is absent.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": (
        "external_id",
        "Mã đảng viên",
        "Mã",
        "Mã ĐV",
        "Mã số",
        "Mã số đảng viên",
        "Số thẻ đảng viên",
        "Số thẻ",
    ),
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
}
_SEPARATORS = re.compile(r"[\s_\-./]+")


def header_key(header: str) -> str:
    return _SEPARATORS.sub(" ", fold(header)).strip()


HEADER_FIELDS = {header_key(a): f for f, aliases in HEADER_ALIASES.items() for a in aliases}


def _enum_aliases(name: str, extra: dict[str, str]) -> dict[str, str]:
    """Folded code, Vietnamese and English label -> code."""
    _, labels = LABELS[name]
    out: dict[str, str] = {}
    for code, (vi, en) in labels.items():
        for alias in (code, vi, en):
            out[header_key(alias)] = code
    out.update({header_key(k): v for k, v in extra.items()})
    return out


MEMBERSHIP_ALIASES = _enum_aliases(
    "membership",
    {
        "chính thức": "official",
        "dự bị": "probationary",
        "không phải đảng viên": "none",
        "không": "none",
    },
)
STATUS_ALIASES = _enum_aliases(
    "member_status",
    {
        "sinh hoạt": "active",
        "đang hoạt động": "active",
        "miễn": "exempt",
        "chuyển đi": "transferred",
        "chuyển sinh hoạt": "transferred",
        "xóa tên": "removed",
        "khai trừ": "removed",
        "từ trần": "deceased",
        "đã mất": "deceased",
    },
)
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


class RowErrors:
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, name: str, msg: str) -> None:
        self.items.append((name, msg))


def _as_text(value: object, *, digits: bool = False) -> object:
    """Spreadsheet numbers as text ('12345', not '12345.0'); other values unchanged."""
    if digits and isinstance(value, float) and value.is_integer():
        return str(int(value))
    if digits and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _run(adapter: TypeAdapter[Any], value: object, name: str, errors: RowErrors) -> str | None:
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
        self.items: dict[tuple[str, object], tuple[str | None, str | None]] = {}

    def run(
        self, adapter: TypeAdapter[Any], value: object, name: str, errors: RowErrors
    ) -> str | None:
        key = (name, value)
        try:
            hit = self.items.get(key)
        except TypeError:  # an unhashable JSON value
            hit = None
        if hit is None:
            probe = RowErrors()
            result = _run(adapter, value, name, probe)
            hit = (result, probe.items[0][1] if probe.items else None)
            if len(self.items) >= self.LIMIT:
                self.items.clear()
            with suppress(TypeError):  # an unhashable JSON value is not remembered
                self.items[key] = hit
        if hit[1] is not None:
            errors.add(name, hit[1])
        return hit[0]


def blank(value: object) -> bool:
    return value is None or value == "" or (value.__class__ is str and value.isspace())


def _choices(aliases: Mapping[str, str]) -> str:
    return ", ".join(sorted(set(aliases.values())))


@lru_cache(maxsize=1024)
def _alias_key(value: str) -> str:
    return header_key(value)


def _alias(value: object, aliases: Mapping[str, str], name: str, errors: RowErrors) -> str | None:
    if not isinstance(value, str):
        errors.add(name, "must be one of: " + _choices(aliases))
        return None
    code = aliases.get(_alias_key(value) if len(value) <= 64 else header_key(value))
    if code is None:
        errors.add(name, f"'{value[:40]}' is not one of: " + _choices(aliases))
    return code


def _bool(value: object, errors: RowErrors) -> bool | None:
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


def _phone_text(value: object) -> object:
    """A spreadsheet number lost its leading 0: 912345678 is 0912345678."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = _as_text(value, digits=True)
        return "0" + text if isinstance(text, str) and len(text) == 9 else text
    return value


# Text no database column can hold: NUL (PostgreSQL text refuses it) and lone surrogates
# (not encodable as UTF-8). A row carrying one is rejected, and none of it is stored.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
UNSTORABLE_DETAIL = "a field name or value holds a NUL or an invalid Unicode character"


def unstorable(raw: Mapping[str, object]) -> str | None:
    """The field whose name or text cannot be stored (its name; "row" when the name itself
    is unstorable or not a plain one), or None when the row is clean."""
    text = "".join(itertools.chain(raw.keys(), (v for v in raw.values() if isinstance(v, str))))
    if _UNSTORABLE.search(text) is None:
        return None
    for key, value in raw.items():
        if _UNSTORABLE.search(key):
            return "row"
        if isinstance(value, str) and _UNSTORABLE.search(value):
            return key if PLAIN_NAME.match(key) and len(key) <= 32 else "row"
    return "row"


def plain_names(names: Iterable[str]) -> str:
    """Field names for an error detail: the plain ones quoted, the rest only counted, so a
    detail never carries the caller's markup or unstorable text."""
    names = list(names)
    plain = [n for n in names if PLAIN_NAME.match(n)]
    others = len(names) - len(plain)
    return ", ".join(plain + ([f"{others} other(s)"] if others else []))[:200]


def member_row(
    row_no: int, raw: Mapping[str, object], *, tcvn3: bool = False, memo: Memo | None = None
) -> StagedRow:
    """Validate one member row (field -> raw value; absent keys were not given).

    Returns the staging tuple (STAGE_COLUMNS). Empty `position`/`email`/`phone` clear the
    field; empty `membership`/`status`/`is_leader` count as not given."""
    if (bad := unstorable(raw)) is not None:
        return rejected_row(row_no, "validation_failed", UNSTORABLE_DETAIL, field=bad)
    memo = memo or Memo()
    errors = RowErrors()
    external_id = _as_text(raw.get("external_id"), digits=True)
    shown_id = external_id.strip()[:EXTERNAL_ID_MAX] if isinstance(external_id, str) else None
    if blank(external_id):
        errors.add("external_id", "required")
        external_id = None
    else:
        external_id = _run(_EXTERNAL_ID, external_id, "external_id", errors)

    name = raw.get("full_name")
    if blank(name):
        errors.add("full_name", "required")
        full_name = None
    else:
        full_name = memo.run(_NAME, name, "full_name", errors)
        if full_name is not None and tcvn3:
            full_name = fix_tcvn3_case(full_name)

    code = _as_text(raw.get("unit_code"), digits=True)
    if blank(code):
        errors.add("unit_code", "required")
        unit_code = None
    else:
        unit_code = memo.run(_CODE, code, "unit_code", errors)

    optional = _optional_fields(raw, memo, errors)
    if errors.items:
        detail = "; ".join(f"{f}: {m}" for f, m in errors.items)[:500]
        return (
            row_no,
            shown_id,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            False,
            False,
            False,
            False,
            False,
            False,
            "validation_failed",
            errors.items[0][0],
            detail,
        )
    return (row_no, external_id, full_name, unit_code, *optional, None, None, None)


def _optional_fields(raw: Mapping[str, object], memo: Memo, errors: RowErrors) -> StagedRow:
    """The six optional fields, then whether each was given (STAGE_COLUMNS order)."""
    membership = status = position = email = phone = None
    is_leader: bool | None = None
    has_membership = has_status = has_leader = has_position = has_email = has_phone = False
    value = raw.get("membership")
    if not blank(value):
        membership, has_membership = _alias(value, MEMBERSHIP_ALIASES, "membership", errors), True
    value = raw.get("status")
    if not blank(value):
        status, has_status = _alias(value, STATUS_ALIASES, "status", errors), True
    value = raw.get("is_leader")
    if not blank(value):
        is_leader, has_leader = _bool(value, errors), True
    if "position" in raw:
        has_position = True
        if not blank(value := raw["position"]):
            position = memo.run(_SHORT, value, "position", errors)
    if "email" in raw:
        has_email = True
        if not blank(value := raw["email"]):
            email = _run(_EMAIL, value, "email", errors)
    if "phone" in raw:
        has_phone = True
        if not blank(value := _phone_text(raw["phone"])):
            phone = _run(_PHONE, value, "phone", errors)
    return (
        membership,
        status,
        position,
        is_leader,
        email,
        phone,
        has_membership,
        has_status,
        has_position,
        has_leader,
        has_email,
        has_phone,
    )


def rejected_row(
    row_no: int, code: str, detail: str, external_id: object = None, field: str | None = None
) -> StagedRow:
    shown = (
        external_id.strip()[:EXTERNAL_ID_MAX]
        if isinstance(external_id, str) and not _UNSTORABLE.search(external_id)
        else None
    )
    return (
        row_no,
        shown,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        False,
        False,
        False,
        False,
        False,
        False,
        code,
        field,
        detail[:500],
    )


def object_row(row_no: int, obj: object, memo: Memo | None = None) -> StagedRow:
    if not isinstance(obj, dict):
        return rejected_row(row_no, "validation_failed", "a member row must be a JSON object")
    unknown = sorted(k for k in obj if k not in MEMBER_KEYS)
    if unknown:
        return rejected_row(
            row_no,
            "validation_failed",
            f"unknown field(s): {plain_names(unknown)}",
            obj.get("external_id"),
        )
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


def unit_row(row_no: int, obj: object) -> UnitRow:
    errors = RowErrors()
    if not isinstance(obj, dict):
        return UnitRow(row_no, None, None, None, None, "code", "a unit row must be a JSON object")
    if unstorable(obj) is not None:
        return UnitRow(row_no, None, None, None, None, "code", UNSTORABLE_DETAIL)
    unknown = sorted(k for k in obj if k not in UNIT_KEYS)
    if unknown:
        errors.add(unknown[0], "unknown field")
    raw_code = obj.get("code")
    shown = raw_code.strip()[:64] if isinstance(raw_code, str) else None
    code = _run(_CODE, raw_code, "code", errors) if not blank(raw_code) else None
    if code is None and blank(raw_code):
        errors.add("code", "required")
    name = _run(_UNIT_NAME, obj.get("name"), "name", errors) if not blank(obj.get("name")) else None
    if name is None and blank(obj.get("name")):
        errors.add("name", "required")
    level = None
    if blank(obj.get("level")):
        errors.add("level", "required")
    else:
        level = _alias(obj.get("level"), LEVEL_ALIASES, "level", errors)
    parent = obj.get("parent_code")
    parent_code = None if blank(parent) else _run(_CODE, parent, "parent_code", errors)
    if errors.items:
        detail = "; ".join(f"{f}: {m}" for f, m in errors.items)[:500]
        return UnitRow(row_no, shown, None, None, None, errors.items[0][0], detail)
    return UnitRow(row_no, code, name, level, parent_code)


def validate_mode(value: object) -> str:
    if value not in ("snapshot", "upsert"):
        raise Unprocessable(
            "validation_failed",
            msg("roster.invalid_mode"),
            extra=problem_errors(["body", "mode"], "must be snapshot or upsert", "enum"),
        )
    return str(value)


def validate_scope_code(value: object) -> str | None:
    if value is None:
        return None
    try:
        code: str = _CODE.validate_python(value)
        return code
    except ValidationError as exc:
        raise Unprocessable(
            "validation_failed",
            msg("roster.invalid_scope_unit_code"),
            extra=problem_errors(
                ["body", "scope_unit_code"], str(exc.errors()[0]["msg"]), "value_error"
            ),
        ) from exc
