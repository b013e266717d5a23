"""Threads accounts.

Key ``threads:handle:<lower>`` from ``threads.net/@h``, ``threads.com/@h``; url
``https://www.threads.com/@h``. Handles are Instagram usernames (``[A-Za-z0-9_.]{1,30}``),
lower-cased. ``/post/`` is a post.
"""

from __future__ import annotations

from api.core.i18n import msg
from api.services.canonical.core import Canonical, only_punctuation, tab_only
from api.services.canonical.instagram import IG_USER
from api.services.canonical.messages import (
    bad_handle,
    home_page,
    not_account,
    post_link,
    unrecognised,
)
from api.services.canonical.urls import Link

_TH_TABS = frozenset({"replies", "reposts", "media"})


def _th_handle(raw: str) -> Canonical:
    if not IG_USER.fullmatch(raw) or only_punctuation(raw):
        bad_handle("threads", raw)
    handle = raw.lower()
    return Canonical("threads", f"threads:handle:{handle}", f"https://www.threads.com/@{handle}")


def from_link(link: Link) -> Canonical:
    if link.sub not in ("", "www"):
        unrecognised("threads")
    segs = link.segments
    if not segs:
        home_page("threads")
    first = segs[0]
    if first.startswith("@"):
        rest = segs[1:]
        if rest and rest[0].lower() == "post":
            post_link("threads")
        if not tab_only(rest, _TH_TABS):
            unrecognised("threads")
        return _th_handle(first[1:])
    if first.lower() in ("t", "post"):
        post_link("threads")
    not_account(
        "threads",
        msg("canonical.threads_needs_at"),
    )


def from_handle(text: str) -> Canonical:
    return _th_handle(text.removeprefix("@"))
