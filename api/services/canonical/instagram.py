"""Instagram accounts.

Key ``instagram:user:<lower>`` from ``instagram.com/<user>``, ``instagr.am/<user>``,
``/_u/<user>``; url ``https://www.instagram.com/<u>``. Hosts ``instagram.com`` (``www.``,
``m.``) and ``instagr.am``. Usernames ``[A-Za-z0-9_.]{1,30}`` (Threads uses the same),
lower-cased. Posts (``/p/``) and reels (``/reel/``) are not accounts.
"""

from __future__ import annotations

import re

from api.core.i18n import msg
from api.services.canonical.core import Canonical, only_punctuation, tab_only
from api.services.canonical.messages import (
    bad_handle,
    home_page,
    not_account,
    post_link,
    system_page,
    unrecognised,
    video_link,
)
from api.services.canonical.urls import Link

IG_USER = re.compile(r"[A-Za-z0-9_.]{1,30}")
_IG_TABS = frozenset(
    {"tagged", "reels", "guides", "channel", "saved", "feed", "followers", "following"}
    | {"related_profiles", "igtv"}
)
_IG_POST = frozenset({"p", "tv"})
_IG_VIDEO = frozenset({"reel", "reels"})
IG_RESERVED = frozenset(
    {"explore", "stories", "accounts", "direct", "about", "legal", "developer", "web", "emails"}
    | {"challenge", "session", "oauth", "privacy", "terms", "ar", "graphql", "api", "static"}
    | {"s", "nametag", "create", "lite", "topics", "directory", "locations", "invites"}
    | {"your_activity", "press", "blog", "download", "login", "signup", "help", "business"}
)


def _ig_user(raw: str) -> Canonical:
    if not IG_USER.fullmatch(raw) or only_punctuation(raw):
        bad_handle("instagram", raw)
    user = raw.lower()
    if user in IG_RESERVED or user in _IG_POST or user in _IG_VIDEO or user == "_u":
        system_page("instagram", raw)
    return Canonical("instagram", f"instagram:user:{user}", f"https://www.instagram.com/{user}")


def from_link(link: Link) -> Canonical:
    if link.sub not in ("", "www", "m"):
        unrecognised("instagram")
    segs = link.segments
    if segs and segs[0].lower() == "_u" and len(segs) >= 2:
        segs = segs[1:]
    if not segs:
        home_page("instagram")
    low = segs[0].lower()
    if low in _IG_POST:
        post_link("instagram")
    if low in _IG_VIDEO:
        video_link("instagram")
    if low == "stories":
        not_account(
            "instagram",
            msg("canonical.story"),
        )
    if low in IG_RESERVED:
        system_page("instagram", segs[0])
    rest = segs[1:]
    if rest and rest[0].lower() in _IG_POST:
        post_link("instagram")
    if rest and rest[0].lower() in _IG_VIDEO and len(rest) >= 2:
        video_link("instagram")
    if not tab_only(rest, _IG_TABS):
        unrecognised("instagram")
    return _ig_user(segs[0])


def from_handle(text: str) -> Canonical:
    return _ig_user(text.removeprefix("@"))
