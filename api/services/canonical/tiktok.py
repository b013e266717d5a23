"""TikTok accounts.

Keys: ``tiktok:handle:<lower>`` from ``tiktok.com/@handle`` (``[A-Za-z0-9_.]{2,24}``);
``tiktok:short:<code>`` from ``vm.tiktok.com/<code>``, ``vt.tiktok.com/<code>``. Urls
``https://www.tiktok.com/@h``, ``https://vm.tiktok.com/<code>``. Hosts ``tiktok.com``
with ``www.``, ``m.``; ``vm.``/``vt.`` are short links.

Short links (code ``[A-Za-z0-9]{5,20}``, case kept) cannot be resolved offline, so they
are kept as they are; vm and vt serve one code space and the url uses ``vm.``.
``www.tiktok.com/t/<code>`` share links are rejected (open and copy), and so are videos
(``/@h/video/<id>``).
"""

from __future__ import annotations

import re

from api.core.i18n import msg
from api.services.canonical.core import Canonical, only_punctuation
from api.services.canonical.messages import (
    bad_handle,
    home_page,
    not_account,
    share_link,
    unrecognised,
    video_link,
)
from api.services.canonical.urls import Link

_TT_HANDLE = re.compile(r"[A-Za-z0-9_.]{2,24}")
_TT_SHORT = re.compile(r"[A-Za-z0-9]{5,20}")
_TT_VIDEO = frozenset({"video", "photo", "v", "embed", "live", "music"})


def _tt_handle(raw: str) -> Canonical:
    if not _TT_HANDLE.fullmatch(raw) or only_punctuation(raw):
        bad_handle("tiktok", raw)
    handle = raw.lower()
    return Canonical("tiktok", f"tiktok:handle:{handle}", f"https://www.tiktok.com/@{handle}")


def from_link(link: Link) -> Canonical:
    segs = link.segments
    if link.sub in ("vm", "vt"):
        if not segs:
            home_page("tiktok")
        if len(segs) != 1 or not _TT_SHORT.fullmatch(segs[0]):
            bad_handle("tiktok_short", "/".join(segs))
        code = segs[0]
        return Canonical("tiktok", f"tiktok:short:{code}", f"https://vm.tiktok.com/{code}")
    if link.sub not in ("", "www", "m"):
        unrecognised("tiktok")
    if not segs:
        home_page("tiktok")
    first = segs[0]
    if first.startswith("@"):
        rest = segs[1:]
        if rest and rest[0].lower() in _TT_VIDEO:
            video_link("tiktok")
        if rest:
            unrecognised("tiktok")
        return _tt_handle(first[1:])
    low = first.lower()
    if low == "t":
        share_link("tiktok")
    if low in _TT_VIDEO:
        video_link("tiktok")
    not_account(
        "tiktok",
        msg("canonical.tiktok_needs_at"),
    )


def from_handle(text: str) -> Canonical:
    return _tt_handle(text.removeprefix("@"))
