"""Telegram accounts.

Keys: ``telegram:handle:<lower>`` from ``t.me/<name>``, ``t.me/s/<name>``, ``<name>.t.me``,
``telegram.me``/``telegram.dog``; ``telegram:invite:<code>`` from ``t.me/+<code>``,
``t.me/joinchat/<code>`` (one hash, case kept); ``telegram:phone:+<digits>`` from
``t.me/+<phone number>`` (all digits after the ``+``; a Vietnamese mobile is normalised as
for Zalo). Urls ``https://t.me/<h>``, ``https://t.me/+<code>``. Handles
``[A-Za-z0-9_]{5,32}``, lower-cased. ``t.me/<name>/<n>`` is a post.
"""

from __future__ import annotations

import re

from api.services.canonical.core import ALL_DIGITS, Canonical
from api.services.canonical.messages import (
    bad_handle,
    home_page,
    post_link,
    system_page,
    unrecognised,
)
from api.services.canonical.urls import Link
from api.services.canonical.zalo import vn_mobile

_TG_HANDLE = re.compile(r"[A-Za-z0-9_]{5,32}")
_TG_INVITE = re.compile(r"[A-Za-z0-9_\-]{5,64}")
_TG_PHONE = re.compile(r"[1-9][0-9]{6,14}")
# Link routes of t.me (not usernames); official channels such as t.me/telegram stay valid.
TG_RESERVED = frozenset(
    {"addstickers", "addemoji", "addtheme", "addlist", "share", "proxy", "socks", "iv", "bg"}
    | {"setlanguage", "login", "c", "boost", "invoice", "confirmphone", "contact", "m", "nft"}
    | {"giftcode", "k", "z", "a", "web", "dl", "joinchat", "s"}
)


def _tg_handle(raw: str) -> Canonical:
    if not _TG_HANDLE.fullmatch(raw):
        bad_handle("telegram", raw)
    handle = raw.lower()
    if handle in TG_RESERVED:
        system_page("telegram", raw)
    return Canonical("telegram", f"telegram:handle:{handle}", f"https://t.me/{handle}")


def _tg_invite(code: str) -> Canonical:
    if not _TG_INVITE.fullmatch(code):
        bad_handle("telegram_invite", code)
    return Canonical("telegram", f"telegram:invite:{code}", f"https://t.me/+{code}")


def from_link(link: Link) -> Canonical:
    if link.domain == "telegram.org":
        unrecognised("telegram")
    segs = link.segments
    if link.sub not in ("", "www"):
        if link.domain != "t.me" or "." in link.sub or segs:
            unrecognised("telegram")
        return _tg_handle(link.sub)  # <name>.t.me
    if segs and segs[0].lower() == "s" and len(segs) >= 2:
        segs = segs[1:]
    if not segs:
        home_page("telegram")
    first = segs[0]
    low = first.lower()
    if first.startswith("+"):
        if len(segs) != 1:
            unrecognised("telegram")
        code = first[1:]
        if ALL_DIGITS.fullmatch(code):
            if not _TG_PHONE.fullmatch(code):
                bad_handle("telegram_phone", first)
            national = vn_mobile(first)
            number = f"84{national}" if national else code
            return Canonical("telegram", f"telegram:phone:+{number}", f"https://t.me/+{number}")
        return _tg_invite(code)
    if low == "joinchat":
        if len(segs) != 2:
            unrecognised("telegram")
        return _tg_invite(segs[1])
    if low in TG_RESERVED:
        system_page("telegram", first)
    if len(segs) >= 2:
        if ALL_DIGITS.fullmatch(segs[1]):
            post_link("telegram")
        unrecognised("telegram")
    return _tg_handle(first)


def from_handle(text: str) -> Canonical:
    return _tg_handle(text.removeprefix("@"))
