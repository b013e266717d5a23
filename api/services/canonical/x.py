"""X (Twitter) accounts.

Key ``x:handle:<lower>`` from ``x.com/<h>``, ``twitter.com/<h>``, ``twitter.com/#!/<h>``;
url ``https://x.com/<h>``. Hosts ``x.com``/``twitter.com`` (``www.``, ``mobile.``,
``m.``). Handles ``[A-Za-z0-9_]{1,15}``, lower-cased. ``x.com/<h>/status/<id>`` is a post.
"""

from __future__ import annotations

import re

from api.services.canonical.core import Canonical, tab_only
from api.services.canonical.messages import (
    bad_handle,
    home_page,
    post_link,
    share_link,
    system_page,
    unrecognised,
)
from api.services.canonical.urls import Link

_X_HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}")
_X_TABS = frozenset(
    {"with_replies", "media", "likes", "highlights", "articles", "followers", "following"}
    | {"verified_followers", "followers_you_follow", "superfollows", "affiliates", "photo"}
    | {"header_photo", "communities", "lists"}
)
# Only routes of the site itself; real accounts such as @x, @premium or @verified stay valid.
X_RESERVED = frozenset(
    {"home", "search", "explore", "i", "intent", "notifications", "messages", "settings"}
    | {"login", "logout", "signup", "tos", "privacy", "compose", "hashtag", "share", "account"}
    | {"who_to_follow", "download", "en", "rules", "bookmarks", "oauth", "search-advanced"}
    | {"personalization", "jobs"}
)


def _x_handle(raw: str) -> Canonical:
    if not _X_HANDLE.fullmatch(raw):
        bad_handle("x", raw)
    handle = raw.lower()
    if handle in X_RESERVED:
        system_page("x", raw)
    return Canonical("x", f"x:handle:{handle}", f"https://x.com/{handle}")


def from_link(link: Link) -> Canonical:
    if link.domain == "t.co":
        share_link("x")
    if link.sub not in ("", "www", "mobile", "m"):
        unrecognised("x")
    segs = link.segments
    if not segs:
        home_page("x")
    if segs[0].lower() in X_RESERVED:
        system_page("x", segs[0])
    rest = segs[1:]
    if rest and rest[0].lower() in ("status", "statuses"):
        post_link("x")
    if not tab_only(rest, _X_TABS):
        unrecognised("x")
    return _x_handle(segs[0])


def from_handle(text: str) -> Canonical:
    return _x_handle(text.removeprefix("@"))
