"""Facebook accounts.

Keys: ``facebook:user:<username>`` from ``/<username>``, ``/pg/<username>``,
``m.me/<username>``; ``facebook:profile:<digits>`` from ``/profile.php?id=N``, ``/<N>``,
``/people/<Name>/<N>``, ``/pages/<Name>/<N>``, ``/p/<Name>-<N>``, ``/<Name-Words>-<N>``;
``facebook:group:<id or name>`` from ``/groups/<id>``. Urls
``https://www.facebook.com/<username>``, ``…/profile.php?id=N``, ``…/groups/<g>``.

Hosts: ``facebook.com`` with ``www.``, ``m.``, ``mbasic.``, ``web.``, ``mobile.``,
``touch.``, ``free.``, ``d.``, ``iphone.`` or a locale (``vi-vn.``); ``fb.com``, ``fb.me``
and ``m.me`` (Messenger uses the same usernames and ids).

* Username: ``[A-Za-z0-9.]{5,50}``, at least 5 characters besides dots, not all digits
  (all digits is a numeric id). Key: lower-cased **and dots removed** (Facebook ignores
  both: ``Some.User`` = ``someuser``).
* Numeric ids: 1–20 digits, no leading zero. Pages, profiles and groups share one
  object-id space and ``profile.php?id=<page id>`` opens the page, so ``/pages/<Name>/<N>``,
  ``/p/<Name>-<N>`` and the old page form ``/<Page-Name>-<N>`` all key as
  ``facebook:profile:<N>``. A username and the numeric id of the same account stay two
  keys: they cannot be linked offline.
* Group names: ``[A-Za-z0-9._-]{1,100}``, lower-cased; dots are kept because it is not
  known that groups ignore them.
* Not accounts: ``home.php``, ``settings``, ``marketplace``, ``gaming``, ``reel``/``reels``,
  ``help``, ``policies``, ``privacy``, ``friends``, ``messages``, ``notifications``, bare
  ``groups``/``pages``/``people``, ``me``, anything ``*.php`` other than ``profile.php``,
  and more (``FB_RESERVED``); posts (``/<user>/posts/<id>``, ``permalink.php``,
  ``story.php``, group posts), ``/watch``, ``/reel/<id>``, ``photo.php``, ``/share/…``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from api.core.i18n import msg
from api.services.canonical.core import (
    ALL_DIGITS,
    NUMERIC_ID,
    Canonical,
    fail,
    only_punctuation,
    tab_only,
)
from api.services.canonical.messages import (
    bad_handle,
    home_page,
    not_account,
    post_link,
    share_link,
    system_page,
    unrecognised,
    video_link,
)
from api.services.canonical.urls import Link

_FB_SUBS = frozenset({"", "www", "m", "mbasic", "web", "mobile", "touch", "free", "d", "iphone"})
_FB_LOCALE = re.compile(r"[a-z]{2}-[a-z]{2}")
_FB_USERNAME = re.compile(r"[A-Za-z0-9.]{5,50}")
_FB_NAME_ID = re.compile(r"(.+)-([1-9][0-9]{4,19})")
_FB_GROUP = re.compile(r"[A-Za-z0-9._\-]{1,100}")
_FB_TABS = frozenset(
    {"posts", "photos", "videos", "reels", "friends", "followers", "following", "mentions"}
    | {"reviews", "events", "community", "map", "likes", "sports", "music", "movies", "books"}
    | {"groups", "photos_by", "photos_albums", "photos_of", "videos_by", "live_videos"}
    | {"services", "shop", "offers", "jobs", "notes", "checkins", "tv", "games", "info"}
)
_FB_CONTENT = frozenset(
    {"posts", "videos", "photos", "photo", "video", "reels", "reel", "permalink", "activity"}
    | {"story", "stories", "live_videos", "notes", "albums", "media"}
)
_FB_MEDIA = frozenset(
    {"videos", "video", "reel", "reels", "live_videos", "photos", "photo", "albums", "media"}
)
_FB_GROUP_TABS = frozenset(
    {"about", "members", "media", "files", "events", "announcements", "featured", "topics"}
    | {"guides", "learning_content", "buy_sell_discussion", "discussion", "photos", "videos"}
    | {"people", "chats", "rooms"}
)
_FB_GROUP_CONTENT = frozenset({"posts", "permalink", "user", "pending_posts", "post_tags"})
_FB_GROUP_RESERVED = frozenset({"feed", "discover", "joins", "create", "search", "notifications"})
_FB_VIDEO = frozenset({"watch", "reel", "reels", "video.php", "videos", "live", "watchparty"})
_FB_POST = frozenset(
    {"permalink.php", "story.php", "photo.php", "photo", "photos", "posts", "media", "notes"}
)
_FB_SHARE = frozenset({"share", "sharer", "sharer.php", "dialog", "l.php"})
FB_RESERVED = frozenset(
    {"home.php", "settings", "marketplace", "gaming", "help", "policies", "privacy", "friends"}
    | {"messages", "notifications", "groups", "pages", "people", "search", "login", "logout"}
    | {"events", "hashtag", "stories", "bookmarks", "saved", "memories", "fundraisers", "jobs"}
    | {"ads", "business", "plugins", "news", "feeds", "games", "legal", "terms", "about"}
    | {"careers", "recover", "checkpoint", "reg", "signup", "directory", "places", "public"}
    | {"me", "mobile", "apps", "developers", "composer", "messenger", "offers", "ufi", "ajax"}
    | {"lite", "onthisday", "pokes", "professional_dashboard", "profile", "findfriends"}
    | {"latest", "campaign", "security", "support", "community", "commerce", "shops"}
    | {"instantgames", "watch", "reel", "reels", "share", "sharer", "dialog", "media", "live"}
    | {"photo", "photos", "posts", "notes", "story", "video", "videos", "permalink", "pg", "p"}
    | {"privacypolicy", "cookies", "policy", "accountquality", "adsmanager", "creatorstudio"}
    | {"coronavirus_info", "climatescienceinfo", "votinginformationcenter", "fbid"}
)


def _fb_profile(number: str) -> Canonical:
    if not NUMERIC_ID.fullmatch(number):
        bad_handle("facebook_id", number)
    return Canonical(
        "facebook",
        f"facebook:profile:{number}",
        f"https://www.facebook.com/profile.php?id={number}",
    )


def _fb_username(name: str) -> Canonical:
    dotless = name.replace(".", "")
    if not _FB_USERNAME.fullmatch(name) or len(dotless) < 5 or ALL_DIGITS.fullmatch(dotless):
        bad_handle("facebook", name)
    key = dotless.lower()
    if key in FB_RESERVED or name.lower().endswith(".php"):
        system_page("facebook", name)
    return Canonical("facebook", f"facebook:user:{key}", f"https://www.facebook.com/{key}")


def _fb_account(first: str, rest: Sequence[str]) -> Canonical:
    """`/<first>/<rest…>` where <first> is a username, a number or an old `Page-Name-<id>`."""
    if rest:
        tab = rest[0].lower()
        if tab in _FB_CONTENT and len(rest) >= 2:
            if tab in _FB_MEDIA:
                video_link("facebook")
            post_link("facebook")
        if not (len(rest) == 1 and (tab in _FB_TABS or tab.startswith("about"))):
            unrecognised("facebook")
    if ALL_DIGITS.fullmatch(first):
        return _fb_profile(first)
    named = _FB_NAME_ID.fullmatch(first)
    if named and "-" in first and any(c.isalpha() for c in named.group(1)):
        return _fb_profile(named.group(2))
    return _fb_username(first)


def _fb_group(segs: Sequence[str]) -> Canonical:
    if len(segs) < 2:
        system_page("facebook", segs[0])
    group, rest = segs[1], segs[2:]
    if group.lower() in _FB_GROUP_RESERVED:
        system_page("facebook", f"groups/{group}")
    if rest:
        tab = rest[0].lower()
        if tab in _FB_GROUP_CONTENT and len(rest) >= 2:
            post_link("facebook")
        if not tab_only(rest, _FB_GROUP_TABS):
            unrecognised("facebook")
    if ALL_DIGITS.fullmatch(group):
        if not NUMERIC_ID.fullmatch(group):
            bad_handle("facebook_id", group)
        key = group
    elif _FB_GROUP.fullmatch(group) and not only_punctuation(group):
        key = group.lower()
    else:
        bad_handle("facebook_group", group)
    return Canonical("facebook", f"facebook:group:{key}", f"https://www.facebook.com/groups/{key}")


def _fb_named_id(segs: Sequence[str]) -> Canonical:
    """`/people/<Name>/<id>` and `/pages/<Name>/<id>`, optionally with one profile tab."""
    if len(segs) >= 3 and ALL_DIGITS.fullmatch(segs[2]) and segs[1].lower() != "category":
        if not tab_only(segs[3:], _FB_TABS):
            unrecognised("facebook")
        return _fb_profile(segs[2])
    if len(segs) == 1:
        system_page("facebook", segs[0])
    unrecognised("facebook")


def from_link(link: Link) -> Canonical:
    if link.domain in ("fb.watch",):
        video_link("facebook")
    if link.domain == "fb.gg":
        system_page("facebook", link.host)
    if link.domain == "facebook.com":
        if link.sub in ("l", "lm"):
            fail(
                msg("canonical.facebook_redirect"),
            )
        if link.sub not in _FB_SUBS and not _FB_LOCALE.fullmatch(link.sub):
            unrecognised("facebook")
    elif link.sub not in ("", "www", "m") or (link.domain == "m.me" and link.sub):
        unrecognised("facebook")
    segs = link.segments
    if not segs:
        home_page("facebook")
    first = segs[0]
    low = first.lower()
    if low == "profile.php":
        ids = set(link.query.get("id", []))
        if len(ids) != 1:
            not_account(
                "facebook",
                msg("canonical.profile_php_without_id"),
            )
        if not tab_only(segs[1:], frozenset()):
            unrecognised("facebook")
        return _fb_profile(ids.pop())
    if low in ("people", "pages"):
        return _fb_named_id(segs)
    if low == "p" and len(segs) == 2:
        named = _FB_NAME_ID.fullmatch(segs[1])
        if named:
            return _fb_profile(named.group(2))
        unrecognised("facebook")
    if low == "pg" and len(segs) >= 2:
        return _fb_account(segs[1], segs[2:])
    if low == "groups":
        return _fb_group(segs)
    if low in _FB_SHARE:
        share_link("facebook")
    if low in _FB_VIDEO:
        video_link("facebook")
    if low in _FB_POST:
        post_link("facebook")
    if low.replace(".", "") in FB_RESERVED or low.endswith(".php"):
        system_page("facebook", first)
    return _fb_account(first, segs[1:])


def from_handle(text: str) -> Canonical:
    return _fb_account(text.removeprefix("@"), ())
