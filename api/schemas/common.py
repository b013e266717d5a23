"""Shared wire-type pieces: strict input models, normalised text types."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
)

from api.core.text_vi import clean_text, normalize_text


class Input(BaseModel):
    """Request bodies: unknown fields are rejected (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def _no_controls(value: str) -> str:
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value) or "\x7f" in value:
        raise ValueError("control characters are not allowed")
    return value


def _normalized_text(value: Any) -> Any:
    """Before the type and length checks: NFC, Ð→Đ, no control characters. Lengths are
    then counted on the stored form (NFD input from macOS is not penalised, and NFC's
    rare lengthenings cannot overflow a column)."""
    return normalize_text(_no_controls(value)) if isinstance(value, str) else value


def _normalized_name(value: Any) -> Any:
    """Like _normalized_text, trimmed, inner whitespace collapsed, zero-width marks dropped."""
    return (
        clean_text(_no_controls(value).translate(_ZERO_WIDTH)) if isinstance(value, str) else value
    )


PersonName = Annotated[
    str, StringConstraints(min_length=1, max_length=200), BeforeValidator(_normalized_name)
]
UnitName = Annotated[
    str, StringConstraints(min_length=1, max_length=300), BeforeValidator(_normalized_name)
]
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=200), BeforeValidator(_normalized_name)
]
LongText = Annotated[str, StringConstraints(max_length=4000), BeforeValidator(_normalized_text)]


Code = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$")
]

_EMAIL_RE = re.compile(
    r"^[^@\s\x00-\x1f\x7f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"
)
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")


def normalize_email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL_RE.match(value):
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
    if not re.fullmatch(r"\+[1-9]\d{7,14}", digits):
        raise ValueError("not a valid phone number")
    return digits


# An aware datetime, stored and echoed in UTC (a naive one is 422).
UtcDatetime = Annotated[AwareDatetime, AfterValidator(lambda v: v.astimezone(UTC))]

Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(normalize_email)]
Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(normalize_phone)]
