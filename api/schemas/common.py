"""Shared wire-type pieces: strict input models, normalised text types."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    JsonValue,
    StringConstraints,
    TypeAdapter,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from api.core.text_vi import clean_text, normalize_text

# How request text is stripped, shared by request bodies and by every other entrance that
# validates the same fields (roster rows: api/services/roster/rows.py).
STRIP_CONFIG = ConfigDict(str_strip_whitespace=True)


class Input(BaseModel):
    """Request bodies: unknown fields are rejected (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", **STRIP_CONFIG)


def field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """A validator for one field of a request model, exactly as the model validates it
    (its type, constraints and validators, and `Input`'s stripping). Another entrance that
    accepts the same value (a roster row for `MemberCreate`, a snapshot unit for
    `UnitCreate`) validates it with this, so the two cannot drift apart."""
    info = model.model_fields[name]
    field_type: Any = (
        Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    )
    return TypeAdapter(field_type, config=STRIP_CONFIG)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Zero-width marks, dropped from short labels.
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# Invisible and bidirectional controls, refused in names and codes (issue 14): they can
# make "Nguyễn \u202eThị" display as another name. Zero-width marks, LRM/RLM/ALM,
# embeddings and overrides, isolates, word joiner and invisible operators, BOM.
INVISIBLE_RANGES = r"\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_INVISIBLE = re.compile(f"[{INVISIBLE_RANGES}]")
# What Python's str.isspace(), str.strip() and `\s` take for whitespace, as a regex class
# body: the documented patterns then mean the same in every regex engine (ECMA's `\s`
# differs).
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


@dataclass(frozen=True, slots=True)
class Text:
    """Free text (`Annotated[str, Text(...)]`): no control characters but tab (and line
    breaks when `multiline`), stored NFC with Ð→Đ and trimmed; `collapse` also folds
    inner whitespace to one space, `drop_zero_width` removes zero-width marks (names).
    Lengths count characters in NFC (NFD input from macOS is not penalised) before
    trimming, which is what the document's maxLength says. Its pattern says the rest: no
    control characters and, when a value is required, at least one character that is
    neither blank nor dropped."""

    max_length: int
    min_length: int = 0
    multiline: bool = True
    collapse: bool = False
    drop_zero_width: bool = False
    no_invisible: bool = False

    def _before(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        allowed = "\t\n\r" if self.multiline else "\t"
        if any((c < " " and c not in allowed) or c == "\x7f" for c in value):
            raise PydanticCustomError("value_error", "control characters are not allowed")
        if self.no_invisible and (found := _INVISIBLE.search(value)):
            raise PydanticCustomError(
                "value_error",
                "invisible or bidirectional control characters are not allowed (U+{code})",
                {"code": f"{ord(found.group()):04X}"},
            )
        value = normalize_text(value)
        if len(value) > self.max_length:
            raise PydanticCustomError(
                "string_too_long",
                "String should have at most {max_length} characters",
                {"max_length": self.max_length},
            )
        if self.drop_zero_width:
            value = value.translate(dict.fromkeys(map(ord, _ZERO_WIDTH)))
        return clean_text(value) if self.collapse else value

    @property
    def pattern(self) -> str:
        invisible = INVISIBLE_RANGES if self.no_invisible else ""
        any_char = (
            rf"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f{invisible}]"
            if self.multiline
            else rf"[^\x00-\x08\x0a-\x1f\x7f{invisible}]"
        )
        if not self.min_length:
            return f"^{any_char}*$"
        dropped = r"\u200b-\u200d\u2060\ufeff" if self.drop_zero_width else ""
        return f"^{any_char}*[^\\x00-\\x1f\\x7f{_SPACE}{dropped}{invisible}]{any_char}*$"

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        constraints = StringConstraints(
            min_length=self.min_length or None, max_length=self.max_length, pattern=self.pattern
        )
        return handler(Annotated[source, constraints, BeforeValidator(self._before)])


PersonName = Annotated[str, Text(200, min_length=1, collapse=True, no_invisible=True)]
UnitName = Annotated[str, Text(300, min_length=1, collapse=True, no_invisible=True)]
ShortText = Annotated[str, Text(200, min_length=1, collapse=True, drop_zero_width=True)]
LongText = Annotated[str, Text(4000)]


# Somewhere a character that is not blank: input is trimmed, so a blank value is empty.
NONBLANK_PATTERN = f"[^{_SPACE}]"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$"
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=CODE_PATTERN)]

EMAIL_PATTERN = (
    rf"^[^@{_SPACE}\x00-\x1f\x7f]{{1,64}}@[A-Za-z0-9](?:[A-Za-z0-9-]{{0,62}}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"
)
_EMAIL_RE = re.compile(EMAIL_PATTERN)
# A phone number as normalize_phone takes it, separators (blanks . ( ) -) anywhere: +E.164,
# 00 + E.164, a Vietnamese 0… number, or 84 and nine digits.
_SEP = rf"[{_SPACE}.()-]*"
_DIGITS = rf"(?:[0-9]{_SEP})"
PHONE_PATTERN = (
    rf"^{_SEP}(?:\+{_SEP}[1-9]{_SEP}{_DIGITS}{{7,14}}|0{_SEP}0{_SEP}[1-9]{_SEP}{_DIGITS}{{7,14}}"
    rf"|0{_SEP}[1-9]{_SEP}{_DIGITS}{{5,12}}|8{_SEP}4{_SEP}{_DIGITS}{{9}})$"
)
_PHONE_SEPARATORS = re.compile(f"[{_SPACE}.()-]")


def normalize_email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL_RE.fullmatch(value):
        raise ValueError("not a valid e-mail address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalize_phone(value: str) -> str:
    """E.164: '0912 345 678' and '84912345678' become '+84912345678'."""
    digits = _PHONE_SEPARATORS.sub("", value)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0"):
        digits = "+84" + digits[1:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "+" + digits
    if not re.fullmatch(r"\+[1-9][0-9]{7,14}", digits):
        raise ValueError("not a valid phone number")
    return digits


# RFC 3339 as the document promises (`format: date-time` / `date`): pydantic on its own
# also takes Unix timestamps ("0.5", 1700000000) and a date-time where a date is due.
_RFC3339_DATETIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _rfc3339_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339_DATETIME.match(value):
        raise ValueError(
            "must be an RFC 3339 date-time with an offset, e.g. 2025-01-31T08:00:00+07:00"
        )
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _in_range(value: datetime) -> datetime:
    """Instants from 1900 to 9000 only: 0001-01-01T00:00+14:00 is before year 1 in UTC
    (converting it overflows), and periods computed from an edge value would too."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not _EARLIEST <= utc < _LATEST:
        raise PydanticCustomError("datetime_range", "must lie between 1900 and 9000 (UTC)")
    return value


# An aware datetime given as RFC 3339 (a naive one is 422) between 1900 and 9000;
# UtcDatetime is also stored and echoed in UTC.
Rfc3339Datetime = Annotated[
    AwareDatetime, BeforeValidator(_rfc3339_datetime), AfterValidator(_in_range)
]
UtcDatetime = Annotated[Rfc3339Datetime, AfterValidator(lambda v: v.astimezone(UTC))]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]

Email = Annotated[
    str, StringConstraints(max_length=254, pattern=EMAIL_PATTERN), AfterValidator(normalize_email)
]
Phone = Annotated[
    str, StringConstraints(max_length=32, pattern=PHONE_PATTERN), AfterValidator(normalize_phone)
]


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omittable(**kwargs: Any) -> Any:
    """A PATCH field that may be left out but not sent as null (the service answers 422):
    declare it `T | SkipJsonSchema[None] = omittable()`, so the document says T."""
    return Field(default=None, json_schema_extra=_without_default, **kwargs)


_NULL: JsonDict = {"type": "null"}


def exactly_one(*fields: str) -> list[JsonValue]:
    """`anyOf` branches (a model's json_schema_extra) saying that exactly one of `fields`
    is given, null counting as not given, as the service checks it."""
    return [
        {
            "properties": {f: {"not": _NULL} if f == given else _NULL for f in fields},
            "required": [given],
        }
        for given in fields
    ]


def at_most_one(*fields: str) -> list[JsonValue]:
    """`anyOf` branches saying that at most one of `fields` is given (not null)."""
    return [{"properties": {f: _NULL for f in fields if f != given}} for given in fields]
