"""LinkedIn profiles and company pages.

Keys ``linkedin:in:<lower>`` from ``linkedin.com/in/<slug>`` and
``linkedin:company:<lower>`` from ``linkedin.com/company/<slug>``; urls
``https://www.linkedin.com/in/<s>``, ``/company/<s>``. Hosts ``linkedin.com`` with
``www.``, ``m.`` or a country code (``vn.``). Slugs: ``/in/`` 3–100 and company 1–100 of
letters (any script), digits, ``_``, ``-``; lower-cased. LinkedIn has two namespaces, so
a bare handle is refused: it needs a full link. ``/posts/`` and ``/feed/`` are not
accounts.
"""

from __future__ import annotations

import re
import unicodedata

from api.core.i18n import msg
from api.services.canonical.core import Canonical, NameRule, quote_all
from api.services.canonical.messages import (
    bad_handle,
    home_page,
    not_account,
    post_link,
    share_link,
    system_page,
    unrecognised,
)
from api.services.canonical.urls import Link

_LI_COUNTRY = re.compile(r"[a-z]{2}")
_LI_IN = NameRule("_-", 3, 100)
_LI_COMPANY = NameRule("_-", 1, 100)
_LI_IN_TABS = frozenset({"recent-activity", "details", "overlay"})
_LI_COMPANY_TABS = frozenset(
    {"about", "posts", "jobs", "people", "life", "videos", "events", "insights", "mycompany"}
)
_LI_POST = frozenset({"posts", "pulse"})


def from_link(link: Link) -> Canonical:
    if link.domain == "lnkd.in":
        share_link("linkedin")
    if link.sub not in ("", "www", "m") and not _LI_COUNTRY.fullmatch(link.sub):
        unrecognised("linkedin")
    segs = link.segments
    if not segs:
        home_page("linkedin")
    low = segs[0].lower()
    if low in ("in", "company") and len(segs) >= 2:
        rest = segs[2:]
        tabs = _LI_IN_TABS if low == "in" else _LI_COMPANY_TABS
        if rest and rest[0].lower() not in tabs:
            unrecognised("linkedin")
        slug = unicodedata.normalize("NFC", segs[1].lower())
        name_rule, rule = (_LI_IN, "linkedin") if low == "in" else (_LI_COMPANY, "linkedin_company")
        if not name_rule.fits(slug):
            bad_handle(rule, segs[1])
        return Canonical(
            "linkedin",
            f"linkedin:{low}:{slug}",
            f"https://www.linkedin.com/{low}/{quote_all(slug)}",
        )
    if low in _LI_POST:
        post_link("linkedin")
    if low in ("feed", "search", "jobs", "messaging", "notifications", "mynetwork", "groups"):
        system_page("linkedin", segs[0])
    if low == "pub":
        not_account(
            "linkedin",
            msg("canonical.linkedin_pub"),
        )
    unrecognised("linkedin")


def from_handle(text: str) -> Canonical:
    not_account(
        "linkedin",
        msg("canonical.linkedin_bare"),
    )
