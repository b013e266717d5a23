"""Content links: the canonical form of a link to reported content (a post, video,
page or site), used to recognise two reports of the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from api.core.i18n import msg
from api.services.canonical.account import canonicalize
from api.services.canonical.clean import check_platform, clean
from api.services.canonical.core import (
    PCHAR_SAFE,
    InvalidAccountUrl,
    fail,
    quote_all,
    shown,
)
from api.services.canonical.messages import LABELS
from api.services.canonical.urls import Link, is_bare, parse_link

# Query parameters that identify the content on a platform; every other one (tracking,
# share and session parameters) is dropped from a content link.
_CONTENT_PARAMS: dict[str, frozenset[str]] = {
    "facebook": frozenset({"story_fbid", "fbid", "id", "v", "set", "multi_permalinks"}),
    "youtube": frozenset({"v", "list"}),
    "zalo": frozenset(),
    "tiktok": frozenset(),
    "instagram": frozenset(),
    "x": frozenset(),
    "telegram": frozenset(),
    "threads": frozenset(),
    "linkedin": frozenset(),
}
_TRACKING = re.compile(
    r"^(utm_.*|fbclid|gclid|dclid|msclkid|igshid|igsh|mibextid|si|ref|ref_src|ref_url|_t|"
    r"is_from_webapp|sender_device|share_id|share_app_id|feature|__cft__.*|__tn__|_rdr|rdid)$"
)
# Canonical host per platform for content links.
_CONTENT_HOST: dict[str, str] = {
    "facebook": "www.facebook.com",
    "youtube": "www.youtube.com",
    "tiktok": "www.tiktok.com",
    "instagram": "www.instagram.com",
    "x": "x.com",
    "telegram": "t.me",
    "threads": "www.threads.com",
    "linkedin": "www.linkedin.com",
    "zalo": "zalo.me",
}
# Short-link hosts whose path is the content id on the main host.
_SHORT_HOSTS = {"youtu.be": "youtube", "fb.watch": "facebook"}


@dataclass(frozen=True, slots=True)
class ContentLink:
    platform: str
    url: str  # canonical: https, canonical host, clean path, identifying parameters only
    account_key: str | None  # the account the link names or was posted on, when known


def _account_of(platform: str, link: Link) -> str | None:
    """The account a content link was posted on, when its path says so (a Facebook
    post under /<username>/posts/…, an X status under /<handle>/status/…, a TikTok
    video under /@handle/video/…), else None."""
    if not link.segments and platform != "facebook":
        return None
    candidates: list[str] = []
    if platform == "facebook":
        owner = link.query.get("id", [""])[0]
        if owner:
            candidates.append(f"https://www.facebook.com/profile.php?id={owner}")
    if link.segments:
        candidates.append(
            f"https://{_CONTENT_HOST.get(platform, link.host)}/{quote_all(link.segments[0])}"
        )
    for candidate in candidates:
        try:
            return canonicalize(platform, candidate).key
        except InvalidAccountUrl:
            continue
    return None


def canonical_content(platform: str | None, value: str) -> ContentLink:
    """The canonical form of a link to reported content (a post, video, page or site),
    used to recognise two reports of the same thing. Accepts what `canonicalize` accepts
    for accounts given as links and, beyond it, any public http(s) link: the host is put
    in its canonical form per platform, the fragment and every non-identifying query
    parameter are dropped (the remaining ones sorted), `youtu.be/<id>` becomes
    `youtube.com/watch?v=<id>`, and Facebook's outbound redirect (`l.facebook.com/l.php?u=`)
    is replaced by its target. A bare handle is not a link. Raises `InvalidAccountUrl` for
    what is not a public link.
    """
    code = check_platform(platform)
    text = clean(value, code)
    if is_bare(text, code):
        fail(
            msg("canonical.content_needs_link"),
        )
    link = parse_link(text)
    owner = link.platform
    if owner is None:
        return _site_content(code, text, link)
    if code is not None and code != owner:
        owner_label = LABELS[owner]
        label = LABELS[code]
        fail(
            msg("canonical.other_platform", owner_label=owner_label, label=label),
        )
    if link.port not in (None, 80, 443):
        owner_label = LABELS[owner]
        fail(
            msg("canonical.port", owner_label=owner_label, port=link.port),
        )
    if owner == "facebook" and (link.segments[:1] == ("l.php",) or link.sub in ("l", "lm")):
        return canonical_content(None, _redirect_target(link))
    try:
        account = canonicalize(code, text)
    except InvalidAccountUrl:
        account = None
    if account is not None:
        return ContentLink(account.platform, account.url, account.key)
    return _platform_content(owner, link)


def _site_content(code: str | None, text: str, link: Link) -> ContentLink:
    """A link on a host no platform owns: a website's page, its identifying parameters
    kept (every tracking one dropped)."""
    if code not in (None, "website", "other"):
        label = LABELS[code]
        fail(
            msg("canonical.not_address", host=shown(link.host), label=label),
        )
    owner = code or "website"
    host = (
        link.host[4:] if link.host.startswith("www.") and link.host.count(".") >= 2 else link.host
    )
    port = f":{link.port}" if link.port not in (None, 80, 443) else ""
    params = sorted(
        (k, v) for k, values in link.query.items() if not _TRACKING.match(k) for v in values
    )
    path = "".join("/" + quote(s, safe=PCHAR_SAFE) for s in link.segments)
    query = ("?" + urlencode(params)) if params else ""
    try:
        site_key: str | None = canonicalize(owner, text).key
    except InvalidAccountUrl:
        site_key = None
    return ContentLink(owner, f"https://{host}{port}{path}{query}", site_key)


def _redirect_target(link: Link) -> str:
    """The target of Facebook's outbound redirect (`l.facebook.com/l.php?u=`)."""
    target = link.query.get("u", [""])[0]
    inner = parse_link(clean(target, None)) if target else None
    if inner is None or (inner.platform == "facebook" and inner.segments[:1] == ("l.php",)):
        fail(
            msg("canonical.facebook_redirect_no_target"),
        )
    return target


def _platform_content(owner: str, link: Link) -> ContentLink:
    """A platform's content (a post, a video…): its canonical host, short links expanded,
    only the parameters that identify it, and the account it was posted on."""
    segments, query_map = link.segments, link.query
    if link.domain in _SHORT_HOSTS and segments:
        if link.domain == "youtu.be":
            segments, query_map = (
                ("watch",),
                {"v": [segments[0]], **{k: v for k, v in query_map.items() if k == "list"}},
            )
        else:
            segments = ("watch", *segments)
    elif link.domain in _SHORT_HOSTS or not segments:
        fail(
            msg("canonical.no_content"),
        )
    normalised = Link(link.host, link.domain, link.sub, owner, link.port, segments, query_map)
    account_key = _account_of(owner, normalised)
    if account_key is not None and account_key.startswith("facebook:user:"):
        # /Some.Page/posts/1 and /somepage/posts/1 are one post: the username as keyed.
        segments = (account_key.removeprefix("facebook:user:"), *segments[1:])
    keep = _CONTENT_PARAMS.get(owner, frozenset())
    params = sorted((k, v) for k, values in query_map.items() if k in keep for v in values)
    path = "".join("/" + quote(s, safe=PCHAR_SAFE) for s in segments)
    query = ("?" + urlencode(params)) if params else ""
    return ContentLink(owner, f"https://{_CONTENT_HOST[owner]}{path}{query}", account_key)
