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
            f"Nền tảng “{shown(platform)}” không được hỗ trợ; chọn một trong: {choices}.",
            f"Unknown platform “{shown(platform)}”; use one of: {choices}.",
        )
    return code


def reject_bad_chars(text: str) -> None:
    for char in text:
        if char == "\\" or unicodedata.category(char) in _BAD_CATEGORIES:
            fail(
                f"Giá trị chứa ký tự không hợp lệ (U+{ord(char):04X}); hãy dán lại đúng địa chỉ.",
                f"The value contains an invalid character (U+{ord(char):04X}); "
                "paste the address again.",
            )


def clean(value: str, platform: str | None) -> str:
    text = unicodedata.normalize("NFC", value.strip().strip(_EDGE_JUNK).strip())
    if not text:
        fail("Chưa nhập địa chỉ hoặc tên tài khoản.", "No address or handle was given.")
    if len(text) > MAX_LENGTH:
        fail(
            f"Địa chỉ quá dài (tối đa {MAX_LENGTH} ký tự).",
            f"The address is too long (at most {MAX_LENGTH} characters).",
        )
    reject_bad_chars(text)
    if any(c.isspace() for c in text) and not (platform == "zalo" and _PHONEISH.fullmatch(text)):
        fail(
            "Địa chỉ không được chứa khoảng trắng.",
            "The address must not contain spaces.",
        )
    return text
