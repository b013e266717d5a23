"""What every platform shares: the result type, the error, and the rules for names.

``Canonical(platform, key, url)``: the key is what uniqueness is enforced on; the url is
a clean https link that canonicalises back to the very same key and url. Everything that
is not an account address raises ``InvalidAccountUrl`` (a ``ValueError``) carrying
a catalog message (``detail_vi``, ``detail_en``); messages.py names them.

Handles are checked on the original characters, ASCII-only where the platform is
ASCII-only, so look-alikes such as the Kelvin sign are not folded into letters. Where a
platform allows letters of any script (YouTube, LinkedIn), ``NameRule`` takes them with
their combining marks. A handle made only of dots/hyphens (``.``, ``..``) is rejected: it
names nothing, and ``.`` would even vanish as a path segment.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import quote

from api.core.i18n import Message

MAX_LENGTH = 2048

PLATFORMS: frozenset[str] = frozenset(
    {
        "facebook",
        "zalo",
        "youtube",
        "tiktok",
        "instagram",
        "x",
        "telegram",
        "threads",
        "linkedin",
        "website",
        "other",
    }
)


class InvalidAccountUrl(ValueError):
    """The value names no account of the platform; ``message`` (a catalog message, also
    as ``detail_vi``/``detail_en``) says why."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render("en"))
        self.message = message

    @property
    def detail_vi(self) -> str:
        return self.message.render("vi")

    @property
    def detail_en(self) -> str:
        return self.message.render("en")


@dataclass(frozen=True, slots=True)
class Canonical:
    platform: str
    key: str
    url: str


def fail(message: Message) -> NoReturn:
    raise InvalidAccountUrl(message)


_UNSHOWN = re.compile(r"[<>\"'`&\x00-\x1f\x7f\ud800-\udfff]")


def shown(text: str) -> str:
    """The caller's text for an error detail: shortened, and without markup or control
    characters (clients show details to people; a detail must not carry a tag)."""
    text = _UNSHOWN.sub("?", text)
    return text if len(text) <= 60 else text[:57] + "…"


NUMERIC_ID = re.compile(r"[1-9][0-9]{0,19}")
ALL_DIGITS = re.compile(r"[0-9]+")


def quote_all(text: str) -> str:
    return quote(text, safe="")


MARKS = frozenset({"Mn", "Mc"})


@dataclass(frozen=True, slots=True)
class NameRule:
    """Letters and digits of any script (with their combining marks), plus `extra`."""

    extra: str
    low: int
    high: int

    def fits(self, text: str) -> bool:
        if not self.low <= len(text) <= self.high or only_punctuation(text):
            return False
        if unicodedata.category(text[0]) in MARKS:  # a mark needs a letter before it
            return False
        return all(c.isalnum() or c in self.extra or unicodedata.category(c) in MARKS for c in text)


def only_punctuation(handle: str) -> bool:
    """`.`, `..`, `-.` and the like: they match the character classes but name nothing."""
    return not handle.strip(".-·")


def tab_only(rest: Sequence[str], tabs: frozenset[str]) -> bool:
    return not rest or (len(rest) == 1 and rest[0].lower() in tabs)


PCHAR_SAFE = "!$&'()*+,;=:@-._~"
