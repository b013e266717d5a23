"""``canonicalize(platform, value)``: a URL, a scheme-less URL or a bare handle → the
account's ``Canonical(platform, key, url)``.

The value is cleaned (clean.py), read as a bare handle or a link (urls.py), and handed to
the module of the platform that owns the host. A platform host given with another
platform (platform=youtube, url on facebook.com) is a mismatch. So is a platform host
declared as ``website`` or ``other``: it would dodge the platform's duplicate check;
declare it under its platform. On platform hosts only ports 80/443 (or none) are
accepted.
"""

from __future__ import annotations

from collections.abc import Callable

from api.core.i18n import msg
from api.services.canonical import (
    facebook,
    instagram,
    linkedin,
    telegram,
    threads,
    tiktok,
    website,
    x,
    youtube,
    zalo,
)
from api.services.canonical.clean import check_platform, clean
from api.services.canonical.core import Canonical, fail, shown
from api.services.canonical.messages import EXAMPLES, LABELS
from api.services.canonical.urls import Link, is_bare, parse_link

_FROM_LINK: dict[str, Callable[[Link], Canonical]] = {
    "facebook": facebook.from_link,
    "zalo": zalo.from_link,
    "youtube": youtube.from_link,
    "tiktok": tiktok.from_link,
    "instagram": instagram.from_link,
    "x": x.from_link,
    "telegram": telegram.from_link,
    "threads": threads.from_link,
    "linkedin": linkedin.from_link,
}

_FROM_HANDLE: dict[str, Callable[[str], Canonical]] = {
    "facebook": facebook.from_handle,
    "zalo": zalo.from_handle,
    "youtube": youtube.from_handle,
    "tiktok": tiktok.from_handle,
    "instagram": instagram.from_handle,
    "x": x.from_handle,
    "telegram": telegram.from_handle,
    "threads": threads.from_handle,
    "linkedin": linkedin.from_handle,
}


def canonicalize(platform: str | None, value: str) -> Canonical:
    """The canonical key and url of the account `value` names on `platform`.

    `platform` None means "infer from the link's host". Raises `InvalidAccountUrl`, with
    Vietnamese and English details, for anything that is not an account address.
    """
    code = check_platform(platform)
    text = clean(value, code)
    if is_bare(text, code):
        if code is None:
            fail(
                msg("canonical.choose_platform"),
            )
        return _FROM_HANDLE[code](text)
    link = parse_link(text)
    owner = link.platform
    if owner is None:
        if code is None:
            fail(
                msg("canonical.unknown_host", host=shown(link.host)),
            )
        if code not in ("website", "other"):
            label = LABELS[code]
            example = EXAMPLES[code]
            fail(
                msg(
                    "canonical.not_address_example",
                    host=shown(link.host),
                    label=label,
                    example=example,
                ),
            )
        return website.from_link(code, link)
    owner_label = LABELS[owner]
    if code in ("website", "other"):
        fail(
            msg("canonical.declare_with_owner", owner_label=owner_label, owner=owner),
        )
    if code is not None and code != owner:
        label = LABELS[code]
        fail(
            msg("canonical.other_platform_fix", owner_label=owner_label, label=label),
        )
    if link.port not in (None, 80, 443):
        fail(
            msg("canonical.port", owner_label=owner_label, port=link.port),
        )
    return _FROM_LINK[owner](link)
