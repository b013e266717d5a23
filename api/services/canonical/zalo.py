"""Zalo accounts.

Keys: ``zalo:phone:+84<9 digits>`` from ``zalo.me/<phone>`` or a bare phone number;
``zalo:oa:<digits>`` from ``zalo.me/<oa id>``, ``oa.zalo.me/<oa id>``;
``zalo:group:<code>`` from ``zalo.me/g/<code>`` (code case kept). Urls
``https://zalo.me/0<9 digits>`` (the form Zalo itself shares), ``https://zalo.me/<oa>``,
``https://zalo.me/g/<code>``. Hosts ``zalo.me`` (``www.``) and ``oa.zalo.me``.

Zalo accounts are Vietnamese mobile numbers. ``0912345678``, ``84912345678``,
``+84912345678``, ``0084…``, ``+84 0912…`` and, in a bare value, ``+84 912 345 678`` /
``0912.345.678`` all become ``+84912345678``: the national number must be 9 digits
starting 3, 5, 7, 8 or 9 (the mobile ranges since 2018). Any other all-digit value of
15–20 digits without a leading zero is an Official Account id (OA ids are 64-bit numbers,
18–19 digits in practice; phone numbers are at most 12). Everything else numeric
(landlines, old 11-digit mobiles, foreign numbers, 11–14-digit numbers) is rejected,
naming both rules. ``zalo.me/g/<code>`` (``[A-Za-z0-9_-]{4,64}``) is a group;
``zalo.me/s/…`` is a mini app. The phone is personal data: the key is what the spec asks
for (E.164).
"""

from __future__ import annotations

import re

from api.core.i18n import msg
from api.services.canonical.core import Canonical
from api.services.canonical.messages import bad_handle, home_page, not_account, unrecognised
from api.services.canonical.urls import Link

_ZALO_GROUP = re.compile(r"[A-Za-z0-9_\-]{4,64}")
_ZALO_OA = re.compile(r"[1-9][0-9]{14,19}")
_VN_MOBILE = re.compile(r"[35789][0-9]{8}")
_PHONE_SEPARATORS = re.compile(r"[ ().\-]")


def vn_mobile(text: str) -> str | None:
    """The national 9-digit number of a Vietnamese mobile, or None."""
    if text.startswith("+"):
        rest = text[1:]
        if not rest.startswith("84"):
            return None
        rest = rest[2:]
    elif text.startswith("0084") and len(text) > 12:
        rest = text[4:]
    elif text.startswith("84") and len(text) in (11, 12):
        rest = text[2:]
    elif text.startswith("0"):
        rest = text[1:]
    else:
        return None
    if len(rest) == 10 and rest.startswith("0"):  # "+84 0912…": the trunk 0 written anyway
        rest = rest[1:]
    return rest if _VN_MOBILE.fullmatch(rest) else None


def _zalo_number(text: str) -> Canonical:
    if re.fullmatch(r"\+?[0-9]+", text):
        national = vn_mobile(text)
        if national:
            return Canonical("zalo", f"zalo:phone:+84{national}", f"https://zalo.me/0{national}")
        if _ZALO_OA.fullmatch(text):
            return Canonical("zalo", f"zalo:oa:{text}", f"https://zalo.me/{text}")
    bad_handle("zalo", text)


def from_link(link: Link) -> Canonical:
    segs = link.segments
    if link.domain != "zalo.me":
        unrecognised("zalo")
    if link.sub == "oa":
        if len(segs) == 1 and _ZALO_OA.fullmatch(segs[0]):
            return _zalo_number(segs[0])
        unrecognised("zalo")
    if link.sub not in ("", "www"):
        unrecognised("zalo")
    if not segs:
        home_page("zalo")
    low = segs[0].lower()
    if low == "g":
        if len(segs) != 2 or not _ZALO_GROUP.fullmatch(segs[1]):
            bad_handle("zalo_group", "/".join(segs[1:]))
        code = segs[1]
        return Canonical("zalo", f"zalo:group:{code}", f"https://zalo.me/g/{code}")
    if low == "s":
        not_account(
            "zalo",
            msg("canonical.zalo_mini_app"),
        )
    if len(segs) != 1:
        unrecognised("zalo")
    return _zalo_number(segs[0])


def from_handle(text: str) -> Canonical:
    return _zalo_number(_PHONE_SEPARATORS.sub("", text.removeprefix("@")))
