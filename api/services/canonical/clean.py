"""Input: the value as pasted, before it is read as a link or a handle.

* At most 2,048 characters after trimming whitespace (and the zero-width characters and BOM
  that copy-paste leaves at the ends). Unicode NFC. Control characters, format characters
  (zero-width, bidi overrides), unassigned code points and backslashes are rejected anywhere;
  spaces inside the value are rejected except in a bare Zalo phone number (``0912 345 678``).
* ``platform`` is one of the eleven codes (trimmed, case-insensitive), or ``None``: then it is
  inferred from the host, and an unknown host is an error (we do not guess between ``website``
  and ``other``, which would give two keys for one site).
"""

from __future__ import annotations

import re
import unicodedata

from api.core.i18n import msg
from api.services.canonical.core import MAX_LENGTH, PLATFORMS, fail, shown

_EDGE_JUNK = " \t\r\n\u00a0\u200b\u200c\u200d\u2060\ufeff"
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_PHONEISH = re.compile(r"\(?\+?[0-9][0-9 ().\-]*")


def check_platform(platform: str | None) -> str | None:
    if platform is None:
        return None
    code = platform.strip().lower()
    if code not in PLATFORMS:
        choices = ", ".join(sorted(PLATFORMS))
        fail(
            msg("canonical.unknown_platform", platform=shown(platform), choices=choices),
        )
    return code


def reject_bad_chars(text: str) -> None:
    for char in text:
        if char == "\\" or unicodedata.category(char) in _BAD_CATEGORIES:
            fail(
                msg("canonical.invalid_character", char=ord(char)),
            )


def clean(value: str, platform: str | None) -> str:
    text = unicodedata.normalize("NFC", value.strip().strip(_EDGE_JUNK).strip())
    if not text:
        fail(msg("canonical.empty"))
    if len(text) > MAX_LENGTH:
        fail(
            msg("canonical.too_long", max_length=MAX_LENGTH),
        )
    reject_bad_chars(text)
    if any(c.isspace() for c in text) and not (platform == "zalo" and _PHONEISH.fullmatch(text)):
        fail(
            msg("canonical.spaces"),
        )
    return text
