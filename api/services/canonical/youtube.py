"""YouTube channels.

Keys: ``youtube:handle:<lower>`` from ``/@handle`` (or a bare ``@handle``/``handle``);
``youtube:channel:UC…`` from ``/channel/UC…`` (24 characters, case kept: ids are
case-sensitive), or a bare ``UC…`` id; ``youtube:c:<lower>`` from ``/c/<name>`` and the
legacy ``/<name>``; ``youtube:user:<lower>`` from ``/user/<name>``. Urls
``https://www.youtube.com/@h``, ``/channel/UC…``, ``/c/<n>``, ``/user/<n>``. Hosts
``youtube.com`` with ``www.``, ``m.``, ``music.``.

* Handle: 3–30 of letters (any script, with their combining marks: Hindi and Thai vowel
  signs are marks), digits, ``_``, ``-``, ``.``, ``·``; lower-cased.
* Channel id: ``UC`` + 22 base64url characters, the last one of ``A Q g w`` (the id is 128
  bits, so the last character carries two zero bits).
* ``/c/`` and ``/user/`` names: 1–100 letters, digits, ``_ - .``; lower-cased. ``/c/x``,
  ``/user/x`` and ``/@x`` can be different channels, so they are different keys. The
  legacy ``youtube.com/<name>`` resolves to the custom URL first, so it keys as
  ``youtube:c:<name>``.
* Channel tabs (``/videos``, ``/featured``, ``/about``, ``/shorts``, ``/streams``,
  ``/playlists``, ``/community``, ``/live``…) are stripped. ``/watch``, ``youtu.be``,
  ``/shorts/<id>``, ``/live/<id>`` and playlists are not channels.
"""

from __future__ import annotations

import re
import unicodedata

from api.services.canonical.core import Canonical, NameRule, quote_all, tab_only
from api.services.canonical.messages import (
    bad_handle,
    home_page,
    playlist_link,
    system_page,
    unrecognised,
    video_link,
)
from api.services.canonical.urls import Link

_YT_SUBS = frozenset({"", "www", "m", "music"})
_YT_HANDLE = NameRule("_.-·", 3, 30)
_YT_CHANNEL = re.compile(r"UC[A-Za-z0-9_\-]{21}[AQgw]")
_YT_NAME = NameRule("_.-", 1, 100)
_YT_LEGACY = NameRule("_-", 1, 100)  # no dots: keeps robots.txt, sw.js… out
_YT_TABS = frozenset(
    {"videos", "featured", "about", "shorts", "streams", "playlists", "community", "channels"}
    | {"live", "podcasts", "releases", "posts", "store", "courses", "membership", "search"}
    | {"games", "discussion"}
)
_YT_VIDEO = frozenset({"watch", "shorts", "embed", "live", "v", "e", "clip"})
_YT_RESERVED = frozenset(
    {"results", "feed", "hashtag", "post", "attribution_link", "redirect", "signin", "logout"}
    | {"account", "premium", "gaming", "music", "kids", "trending", "about", "t", "ads"}
    | {"creators", "upload", "s", "api", "error", "movies", "sports", "podcasts", "playables"}
    | {"youtubei", "howyoutubeworks", "new", "oops", "storefront", "channel", "c", "user"}
    | {"playlist", "source", "subscription_manager", "verify_age", "supported_browsers"}
    | {"index", "home", "explore", "news", "learning", "fashion", "courses", "jobs"}
)


def _yt_handle(raw: str) -> Canonical:
    handle = unicodedata.normalize("NFC", raw.lower())
    if not _YT_HANDLE.fits(handle):
        bad_handle("youtube", raw)
    return Canonical(
        "youtube", f"youtube:handle:{handle}", f"https://www.youtube.com/@{quote_all(handle)}"
    )


def _yt_channel(channel: str) -> Canonical:
    if not _YT_CHANNEL.fullmatch(channel):
        bad_handle("youtube_channel", channel)
    return Canonical(
        "youtube", f"youtube:channel:{channel}", f"https://www.youtube.com/channel/{channel}"
    )


def _yt_named(kind: str, raw: str, rule: NameRule = _YT_NAME) -> Canonical:
    name = unicodedata.normalize("NFC", raw.lower())
    if not rule.fits(name):
        bad_handle("youtube_name", raw)
    return Canonical(
        "youtube", f"youtube:{kind}:{name}", f"https://www.youtube.com/{kind}/{quote_all(name)}"
    )


def from_link(link: Link) -> Canonical:
    if link.domain in ("youtu.be", "youtube-nocookie.com"):
        video_link("youtube")
    if link.sub not in _YT_SUBS:
        unrecognised("youtube")
    segs = link.segments
    if not segs:
        if "v" in link.query:
            video_link("youtube")
        home_page("youtube")
    first = segs[0]
    low = first.lower()
    if first.startswith("@"):
        if not tab_only(segs[1:], _YT_TABS):
            unrecognised("youtube")
        return _yt_handle(first[1:])
    if low in ("channel", "c", "user") and len(segs) >= 2:
        if not tab_only(segs[2:], _YT_TABS):
            unrecognised("youtube")
        if low == "channel":
            return _yt_channel(segs[1])
        return _yt_named(low, segs[1])
    if low in _YT_VIDEO:
        video_link("youtube")
    if low == "playlist":
        playlist_link("youtube")
    if low in _YT_RESERVED:
        system_page("youtube", first)
    if not tab_only(segs[1:], _YT_TABS):
        unrecognised("youtube")
    return _yt_named("c", first, _YT_LEGACY)


def from_handle(text: str) -> Canonical:
    if text.startswith("@"):
        return _yt_handle(text[1:])
    if _YT_CHANNEL.fullmatch(text):
        return _yt_channel(text)
    return _yt_handle(text)
