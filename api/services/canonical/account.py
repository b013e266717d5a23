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
                "Hãy chọn nền tảng, hoặc nhập đầy đủ liên kết tới tài khoản.",
                "Choose the platform, or give the full link to the account.",
            )
        return _FROM_HANDLE[code](text)
    link = parse_link(text)
    owner = link.platform
    if owner is None:
        if code is None:
            fail(
                f"Không xác định được nền tảng của “{shown(link.host)}”; hãy chọn nền tảng "
                "(website hoặc other cho trang web riêng).",
                f"Cannot tell the platform of “{shown(link.host)}”; choose one "
                "(website or other for a site of its own).",
            )
        if code not in ("website", "other"):
            vi, en = LABELS[code]
            ex_vi, ex_en = EXAMPLES[code]
            fail(
                f"“{shown(link.host)}” không phải địa chỉ {vi}; địa chỉ {vi} có dạng {ex_vi}.",
                f"“{shown(link.host)}” is not a {en} address; {en} addresses look like {ex_en}.",
            )
        return website.from_link(code, link)
    owner_vi, owner_en = LABELS[owner]
    if code in ("website", "other"):
        fail(
            f"Đây là liên kết {owner_vi}; hãy khai báo với nền tảng “{owner}” để hệ thống "
            "nhận ra tài khoản trùng.",
            f"This is a {owner_en} link; declare it with platform “{owner}” so that "
            "duplicates are recognised.",
        )
    if code is not None and code != owner:
        vi, en = LABELS[code]
        fail(
            f"Liên kết này thuộc {owner_vi}, nhưng nền tảng đã chọn là {vi}. Hãy chọn đúng "
            "nền tảng hoặc sửa lại liên kết.",
            f"This link belongs to {owner_en}, but the platform chosen is {en}. Choose the "
            "right platform or fix the link.",
        )
    if link.port not in (None, 80, 443):
        fail(
            f"Địa chỉ {owner_vi} không dùng cổng {link.port}; hãy bỏ phần “:{link.port}”.",
            f"{owner_en} addresses do not use port {link.port}; remove “:{link.port}”.",
        )
    return _FROM_LINK[owner](link)
