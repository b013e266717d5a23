"""Canonical account keys: one stable key per social account, whatever link shape was pasted.

``canonicalize(platform, value)`` turns a URL, a scheme-less URL or a bare handle into a
``Canonical(platform, key, url)``. The key is what uniqueness is enforced on (two active
declarations of one key by different members is 409 ``duplicate_account``); the url is a clean
https link that canonicalises back to the very same key and url (keys are idempotent).
Everything that is not an account address raises ``InvalidAccountUrl`` (a ``ValueError``)
carrying ``detail_vi`` and ``detail_en``: specific, user-facing explanations of what is wrong
and what to paste instead. Pure standard library; no network access, so nothing is resolved.

Key formats
-----------
==========  ==================================  =============================================
platform    key                                 from
==========  ==================================  =============================================
facebook    ``facebook:user:<username>``        ``/<username>``, ``/pg/<username>``, ``m.me/<username>``;
                                                lower-cased **and dots removed** (Facebook ignores
                                                both: ``Some.User`` = ``someuser``)
facebook    ``facebook:profile:<digits>``       ``/profile.php?id=N``, ``/<N>``, ``/people/<Name>/<N>``,
                                                ``/pages/<Name>/<N>``, ``/p/<Name>-<N>``, ``/<Name-Words>-<N>``
facebook    ``facebook:group:<id or name>``     ``/groups/<id>``; a group name is lower-cased, dots kept
youtube     ``youtube:handle:<lower>``          ``/@handle`` (or a bare ``@handle``/``handle``)
youtube     ``youtube:channel:UC…``             ``/channel/UC…`` (24 characters, case kept: ids are
                                                case-sensitive), or a bare ``UC…`` id
youtube     ``youtube:c:<lower>``               ``/c/<name>`` and the legacy ``/<name>``
youtube     ``youtube:user:<lower>``            ``/user/<name>``
tiktok      ``tiktok:handle:<lower>``           ``tiktok.com/@handle``
tiktok      ``tiktok:short:<code>``             ``vm.tiktok.com/<code>``, ``vt.tiktok.com/<code>`` (code case kept)
zalo        ``zalo:phone:+84<9 digits>``        ``zalo.me/<phone>`` or a bare phone number
zalo        ``zalo:oa:<digits>``                ``zalo.me/<oa id>``, ``oa.zalo.me/<oa id>``
zalo        ``zalo:group:<code>``               ``zalo.me/g/<code>`` (code case kept)
instagram   ``instagram:user:<lower>``          ``instagram.com/<user>``, ``instagr.am/<user>``, ``/_u/<user>``
x           ``x:handle:<lower>``                ``x.com/<h>``, ``twitter.com/<h>``, ``twitter.com/#!/<h>``
telegram    ``telegram:handle:<lower>``         ``t.me/<name>``, ``t.me/s/<name>``, ``<name>.t.me``,
                                                ``telegram.me``/``telegram.dog``
telegram    ``telegram:invite:<code>``          ``t.me/+<code>``, ``t.me/joinchat/<code>`` (one hash, case kept)
telegram    ``telegram:phone:+<digits>``        ``t.me/+<phone number>`` (all digits after the ``+``;
                                                a Vietnamese mobile is normalised as for Zalo)
threads     ``threads:handle:<lower>``          ``threads.net/@h``, ``threads.com/@h``
linkedin    ``linkedin:in:<lower>``             ``linkedin.com/in/<slug>``
linkedin    ``linkedin:company:<lower>``        ``linkedin.com/company/<slug>``
website     ``website:<host>[:port]<path>``     any public http(s) URL; see below
other       ``other:<host>[:port]<path>``       same rules as website, different prefix
==========  ==================================  =============================================

Canonical urls: ``https://www.facebook.com/<username>``, ``…/profile.php?id=N``,
``…/groups/<g>``; ``https://www.youtube.com/@h``, ``/channel/UC…``, ``/c/<n>``, ``/user/<n>``;
``https://www.tiktok.com/@h``, ``https://vm.tiktok.com/<code>``; ``https://zalo.me/0<9 digits>``
(the form Zalo itself shares), ``https://zalo.me/<oa>``, ``https://zalo.me/g/<code>``;
``https://www.instagram.com/<u>``; ``https://x.com/<h>``; ``https://t.me/<h>``, ``https://t.me/+<code>``;
``https://www.threads.com/@h``; ``https://www.linkedin.com/in/<s>``, ``/company/<s>``;
``https://<host>[:port]<path>`` for websites. Non-ASCII characters are percent-encoded (UTF-8).

Decisions
---------
Input
  * At most 2,048 characters after trimming whitespace (and the zero-width characters and BOM
    that copy-paste leaves at the ends). Unicode NFC. Control characters, format characters
    (zero-width, bidi overrides), unassigned code points and backslashes are rejected anywhere;
    spaces inside the value are rejected except in a bare Zalo phone number (``0912 345 678``).
  * ``platform`` is one of the eleven codes (trimmed, case-insensitive), or ``None``: then it is
    inferred from the host, and an unknown host is an error (we do not guess between ``website``
    and ``other``, which would give two keys for one site).
  * A value is a bare handle when it has no scheme, no ``/``, ``?`` or ``#``, and either starts
    with ``@`` or (for a platform that has handles) is not itself a known platform host. So
    ``some.user`` with platform facebook is a username, while ``facebook.com`` is a URL (and,
    being a home page, invalid). Bare handles need a platform. LinkedIn has two namespaces
    (``in`` and ``company``), so it needs a full link; website/other always take a URL.
URL
  * Only ``http``/``https`` or no scheme (``facebook.com/abc``, ``//facebook.com/abc``).
    ``javascript:``, ``data:``, ``file:``, ``mailto:``, app deep links (``fb://``, ``tg://``)
    are rejected. ``https:facebook.com`` (no ``//``) is rejected as malformed.
  * Userinfo (``user:pass@host``) is rejected (a classic way to disguise the real host).
  * Hosts are lower-cased, percent-decoded, a single trailing dot dropped, IDNs converted to
    punycode (``xn--``). IP literals, ``localhost``, single-label hosts, numeric TLDs and
    private-use TLDs (``.local``, ``.internal``, ``.test``, ``.invalid``, ``.example``,
    ``.localhost``, ``.lan``, ``.home``, ``.corp``, ``.intranet``, ``.arpa``) are rejected.
  * Ports: on platform hosts only 80/443 (or none) are accepted. A website keeps a
    non-default port in its key (``example.com:8080`` is another site); 80 and 443 are dropped.
  * Path segments are split on ``/`` first, then percent-decoded (strict UTF-8), NFC'd, ``.``
    and ``..`` resolved, empty segments (``//``, trailing ``/``) dropped.
  * The query string and fragment never enter a key, so every tracking parameter (``utm_*``,
    ``fbclid``, ``igshid``, ``si``, ``ref``, ``mibextid``, ``_t``, ``is_from_webapp``…) is gone
    by construction. The only parameters read are ``profile.php?id=`` (the account) and
    ``watch?v=``/``playlist?list=`` (only to explain the error). An old hash-bang link
    (``facebook.com/#!/someone``, ``twitter.com/#!/someone``) is read from its fragment.
  * Known hosts and their aliases: Facebook ``facebook.com`` with ``www.``, ``m.``, ``mbasic.``,
    ``web.``, ``mobile.``, ``touch.``, ``free.``, ``d.``, ``iphone.`` or a locale (``vi-vn.``);
    ``fb.com``, ``fb.me`` and ``m.me`` (Messenger uses the same usernames and ids). YouTube
    ``youtube.com`` with ``www.``, ``m.``, ``music.``. TikTok ``tiktok.com`` with ``www.``, ``m.``;
    ``vm.``/``vt.`` are short links. Instagram ``instagram.com`` (``www.``, ``m.``) and
    ``instagr.am``. X ``x.com``/``twitter.com`` (``www.``, ``mobile.``, ``m.``). Telegram ``t.me``,
    ``telegram.me``, ``telegram.dog``. Threads ``threads.net``/``threads.com``. LinkedIn
    ``linkedin.com`` with ``www.``, ``m.`` or a country code (``vn.``). Zalo ``zalo.me`` (``www.``)
    and ``oa.zalo.me``. Other subdomains of these (``l.facebook.com`` redirects,
    ``business.facebook.com``, ``chat.zalo.me``…) and the platforms' link hosts that never name
    an account (``youtu.be``, ``youtube-nocookie.com``, ``fb.watch``, ``fb.gg``, ``t.co``,
    ``lnkd.in``, ``telegram.org``, ``zaloapp.com``) are rejected with an explanation.
  * A platform host given with another platform (platform=youtube, url on facebook.com) is a
    mismatch. So is a platform host declared as ``website`` or ``other``: it would dodge the
    platform's duplicate check; declare it under its platform.
Handles (checked on the original characters, ASCII-only where the platform is ASCII-only, so
look-alikes such as the Kelvin sign are not folded into letters)
  * Facebook username: ``[A-Za-z0-9.]{5,50}``, at least 5 characters besides dots, not all
    digits (all digits is a numeric id). Key: lower-cased, dots removed.
  * Facebook numeric ids: 1–20 digits, no leading zero. Pages, profiles and groups share one
    object-id space and ``profile.php?id=<page id>`` opens the page, so ``/pages/<Name>/<N>``,
    ``/p/<Name>-<N>`` and the old page form ``/<Page-Name>-<N>`` all key as
    ``facebook:profile:<N>``. A username and the numeric id of the same account stay two keys:
    they cannot be linked offline.
  * Facebook group names: ``[A-Za-z0-9._-]{1,100}``, lower-cased; dots are kept because it is
    not known that groups ignore them.
  * YouTube handle: 3–30 of letters (any script, with their combining marks: Hindi and Thai
    vowel signs are marks), digits, ``_``, ``-``, ``.``, ``·``; lower-cased.
    Channel id: ``UC`` + 22 base64url characters, the last one of ``A Q g w`` (the id is 128
    bits, so the last character carries two zero bits). ``/c/`` and ``/user/`` names: 1–100
    letters, digits, ``_ - .``; lower-cased. ``/c/x``, ``/user/x`` and ``/@x`` can be different
    channels, so they are different keys. The legacy ``youtube.com/<name>`` resolves to the
    custom URL first, so it keys as ``youtube:c:<name>``. Channel tabs (``/videos``,
    ``/featured``, ``/about``, ``/shorts``, ``/streams``, ``/playlists``, ``/community``,
    ``/live``…) are stripped.
  * TikTok ``[A-Za-z0-9_.]{2,24}``; Instagram and Threads ``[A-Za-z0-9_.]{1,30}``; X
    ``[A-Za-z0-9_]{1,15}``; Telegram ``[A-Za-z0-9_]{5,32}``; LinkedIn ``/in/`` slugs 3–100 and
    company slugs 1–100 of letters (any script), digits, ``_``, ``-``. All lower-cased. A
    handle made only of dots/hyphens (``.``, ``..``) is rejected: it names nothing, and ``.``
    would even vanish as a path segment.
  * TikTok short links (``vm.``/``vt.``, code ``[A-Za-z0-9]{5,20}``) cannot be resolved
    offline, so they are kept as ``tiktok:short:<code>``; vm and vt serve one code space and
    the url uses ``vm.``. ``www.tiktok.com/t/<code>`` share links are rejected (open and copy).
  * Zalo: Zalo accounts are Vietnamese mobile numbers. ``0912345678``, ``84912345678``,
    ``+84912345678``, ``0084…``, ``+84 0912…`` and, in a bare value, ``+84 912 345 678`` /
    ``0912.345.678`` all become ``+84912345678``: the national number must be 9 digits starting
    3, 5, 7, 8 or 9 (the mobile ranges since 2018). Any other all-digit value of 15–20 digits
    without a leading zero is an Official Account id (OA ids are 64-bit numbers, 18–19 digits
    in practice; phone numbers are at most 12). Everything else numeric (landlines, old
    11-digit mobiles, foreign numbers, 11–14-digit numbers) is rejected, naming both rules.
    ``zalo.me/g/<code>`` (``[A-Za-z0-9_-]{4,64}``) is a group; ``zalo.me/s/…`` is a mini app.
    The phone is personal data: the key is what the spec asks for (E.164).
Rejected as "not an account" (each with its own message): home pages; search, hashtag,
explore, feed, settings, login, help and similar system pages (Facebook: ``home.php``,
``settings``, ``marketplace``, ``gaming``, ``reel``/``reels``, ``help``, ``policies``,
``privacy``, ``friends``, ``messages``, ``notifications``, bare ``groups``/``pages``/``people``,
``me``, anything ``*.php`` other than ``profile.php``, and more); posts (Facebook
``/<user>/posts/<id>``, ``permalink.php``, ``story.php``, group posts; ``x.com/<h>/status/<id>``;
``t.me/<name>/<n>``; Threads ``/post/``; Instagram ``/p/``; LinkedIn ``/posts/``, ``/feed/``);
videos and photos (``/watch``, ``youtu.be``, ``/shorts/<id>``, ``/live/<id>``, TikTok
``/@h/video/<id>``, Instagram ``/reel/``, Facebook ``/watch``, ``/reel/<id>``, ``photo.php``);
playlists; events; stories; share links (Facebook ``/share/…``, TikTok ``/t/…``: they name no
account until opened, so the message says to open them and copy the profile address).

Websites (platform ``website`` or ``other``)
  Key ``<prefix>:<host><path>``: host lower-cased, ``www.`` dropped (when two labels remain),
  punycode; port kept only when not 80/443; path segments decoded, NFC'd and re-encoded with
  one fixed safe set (so ``%7E`` and ``~`` agree, and case in the path is kept: servers may be
  case-sensitive), no trailing slash; query and fragment dropped (almost always tracking, view
  or session state). The canonical url is always ``https://`` + the key body, so it carries no
  ``www.``; scheme is not part of a site's identity.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

__all__ = ["MAX_LENGTH", "PLATFORMS", "Canonical", "InvalidAccountUrl", "canonicalize"]

MAX_LENGTH = 2048

PLATFORMS: frozenset[str] = frozenset(
    {
        "facebook",
        "zalo",
        "youtube",
        "tiktok",
        "instagram",
        "x",
        "telegram",
        "threads",
        "linkedin",
        "website",
        "other",
    }
)


class InvalidAccountUrl(ValueError):
    """The value names no account of the platform; ``detail_vi``/``detail_en`` say why."""

    def __init__(self, detail_vi: str, detail_en: str) -> None:
        super().__init__(detail_en)
        self.detail_vi = detail_vi
        self.detail_en = detail_en


@dataclass(frozen=True, slots=True)
class Canonical:
    platform: str
    key: str
    url: str


# --------------------------------------------------------------------------- messages

_LABELS: dict[str, tuple[str, str]] = {
    "facebook": ("Facebook", "Facebook"),
    "zalo": ("Zalo", "Zalo"),
    "youtube": ("YouTube", "YouTube"),
    "tiktok": ("TikTok", "TikTok"),
    "instagram": ("Instagram", "Instagram"),
    "x": ("X (Twitter)", "X (Twitter)"),
    "telegram": ("Telegram", "Telegram"),
    "threads": ("Threads", "Threads"),
    "linkedin": ("LinkedIn", "LinkedIn"),
    "website": ("trang web", "website"),
    "other": ("khác", "other"),
}

_EXAMPLES: dict[str, tuple[str, str]] = {
    "facebook": (
        "facebook.com/<tên người dùng> hoặc facebook.com/profile.php?id=<số>",
        "facebook.com/<username> or facebook.com/profile.php?id=<number>",
    ),
    "zalo": (
        "zalo.me/<số điện thoại>, zalo.me/<mã Official Account> hoặc zalo.me/g/<mã nhóm>",
        "zalo.me/<phone number>, zalo.me/<Official Account id> or zalo.me/g/<group code>",
    ),
    "youtube": (
        "youtube.com/@<tên kênh> hoặc youtube.com/channel/UC…",
        "youtube.com/@<handle> or youtube.com/channel/UC…",
    ),
    "tiktok": ("tiktok.com/@<tên người dùng>", "tiktok.com/@<username>"),
    "instagram": ("instagram.com/<tên người dùng>", "instagram.com/<username>"),
    "x": ("x.com/<tên người dùng>", "x.com/<username>"),
    "telegram": ("t.me/<tên người dùng>", "t.me/<username>"),
    "threads": ("threads.net/@<tên người dùng>", "threads.net/@<username>"),
    "linkedin": (
        "linkedin.com/in/<tên> hoặc linkedin.com/company/<tên>",
        "linkedin.com/in/<name> or linkedin.com/company/<name>",
    ),
    "website": ("https://<tên miền>/…", "https://<domain>/…"),
    "other": ("https://<tên miền>/…", "https://<domain>/…"),
}

_RULES: dict[str, tuple[str, str]] = {
    "facebook": (
        "tên người dùng Facebook chỉ gồm chữ cái không dấu, chữ số và dấu chấm, dài 5–50 ký tự "
        "(không tính dấu chấm vẫn phải đủ 5 ký tự) và không thể chỉ toàn chữ số",
        "a Facebook username has only letters a–z, digits and dots, 5–50 characters "
        "(at least 5 besides the dots), and is not all digits",
    ),
    "facebook_group": (
        "tên nhóm Facebook chỉ gồm chữ cái không dấu, chữ số, dấu chấm, dấu gạch ngang "
        "và dấu gạch dưới (tối đa 100 ký tự), hoặc là mã số nhóm",
        "a Facebook group name has only letters a–z, digits, dots, hyphens and underscores "
        "(up to 100 characters), or is the group's number",
    ),
    "facebook_id": (
        "mã số Facebook gồm 1–20 chữ số, không bắt đầu bằng số 0",
        "a Facebook id is 1–20 digits, not starting with 0",
    ),
    "youtube": (
        "tên kênh YouTube (@handle) dài 3–30 ký tự gồm chữ cái, chữ số, dấu gạch dưới, "
        "dấu gạch ngang, dấu chấm hoặc dấu chấm giữa (·)",
        "a YouTube handle is 3–30 letters, digits, underscores, hyphens, dots or middle dots (·)",
    ),
    "youtube_channel": (
        "mã kênh YouTube dài 24 ký tự, bắt đầu bằng UC (phân biệt chữ hoa chữ thường)",
        "a YouTube channel id is 24 characters starting with UC (case-sensitive)",
    ),
    "youtube_name": (
        "tên tùy chỉnh của kênh YouTube dài 1–100 ký tự gồm chữ cái, chữ số, "
        "dấu gạch dưới, dấu gạch ngang hoặc dấu chấm",
        "a YouTube custom or user name is 1–100 letters, digits, underscores, hyphens or dots",
    ),
    "tiktok": (
        "tên TikTok dài 2–24 ký tự, chỉ gồm chữ cái không dấu, chữ số, dấu gạch dưới và dấu chấm",
        "a TikTok username is 2–24 letters a–z, digits, underscores and dots",
    ),
    "tiktok_short": (
        "mã liên kết rút gọn TikTok gồm 5–20 chữ cái không dấu hoặc chữ số",
        "a TikTok short-link code is 5–20 letters a–z or digits",
    ),
    "instagram": (
        "tên Instagram dài 1–30 ký tự, chỉ gồm chữ cái không dấu, chữ số, dấu gạch dưới "
        "và dấu chấm",
        "an Instagram username is 1–30 letters a–z, digits, underscores and dots",
    ),
    "threads": (
        "tên Threads (giống tên Instagram) dài 1–30 ký tự, chỉ gồm chữ cái không dấu, chữ số, "
        "dấu gạch dưới và dấu chấm",
        "a Threads username (the Instagram one) is 1–30 letters a–z, digits, underscores and dots",
    ),
    "x": (
        "tên X (Twitter) dài 1–15 ký tự, chỉ gồm chữ cái không dấu, chữ số và dấu gạch dưới",
        "an X (Twitter) username is 1–15 letters a–z, digits and underscores",
    ),
    "telegram": (
        "tên Telegram dài 5–32 ký tự, chỉ gồm chữ cái không dấu, chữ số và dấu gạch dưới",
        "a Telegram username is 5–32 letters a–z, digits and underscores",
    ),
    "telegram_invite": (
        "mã mời Telegram dài 5–64 ký tự gồm chữ cái không dấu, chữ số, dấu gạch ngang "
        "và dấu gạch dưới",
        "a Telegram invite code is 5–64 letters a–z, digits, hyphens and underscores",
    ),
    "telegram_phone": (
        "số điện thoại sau dấu + phải gồm 7–15 chữ số (mã quốc gia và số thuê bao)",
        "the phone number after + must be 7–15 digits (country code and number)",
    ),
    "linkedin": (
        "tên hồ sơ LinkedIn dài 3–100 ký tự gồm chữ cái, chữ số và dấu gạch ngang",
        "a LinkedIn profile name is 3–100 letters, digits and hyphens",
    ),
    "linkedin_company": (
        "tên trang công ty LinkedIn dài 1–100 ký tự gồm chữ cái, chữ số và dấu gạch ngang",
        "a LinkedIn company name is 1–100 letters, digits and hyphens",
    ),
    "zalo": (
        "Zalo cần số điện thoại di động Việt Nam (10 chữ số bắt đầu bằng 03, 05, 07, 08 hoặc 09, "
        "có thể viết dạng +84) hoặc mã Official Account (15–20 chữ số)",
        "Zalo needs a Vietnamese mobile number (10 digits starting 03, 05, 07, 08 or 09, "
        "or the +84 form) or an Official Account id (15–20 digits)",
    ),
    "zalo_group": (
        "mã nhóm Zalo dài 4–64 ký tự gồm chữ cái không dấu, chữ số, dấu gạch ngang "
        "và dấu gạch dưới",
        "a Zalo group code is 4–64 letters a–z, digits, hyphens and underscores",
    ),
}


def _fail(vi: str, en: str) -> NoReturn:
    raise InvalidAccountUrl(vi, en)


_UNSHOWN = re.compile(r"[<>\"'`&\x00-\x1f\x7f\ud800-\udfff]")


def _shown(text: str) -> str:
    """The caller's text for an error detail: shortened, and without markup or control
    characters (clients show details to people; a detail must not carry a tag)."""
    text = _UNSHOWN.sub("?", text)
    return text if len(text) <= 60 else text[:57] + "…"


def _bad_handle(rule: str, value: str) -> NoReturn:
    vi, en = _RULES[rule]
    _fail(
        f"“{_shown(value)}” không hợp lệ: {vi}.",
        f"“{_shown(value)}” is not valid: {en}.",
    )


def _not_account(platform: str, what_vi: str, what_en: str) -> NoReturn:
    ex_vi, ex_en = _EXAMPLES[platform]
    _fail(
        f"{what_vi} Hãy nhập địa chỉ của tài khoản, ví dụ {ex_vi}.",
        f"{what_en} Give the account's address, e.g. {ex_en}.",
    )


def _home(platform: str) -> NoReturn:
    vi, en = _LABELS[platform]
    _not_account(
        platform,
        f"Đây là trang chủ {vi}, không chỉ tới tài khoản nào.",
        f"This is the {en} home page; it names no account.",
    )


def _post(platform: str) -> NoReturn:
    _not_account(
        platform,
        "Đây là liên kết tới một bài viết, không phải tới tài khoản.",
        "This is a post, not an account.",
    )


def _video(platform: str) -> NoReturn:
    _not_account(
        platform,
        "Đây là liên kết tới một video (hoặc ảnh), không phải tới tài khoản hay kênh.",
        "This is a video (or photo), not an account or channel.",
    )


def _playlist(platform: str) -> NoReturn:
    _not_account(
        platform,
        "Đây là liên kết tới một danh sách phát, không phải tới kênh.",
        "This is a playlist, not a channel.",
    )


def _share(platform: str) -> NoReturn:
    vi, en = _LABELS[platform]
    ex_vi, ex_en = _EXAMPLES[platform]
    _fail(
        f"Liên kết chia sẻ {vi} không cho biết tài khoản nào nếu chưa mở nó. Hãy mở liên kết, "
        f"vào trang của tài khoản rồi sao chép địa chỉ trên thanh địa chỉ (dạng {ex_vi}).",
        f"A {en} share link does not name an account until it is opened. Open it, go to the "
        f"account's page and copy the address from the address bar (like {ex_en}).",
    )


def _system_page(platform: str, segment: str) -> NoReturn:
    vi, en = _LABELS[platform]
    _not_account(
        platform,
        f"“{_shown(segment)}” là một trang chức năng của {vi} (tìm kiếm, cài đặt, bảng tin…), "
        "không phải tài khoản.",
        f"“{_shown(segment)}” is a {en} system page (search, settings, feed…), not an account.",
    )


def _unrecognised(platform: str) -> NoReturn:
    vi, en = _LABELS[platform]
    _not_account(
        platform,
        f"Không nhận ra địa chỉ tài khoản {vi} trong liên kết này.",
        f"This link is not a recognised {en} account address.",
    )


# --------------------------------------------------------------------------- input

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_HOST_PORT = re.compile(r"[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+:[0-9]*(?:[/?#]|$)")
_EDGE_JUNK = " \t\r\n\u00a0\u200b\u200c\u200d\u2060\ufeff"
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_PHONEISH = re.compile(r"\(?\+?[0-9][0-9 ().\-]*")


def _check_platform(platform: str | None) -> str | None:
    if platform is None:
        return None
    code = platform.strip().lower()
    if code not in PLATFORMS:
        choices = ", ".join(sorted(PLATFORMS))
        _fail(
            f"Nền tảng “{_shown(platform)}” không được hỗ trợ; chọn một trong: {choices}.",
            f"Unknown platform “{_shown(platform)}”; use one of: {choices}.",
        )
    return code


def _reject_bad_chars(text: str) -> None:
    for char in text:
        if char == "\\" or unicodedata.category(char) in _BAD_CATEGORIES:
            _fail(
                f"Giá trị chứa ký tự không hợp lệ (U+{ord(char):04X}); hãy dán lại đúng địa chỉ.",
                f"The value contains an invalid character (U+{ord(char):04X}); "
                "paste the address again.",
            )


def _clean(value: str, platform: str | None) -> str:
    text = unicodedata.normalize("NFC", value.strip().strip(_EDGE_JUNK).strip())
    if not text:
        _fail("Chưa nhập địa chỉ hoặc tên tài khoản.", "No address or handle was given.")
    if len(text) > MAX_LENGTH:
        _fail(
            f"Địa chỉ quá dài (tối đa {MAX_LENGTH} ký tự).",
            f"The address is too long (at most {MAX_LENGTH} characters).",
        )
    _reject_bad_chars(text)
    if any(c.isspace() for c in text) and not (platform == "zalo" and _PHONEISH.fullmatch(text)):
        _fail(
            "Địa chỉ không được chứa khoảng trắng.",
            "The address must not contain spaces.",
        )
    return text


# --------------------------------------------------------------------------- hosts

# Registrable platform domains -> platform. Subdomains are checked by each platform.
_DOMAINS: dict[str, str] = {
    "facebook.com": "facebook",
    "fb.com": "facebook",
    "fb.me": "facebook",
    "m.me": "facebook",
    "fb.watch": "facebook",
    "fb.gg": "facebook",
    "zalo.me": "zalo",
    "zaloapp.com": "zalo",
    "youtube.com": "youtube",
    "youtu.be": "youtube",
    "youtube-nocookie.com": "youtube",
    "tiktok.com": "tiktok",
    "instagram.com": "instagram",
    "instagr.am": "instagram",
    "x.com": "x",
    "twitter.com": "x",
    "t.co": "x",
    "t.me": "telegram",
    "telegram.me": "telegram",
    "telegram.dog": "telegram",
    "telegram.org": "telegram",
    "threads.net": "threads",
    "threads.com": "threads",
    "linkedin.com": "linkedin",
    "lnkd.in": "linkedin",
}

_LABEL = re.compile(r"(?!-)[a-z0-9\-]{1,63}(?<!-)")
_TLD = re.compile(r"[a-z]{2,63}|xn--[a-z0-9\-]{1,59}")
_PRIVATE_TLDS = frozenset(
    {"localhost", "local", "internal", "test", "invalid", "example", "lan", "home", "corp"}
    | {"intranet", "arpa"}
)


def _find_domain(host: str) -> tuple[str, str] | None:
    """(registrable platform domain, subdomain) for a platform host, else None."""
    labels = host.split(".")
    for i in range(len(labels) - 1):
        domain = ".".join(labels[i:])
        if domain in _DOMAINS:
            return domain, ".".join(labels[:i])
    return None


def _bad_host(host: str) -> NoReturn:
    _fail(
        f"“{_shown(host)}” không phải tên miền công khai hợp lệ (không chấp nhận địa chỉ IP, "
        "localhost hay tên miền nội bộ).",
        f"“{_shown(host)}” is not a valid public domain name (IP addresses, localhost and "
        "internal names are not accepted).",
    )


def _normalise_host(raw: str) -> str:
    try:
        host = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        _bad_host(raw)
    host = unicodedata.normalize("NFC", host).lower().removesuffix(".")
    _reject_bad_chars(host)
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            _bad_host(raw)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        _bad_host(host)
    labels = host.split(".")
    if (
        len(host) > 253
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or not _TLD.fullmatch(labels[-1])
        or labels[-1] in _PRIVATE_TLDS
    ):
        _bad_host(host)
    return host


# --------------------------------------------------------------------------- links


@dataclass(frozen=True, slots=True)
class _Link:
    host: str  # ASCII, lower case, no trailing dot
    domain: str  # the matched platform domain, or the host itself
    sub: str  # the subdomain left of `domain` ("" for none)
    platform: str | None  # the platform owning the host, None for other hosts
    port: int | None
    segments: tuple[str, ...]  # decoded, NFC, dot segments resolved, no empty ones
    query: dict[str, list[str]]


def _malformed() -> NoReturn:
    _fail(
        "Địa chỉ không đúng định dạng; hãy sao chép nguyên địa chỉ từ thanh địa chỉ "
        "của trình duyệt.",
        "The address is malformed; copy it whole from the browser's address bar.",
    )


def _segments(path: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in path.split("/"):
        if not raw:
            continue
        try:
            segment = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            _fail(
                "Địa chỉ chứa mã hóa phần trăm (%) không hợp lệ.",
                "The address contains invalid percent-encoding (%).",
            )
        segment = unicodedata.normalize("NFC", segment)
        _reject_bad_chars(segment)
        if segment == ".":
            continue
        if segment == "..":
            if out:
                out.pop()
            continue
        out.append(segment)
    return tuple(out)


def _parse(text: str) -> _Link:
    scheme = _SCHEME.match(text)
    if scheme and not _HOST_PORT.match(text):
        name = scheme.group(1).lower()
        if name not in ("http", "https"):
            _fail(
                f"Chỉ chấp nhận liên kết http hoặc https, không chấp nhận “{_shown(name)}:”.",
                f"Only http and https links are accepted, not “{_shown(name)}:”.",
            )
        rest = text[scheme.end() :]
        if not rest.startswith("//"):
            _malformed()
        url = "https:" + rest
    elif text.startswith("//"):
        url = "https:" + text
    else:
        url = "https://" + text
    try:
        parts = urlsplit(url)
        if parts.path in ("", "/") and parts.fragment.startswith("!/"):
            parts = urlsplit(f"https://{parts.netloc}{parts.fragment[1:]}")
        port = parts.port
        hostname = parts.hostname
    except ValueError:
        _malformed()
    if "@" in parts.netloc:
        _fail(
            "Địa chỉ có chứa tên đăng nhập hoặc mật khẩu (phần trước dấu @ ở tên miền); "
            "hãy bỏ phần đó.",
            "The address carries a user name or password (before an @ in the host); remove it.",
        )
    if parts.netloc.startswith("["):
        _bad_host(parts.netloc)
    if not hostname:
        _malformed()
    if port == 0:
        _malformed()
    host = _normalise_host(hostname)
    found = _find_domain(host)
    domain, sub = found if found else (host, "")
    return _Link(
        host=host,
        domain=domain,
        sub=sub,
        platform=_DOMAINS[domain] if found else None,
        port=port,
        segments=_segments(parts.path),
        query=parse_qs(parts.query, keep_blank_values=True),
    )


def _is_bare(text: str, platform: str | None) -> bool:
    if platform in ("website", "other"):
        return False
    if text.startswith("@"):
        return True
    if _SCHEME.match(text) or text.startswith("//") or any(c in text for c in "/?#"):
        return False
    if platform is None and "." in text:
        return False
    head = text.lower().removesuffix(".")
    return head not in _DOMAINS and _find_domain(head) is None


# --------------------------------------------------------------------------- helpers

_NUMERIC_ID = re.compile(r"[1-9][0-9]{0,19}")
_ALL_DIGITS = re.compile(r"[0-9]+")


def _q(text: str) -> str:
    return quote(text, safe="")


_MARKS = frozenset({"Mn", "Mc"})


@dataclass(frozen=True, slots=True)
class _NameRule:
    """Letters and digits of any script (with their combining marks), plus `extra`."""

    extra: str
    low: int
    high: int

    def fits(self, text: str) -> bool:
        if not self.low <= len(text) <= self.high or _only_punctuation(text):
            return False
        if unicodedata.category(text[0]) in _MARKS:  # a mark needs a letter before it
            return False
        return all(
            c.isalnum() or c in self.extra or unicodedata.category(c) in _MARKS for c in text
        )


def _only_punctuation(handle: str) -> bool:
    """`.`, `..`, `-.` and the like: they match the character classes but name nothing."""
    return not handle.strip(".-·")


def _tab_only(rest: Sequence[str], tabs: frozenset[str]) -> bool:
    return not rest or (len(rest) == 1 and rest[0].lower() in tabs)


# --------------------------------------------------------------------------- facebook

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
_FB_RESERVED = frozenset(
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
    if not _NUMERIC_ID.fullmatch(number):
        _bad_handle("facebook_id", number)
    return Canonical(
        "facebook",
        f"facebook:profile:{number}",
        f"https://www.facebook.com/profile.php?id={number}",
    )


def _fb_username(name: str) -> Canonical:
    dotless = name.replace(".", "")
    if not _FB_USERNAME.fullmatch(name) or len(dotless) < 5 or _ALL_DIGITS.fullmatch(dotless):
        _bad_handle("facebook", name)
    key = dotless.lower()
    if key in _FB_RESERVED or name.lower().endswith(".php"):
        _system_page("facebook", name)
    return Canonical("facebook", f"facebook:user:{key}", f"https://www.facebook.com/{key}")


def _fb_account(first: str, rest: Sequence[str]) -> Canonical:
    """`/<first>/<rest…>` where <first> is a username, a number or an old `Page-Name-<id>`."""
    if rest:
        tab = rest[0].lower()
        if tab in _FB_CONTENT and len(rest) >= 2:
            if tab in _FB_MEDIA:
                _video("facebook")
            _post("facebook")
        if not (len(rest) == 1 and (tab in _FB_TABS or tab.startswith("about"))):
            _unrecognised("facebook")
    if _ALL_DIGITS.fullmatch(first):
        return _fb_profile(first)
    named = _FB_NAME_ID.fullmatch(first)
    if named and "-" in first and any(c.isalpha() for c in named.group(1)):
        return _fb_profile(named.group(2))
    return _fb_username(first)


def _fb_group(segs: Sequence[str]) -> Canonical:
    if len(segs) < 2:
        _system_page("facebook", segs[0])
    group, rest = segs[1], segs[2:]
    if group.lower() in _FB_GROUP_RESERVED:
        _system_page("facebook", f"groups/{group}")
    if rest:
        tab = rest[0].lower()
        if tab in _FB_GROUP_CONTENT and len(rest) >= 2:
            _post("facebook")
        if not _tab_only(rest, _FB_GROUP_TABS):
            _unrecognised("facebook")
    if _ALL_DIGITS.fullmatch(group):
        if not _NUMERIC_ID.fullmatch(group):
            _bad_handle("facebook_id", group)
        key = group
    elif _FB_GROUP.fullmatch(group) and not _only_punctuation(group):
        key = group.lower()
    else:
        _bad_handle("facebook_group", group)
    return Canonical("facebook", f"facebook:group:{key}", f"https://www.facebook.com/groups/{key}")


def _fb_named_id(segs: Sequence[str]) -> Canonical:
    """`/people/<Name>/<id>` and `/pages/<Name>/<id>`, optionally with one profile tab."""
    if len(segs) >= 3 and _ALL_DIGITS.fullmatch(segs[2]) and segs[1].lower() != "category":
        if not _tab_only(segs[3:], _FB_TABS):
            _unrecognised("facebook")
        return _fb_profile(segs[2])
    if len(segs) == 1:
        _system_page("facebook", segs[0])
    _unrecognised("facebook")


def _facebook(link: _Link) -> Canonical:
    if link.domain in ("fb.watch",):
        _video("facebook")
    if link.domain == "fb.gg":
        _system_page("facebook", link.host)
    if link.domain == "facebook.com":
        if link.sub in ("l", "lm"):
            _fail(
                "Đây là liên kết chuyển hướng của Facebook (l.facebook.com) tới trang khác, "
                "không phải tài khoản Facebook.",
                "This is a Facebook redirect link (l.facebook.com) to another site, "
                "not a Facebook account.",
            )
        if link.sub not in _FB_SUBS and not _FB_LOCALE.fullmatch(link.sub):
            _unrecognised("facebook")
    elif link.sub not in ("", "www", "m") or (link.domain == "m.me" and link.sub):
        _unrecognised("facebook")
    segs = link.segments
    if not segs:
        _home("facebook")
    first = segs[0]
    low = first.lower()
    if low == "profile.php":
        ids = set(link.query.get("id", []))
        if len(ids) != 1:
            _not_account(
                "facebook",
                "Liên kết profile.php thiếu mã số tài khoản (?id=…).",
                "The profile.php link lacks the account number (?id=…).",
            )
        if not _tab_only(segs[1:], frozenset()):
            _unrecognised("facebook")
        return _fb_profile(ids.pop())
    if low in ("people", "pages"):
        return _fb_named_id(segs)
    if low == "p" and len(segs) == 2:
        named = _FB_NAME_ID.fullmatch(segs[1])
        if named:
            return _fb_profile(named.group(2))
        _unrecognised("facebook")
    if low == "pg" and len(segs) >= 2:
        return _fb_account(segs[1], segs[2:])
    if low == "groups":
        return _fb_group(segs)
    if low in _FB_SHARE:
        _share("facebook")
    if low in _FB_VIDEO:
        _video("facebook")
    if low in _FB_POST:
        _post("facebook")
    if low.replace(".", "") in _FB_RESERVED or low.endswith(".php"):
        _system_page("facebook", first)
    return _fb_account(first, segs[1:])


def _facebook_bare(text: str) -> Canonical:
    return _fb_account(text.removeprefix("@"), ())


# --------------------------------------------------------------------------- youtube

_YT_SUBS = frozenset({"", "www", "m", "music"})
_YT_HANDLE = _NameRule("_.-·", 3, 30)
_YT_CHANNEL = re.compile(r"UC[A-Za-z0-9_\-]{21}[AQgw]")
_YT_NAME = _NameRule("_.-", 1, 100)
_YT_LEGACY = _NameRule("_-", 1, 100)  # no dots: keeps robots.txt, sw.js… out
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
        _bad_handle("youtube", raw)
    return Canonical(
        "youtube", f"youtube:handle:{handle}", f"https://www.youtube.com/@{_q(handle)}"
    )


def _yt_channel(channel: str) -> Canonical:
    if not _YT_CHANNEL.fullmatch(channel):
        _bad_handle("youtube_channel", channel)
    return Canonical(
        "youtube", f"youtube:channel:{channel}", f"https://www.youtube.com/channel/{channel}"
    )


def _yt_named(kind: str, raw: str, rule: _NameRule = _YT_NAME) -> Canonical:
    name = unicodedata.normalize("NFC", raw.lower())
    if not rule.fits(name):
        _bad_handle("youtube_name", raw)
    return Canonical(
        "youtube", f"youtube:{kind}:{name}", f"https://www.youtube.com/{kind}/{_q(name)}"
    )


def _youtube(link: _Link) -> Canonical:
    if link.domain in ("youtu.be", "youtube-nocookie.com"):
        _video("youtube")
    if link.sub not in _YT_SUBS:
        _unrecognised("youtube")
    segs = link.segments
    if not segs:
        if "v" in link.query:
            _video("youtube")
        _home("youtube")
    first = segs[0]
    low = first.lower()
    if first.startswith("@"):
        if not _tab_only(segs[1:], _YT_TABS):
            _unrecognised("youtube")
        return _yt_handle(first[1:])
    if low in ("channel", "c", "user") and len(segs) >= 2:
        if not _tab_only(segs[2:], _YT_TABS):
            _unrecognised("youtube")
        if low == "channel":
            return _yt_channel(segs[1])
        return _yt_named(low, segs[1])
    if low in _YT_VIDEO:
        _video("youtube")
    if low == "playlist":
        _playlist("youtube")
    if low in _YT_RESERVED:
        _system_page("youtube", first)
    if not _tab_only(segs[1:], _YT_TABS):
        _unrecognised("youtube")
    return _yt_named("c", first, _YT_LEGACY)


def _youtube_bare(text: str) -> Canonical:
    if text.startswith("@"):
        return _yt_handle(text[1:])
    if _YT_CHANNEL.fullmatch(text):
        return _yt_channel(text)
    return _yt_handle(text)


# --------------------------------------------------------------------------- tiktok

_TT_HANDLE = re.compile(r"[A-Za-z0-9_.]{2,24}")
_TT_SHORT = re.compile(r"[A-Za-z0-9]{5,20}")
_TT_VIDEO = frozenset({"video", "photo", "v", "embed", "live", "music"})


def _tt_handle(raw: str) -> Canonical:
    if not _TT_HANDLE.fullmatch(raw) or _only_punctuation(raw):
        _bad_handle("tiktok", raw)
    handle = raw.lower()
    return Canonical("tiktok", f"tiktok:handle:{handle}", f"https://www.tiktok.com/@{handle}")


def _tiktok(link: _Link) -> Canonical:
    segs = link.segments
    if link.sub in ("vm", "vt"):
        if not segs:
            _home("tiktok")
        if len(segs) != 1 or not _TT_SHORT.fullmatch(segs[0]):
            _bad_handle("tiktok_short", "/".join(segs))
        code = segs[0]
        return Canonical("tiktok", f"tiktok:short:{code}", f"https://vm.tiktok.com/{code}")
    if link.sub not in ("", "www", "m"):
        _unrecognised("tiktok")
    if not segs:
        _home("tiktok")
    first = segs[0]
    if first.startswith("@"):
        rest = segs[1:]
        if rest and rest[0].lower() in _TT_VIDEO:
            _video("tiktok")
        if rest:
            _unrecognised("tiktok")
        return _tt_handle(first[1:])
    low = first.lower()
    if low == "t":
        _share("tiktok")
    if low in _TT_VIDEO:
        _video("tiktok")
    _not_account(
        "tiktok",
        "Địa chỉ tài khoản TikTok có dấu @ trước tên.",
        "A TikTok account address has an @ before the name.",
    )


def _tiktok_bare(text: str) -> Canonical:
    return _tt_handle(text.removeprefix("@"))


# --------------------------------------------------------------------------- zalo

_ZALO_GROUP = re.compile(r"[A-Za-z0-9_\-]{4,64}")
_ZALO_OA = re.compile(r"[1-9][0-9]{14,19}")
_VN_MOBILE = re.compile(r"[35789][0-9]{8}")
_PHONE_SEPARATORS = re.compile(r"[ ().\-]")


def _vn_mobile(text: str) -> str | None:
    """The national 9-digit number of a Vietnamese mobile, or None."""
    if text.startswith("+"):
        rest = text[1:]
        if not rest.startswith("84"):
            return None
        rest = rest[2:]
    elif text.startswith("0084") and len(text) > 12:
        rest = text[4:]
    elif text.startswith("84") and len(text) in (11, 12):
        rest = text[2:]
    elif text.startswith("0"):
        rest = text[1:]
    else:
        return None
    if len(rest) == 10 and rest.startswith("0"):  # "+84 0912…": the trunk 0 written anyway
        rest = rest[1:]
    return rest if _VN_MOBILE.fullmatch(rest) else None


def _zalo_number(text: str) -> Canonical:
    if re.fullmatch(r"\+?[0-9]+", text):
        national = _vn_mobile(text)
        if national:
            return Canonical("zalo", f"zalo:phone:+84{national}", f"https://zalo.me/0{national}")
        if _ZALO_OA.fullmatch(text):
            return Canonical("zalo", f"zalo:oa:{text}", f"https://zalo.me/{text}")
    _bad_handle("zalo", text)


def _zalo(link: _Link) -> Canonical:
    segs = link.segments
    if link.domain != "zalo.me":
        _unrecognised("zalo")
    if link.sub == "oa":
        if len(segs) == 1 and _ZALO_OA.fullmatch(segs[0]):
            return _zalo_number(segs[0])
        _unrecognised("zalo")
    if link.sub not in ("", "www"):
        _unrecognised("zalo")
    if not segs:
        _home("zalo")
    low = segs[0].lower()
    if low == "g":
        if len(segs) != 2 or not _ZALO_GROUP.fullmatch(segs[1]):
            _bad_handle("zalo_group", "/".join(segs[1:]))
        code = segs[1]
        return Canonical("zalo", f"zalo:group:{code}", f"https://zalo.me/g/{code}")
    if low == "s":
        _not_account(
            "zalo",
            "Đây là liên kết tới một Mini App của Zalo, không phải tài khoản.",
            "This is a Zalo Mini App link, not an account.",
        )
    if len(segs) != 1:
        _unrecognised("zalo")
    return _zalo_number(segs[0])


def _zalo_bare(text: str) -> Canonical:
    return _zalo_number(_PHONE_SEPARATORS.sub("", text.removeprefix("@")))


# --------------------------------------------------------------------------- instagram

_IG_USER = re.compile(r"[A-Za-z0-9_.]{1,30}")
_IG_TABS = frozenset(
    {"tagged", "reels", "guides", "channel", "saved", "feed", "followers", "following"}
    | {"related_profiles", "igtv"}
)
_IG_POST = frozenset({"p", "tv"})
_IG_VIDEO = frozenset({"reel", "reels"})
_IG_RESERVED = frozenset(
    {"explore", "stories", "accounts", "direct", "about", "legal", "developer", "web", "emails"}
    | {"challenge", "session", "oauth", "privacy", "terms", "ar", "graphql", "api", "static"}
    | {"s", "nametag", "create", "lite", "topics", "directory", "locations", "invites"}
    | {"your_activity", "press", "blog", "download", "login", "signup", "help", "business"}
)


def _ig_user(raw: str) -> Canonical:
    if not _IG_USER.fullmatch(raw) or _only_punctuation(raw):
        _bad_handle("instagram", raw)
    user = raw.lower()
    if user in _IG_RESERVED or user in _IG_POST or user in _IG_VIDEO or user == "_u":
        _system_page("instagram", raw)
    return Canonical("instagram", f"instagram:user:{user}", f"https://www.instagram.com/{user}")


def _instagram(link: _Link) -> Canonical:
    if link.sub not in ("", "www", "m"):
        _unrecognised("instagram")
    segs = link.segments
    if segs and segs[0].lower() == "_u" and len(segs) >= 2:
        segs = segs[1:]
    if not segs:
        _home("instagram")
    low = segs[0].lower()
    if low in _IG_POST:
        _post("instagram")
    if low in _IG_VIDEO:
        _video("instagram")
    if low == "stories":
        _not_account(
            "instagram",
            "Đây là liên kết tới một tin (story), không phải tới tài khoản.",
            "This is a story, not an account.",
        )
    if low in _IG_RESERVED:
        _system_page("instagram", segs[0])
    rest = segs[1:]
    if rest and rest[0].lower() in _IG_POST:
        _post("instagram")
    if rest and rest[0].lower() in _IG_VIDEO and len(rest) >= 2:
        _video("instagram")
    if not _tab_only(rest, _IG_TABS):
        _unrecognised("instagram")
    return _ig_user(segs[0])


def _instagram_bare(text: str) -> Canonical:
    return _ig_user(text.removeprefix("@"))


# --------------------------------------------------------------------------- x

_X_HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}")
_X_TABS = frozenset(
    {"with_replies", "media", "likes", "highlights", "articles", "followers", "following"}
    | {"verified_followers", "followers_you_follow", "superfollows", "affiliates", "photo"}
    | {"header_photo", "communities", "lists"}
)
# Only routes of the site itself; real accounts such as @x, @premium or @verified stay valid.
_X_RESERVED = frozenset(
    {"home", "search", "explore", "i", "intent", "notifications", "messages", "settings"}
    | {"login", "logout", "signup", "tos", "privacy", "compose", "hashtag", "share", "account"}
    | {"who_to_follow", "download", "en", "rules", "bookmarks", "oauth", "search-advanced"}
    | {"personalization", "jobs"}
)


def _x_handle(raw: str) -> Canonical:
    if not _X_HANDLE.fullmatch(raw):
        _bad_handle("x", raw)
    handle = raw.lower()
    if handle in _X_RESERVED:
        _system_page("x", raw)
    return Canonical("x", f"x:handle:{handle}", f"https://x.com/{handle}")


def _x(link: _Link) -> Canonical:
    if link.domain == "t.co":
        _share("x")
    if link.sub not in ("", "www", "mobile", "m"):
        _unrecognised("x")
    segs = link.segments
    if not segs:
        _home("x")
    if segs[0].lower() in _X_RESERVED:
        _system_page("x", segs[0])
    rest = segs[1:]
    if rest and rest[0].lower() in ("status", "statuses"):
        _post("x")
    if not _tab_only(rest, _X_TABS):
        _unrecognised("x")
    return _x_handle(segs[0])


def _x_bare(text: str) -> Canonical:
    return _x_handle(text.removeprefix("@"))


# --------------------------------------------------------------------------- telegram

_TG_HANDLE = re.compile(r"[A-Za-z0-9_]{5,32}")
_TG_INVITE = re.compile(r"[A-Za-z0-9_\-]{5,64}")
_TG_PHONE = re.compile(r"[1-9][0-9]{6,14}")
# Link routes of t.me (not usernames); official channels such as t.me/telegram stay valid.
_TG_RESERVED = frozenset(
    {"addstickers", "addemoji", "addtheme", "addlist", "share", "proxy", "socks", "iv", "bg"}
    | {"setlanguage", "login", "c", "boost", "invoice", "confirmphone", "contact", "m", "nft"}
    | {"giftcode", "k", "z", "a", "web", "dl", "joinchat", "s"}
)


def _tg_handle(raw: str) -> Canonical:
    if not _TG_HANDLE.fullmatch(raw):
        _bad_handle("telegram", raw)
    handle = raw.lower()
    if handle in _TG_RESERVED:
        _system_page("telegram", raw)
    return Canonical("telegram", f"telegram:handle:{handle}", f"https://t.me/{handle}")


def _tg_invite(code: str) -> Canonical:
    if not _TG_INVITE.fullmatch(code):
        _bad_handle("telegram_invite", code)
    return Canonical("telegram", f"telegram:invite:{code}", f"https://t.me/+{code}")


def _telegram(link: _Link) -> Canonical:
    if link.domain == "telegram.org":
        _unrecognised("telegram")
    segs = link.segments
    if link.sub not in ("", "www"):
        if link.domain != "t.me" or "." in link.sub or segs:
            _unrecognised("telegram")
        return _tg_handle(link.sub)  # <name>.t.me
    if segs and segs[0].lower() == "s" and len(segs) >= 2:
        segs = segs[1:]
    if not segs:
        _home("telegram")
    first = segs[0]
    low = first.lower()
    if first.startswith("+"):
        if len(segs) != 1:
            _unrecognised("telegram")
        code = first[1:]
        if _ALL_DIGITS.fullmatch(code):
            if not _TG_PHONE.fullmatch(code):
                _bad_handle("telegram_phone", first)
            national = _vn_mobile(first)
            number = f"84{national}" if national else code
            return Canonical("telegram", f"telegram:phone:+{number}", f"https://t.me/+{number}")
        return _tg_invite(code)
    if low == "joinchat":
        if len(segs) != 2:
            _unrecognised("telegram")
        return _tg_invite(segs[1])
    if low in _TG_RESERVED:
        _system_page("telegram", first)
    if len(segs) >= 2:
        if _ALL_DIGITS.fullmatch(segs[1]):
            _post("telegram")
        _unrecognised("telegram")
    return _tg_handle(first)


def _telegram_bare(text: str) -> Canonical:
    return _tg_handle(text.removeprefix("@"))


# --------------------------------------------------------------------------- threads

_TH_TABS = frozenset({"replies", "reposts", "media"})


def _th_handle(raw: str) -> Canonical:
    if not _IG_USER.fullmatch(raw) or _only_punctuation(raw):
        _bad_handle("threads", raw)
    handle = raw.lower()
    return Canonical("threads", f"threads:handle:{handle}", f"https://www.threads.com/@{handle}")


def _threads(link: _Link) -> Canonical:
    if link.sub not in ("", "www"):
        _unrecognised("threads")
    segs = link.segments
    if not segs:
        _home("threads")
    first = segs[0]
    if first.startswith("@"):
        rest = segs[1:]
        if rest and rest[0].lower() == "post":
            _post("threads")
        if not _tab_only(rest, _TH_TABS):
            _unrecognised("threads")
        return _th_handle(first[1:])
    if first.lower() in ("t", "post"):
        _post("threads")
    _not_account(
        "threads",
        "Địa chỉ tài khoản Threads có dấu @ trước tên.",
        "A Threads account address has an @ before the name.",
    )


def _threads_bare(text: str) -> Canonical:
    return _th_handle(text.removeprefix("@"))


# --------------------------------------------------------------------------- linkedin

_LI_COUNTRY = re.compile(r"[a-z]{2}")
_LI_IN = _NameRule("_-", 3, 100)
_LI_COMPANY = _NameRule("_-", 1, 100)
_LI_IN_TABS = frozenset({"recent-activity", "details", "overlay"})
_LI_COMPANY_TABS = frozenset(
    {"about", "posts", "jobs", "people", "life", "videos", "events", "insights", "mycompany"}
)
_LI_POST = frozenset({"posts", "pulse"})


def _linkedin(link: _Link) -> Canonical:
    if link.domain == "lnkd.in":
        _share("linkedin")
    if link.sub not in ("", "www", "m") and not _LI_COUNTRY.fullmatch(link.sub):
        _unrecognised("linkedin")
    segs = link.segments
    if not segs:
        _home("linkedin")
    low = segs[0].lower()
    if low in ("in", "company") and len(segs) >= 2:
        rest = segs[2:]
        tabs = _LI_IN_TABS if low == "in" else _LI_COMPANY_TABS
        if rest and rest[0].lower() not in tabs:
            _unrecognised("linkedin")
        slug = unicodedata.normalize("NFC", segs[1].lower())
        name_rule, rule = (_LI_IN, "linkedin") if low == "in" else (_LI_COMPANY, "linkedin_company")
        if not name_rule.fits(slug):
            _bad_handle(rule, segs[1])
        return Canonical(
            "linkedin", f"linkedin:{low}:{slug}", f"https://www.linkedin.com/{low}/{_q(slug)}"
        )
    if low in _LI_POST:
        _post("linkedin")
    if low in ("feed", "search", "jobs", "messaging", "notifications", "mynetwork", "groups"):
        _system_page("linkedin", segs[0])
    if low == "pub":
        _not_account(
            "linkedin",
            "Đây là dạng địa chỉ hồ sơ LinkedIn cũ (/pub/…); hãy mở nó và sao chép địa chỉ mới.",
            "This is an old LinkedIn profile address (/pub/…); open it and copy the new one.",
        )
    _unrecognised("linkedin")


def _linkedin_bare(text: str) -> Canonical:
    _not_account(
        "linkedin",
        "Với LinkedIn cần nhập đầy đủ liên kết (hồ sơ cá nhân và trang công ty có địa chỉ khác "
        "nhau).",
        "LinkedIn needs the full link (personal profiles and company pages are different).",
    )


# --------------------------------------------------------------------------- websites

_PCHAR_SAFE = "!$&'()*+,;=:@-._~"


def _website(platform: str, link: _Link) -> Canonical:
    host = link.host
    if host.startswith("www.") and host.count(".") >= 2:
        host = host[4:]
    port = f":{link.port}" if link.port not in (None, 80, 443) else ""
    path = "".join("/" + quote(segment, safe=_PCHAR_SAFE) for segment in link.segments)
    body = f"{host}{port}{path}"
    return Canonical(platform, f"{platform}:{body}", f"https://{body}")


# --------------------------------------------------------------------------- entry point

_FROM_LINK: dict[str, Callable[[_Link], Canonical]] = {
    "facebook": _facebook,
    "zalo": _zalo,
    "youtube": _youtube,
    "tiktok": _tiktok,
    "instagram": _instagram,
    "x": _x,
    "telegram": _telegram,
    "threads": _threads,
    "linkedin": _linkedin,
}

_FROM_HANDLE: dict[str, Callable[[str], Canonical]] = {
    "facebook": _facebook_bare,
    "zalo": _zalo_bare,
    "youtube": _youtube_bare,
    "tiktok": _tiktok_bare,
    "instagram": _instagram_bare,
    "x": _x_bare,
    "telegram": _telegram_bare,
    "threads": _threads_bare,
    "linkedin": _linkedin_bare,
}


def canonicalize(platform: str | None, value: str) -> Canonical:
    """The canonical key and url of the account `value` names on `platform`.

    `platform` None means "infer from the link's host". Raises `InvalidAccountUrl`, with
    Vietnamese and English details, for anything that is not an account address.
    """
    code = _check_platform(platform)
    text = _clean(value, code)
    if _is_bare(text, code):
        if code is None:
            _fail(
                "Hãy chọn nền tảng, hoặc nhập đầy đủ liên kết tới tài khoản.",
                "Choose the platform, or give the full link to the account.",
            )
        return _FROM_HANDLE[code](text)
    link = _parse(text)
    owner = link.platform
    if owner is None:
        if code is None:
            _fail(
                f"Không xác định được nền tảng của “{_shown(link.host)}”; hãy chọn nền tảng "
                "(website hoặc other cho trang web riêng).",
                f"Cannot tell the platform of “{_shown(link.host)}”; choose one "
                "(website or other for a site of its own).",
            )
        if code not in ("website", "other"):
            vi, en = _LABELS[code]
            ex_vi, ex_en = _EXAMPLES[code]
            _fail(
                f"“{_shown(link.host)}” không phải địa chỉ {vi}; địa chỉ {vi} có dạng {ex_vi}.",
                f"“{_shown(link.host)}” is not a {en} address; {en} addresses look like {ex_en}.",
            )
        return _website(code, link)
    owner_vi, owner_en = _LABELS[owner]
    if code in ("website", "other"):
        _fail(
            f"Đây là liên kết {owner_vi}; hãy khai báo với nền tảng “{owner}” để hệ thống "
            "nhận ra tài khoản trùng.",
            f"This is a {owner_en} link; declare it with platform “{owner}” so that "
            "duplicates are recognised.",
        )
    if code is not None and code != owner:
        vi, en = _LABELS[code]
        _fail(
            f"Liên kết này thuộc {owner_vi}, nhưng nền tảng đã chọn là {vi}. Hãy chọn đúng "
            "nền tảng hoặc sửa lại liên kết.",
            f"This link belongs to {owner_en}, but the platform chosen is {en}. Choose the "
            "right platform or fix the link.",
        )
    if link.port not in (None, 80, 443):
        _fail(
            f"Địa chỉ {owner_vi} không dùng cổng {link.port}; hãy bỏ phần “:{link.port}”.",
            f"{owner_en} addresses do not use port {link.port}; remove “:{link.port}”.",
        )
    return _FROM_LINK[owner](link)


# --------------------------------------------------------------------------- content links

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


def _account_of(platform: str, link: _Link) -> str | None:
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
            f"https://{_CONTENT_HOST.get(platform, link.host)}/{_q(link.segments[0])}"
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
    code = _check_platform(platform)
    text = _clean(value, code)
    if _is_bare(text, code):
        _fail(
            "Hãy nhập đầy đủ liên kết tới nội dung (bắt đầu bằng https://).",
            "Give the full link to the content (starting with https://).",
        )
    link = _parse(text)
    owner = link.platform
    if owner is None:
        if code not in (None, "website", "other"):
            vi, en = _LABELS[code]
            _fail(
                f"“{_shown(link.host)}” không phải địa chỉ {vi}.",
                f"“{_shown(link.host)}” is not a {en} address.",
            )
        owner = code or "website"
        host = (
            link.host[4:]
            if link.host.startswith("www.") and link.host.count(".") >= 2
            else link.host
        )
        port = f":{link.port}" if link.port not in (None, 80, 443) else ""
        params = sorted(
            (k, v) for k, values in link.query.items() if not _TRACKING.match(k) for v in values
        )
        path = "".join("/" + quote(s, safe=_PCHAR_SAFE) for s in link.segments)
        query = ("?" + urlencode(params)) if params else ""
        try:
            site_key: str | None = canonicalize(owner, text).key
        except InvalidAccountUrl:
            site_key = None
        return ContentLink(owner, f"https://{host}{port}{path}{query}", site_key)
    if code is not None and code != owner:
        owner_vi, owner_en = _LABELS[owner]
        vi, en = _LABELS[code]
        _fail(
            f"Liên kết này thuộc {owner_vi}, nhưng nền tảng đã chọn là {vi}.",
            f"This link belongs to {owner_en}, but the platform chosen is {en}.",
        )
    if link.port not in (None, 80, 443):
        owner_vi, owner_en = _LABELS[owner]
        _fail(
            f"Địa chỉ {owner_vi} không dùng cổng {link.port}; hãy bỏ phần “:{link.port}”.",
            f"{owner_en} addresses do not use port {link.port}; remove “:{link.port}”.",
        )
    if owner == "facebook" and (link.segments[:1] == ("l.php",) or link.sub in ("l", "lm")):
        target = link.query.get("u", [""])[0]
        inner = _parse(_clean(target, None)) if target else None
        if inner is None or (inner.platform == "facebook" and inner.segments[:1] == ("l.php",)):
            _fail(
                "Liên kết chuyển hướng của Facebook không có địa chỉ đích; hãy dán liên kết gốc.",
                "The Facebook redirect link has no target; paste the original link.",
            )
        return canonical_content(None, target)
    try:
        account = canonicalize(code, text)
    except InvalidAccountUrl:
        account = None
    if account is not None:
        return ContentLink(account.platform, account.url, account.key)
    segments, query_map = link.segments, link.query
    if link.domain in _SHORT_HOSTS and segments:
        if link.domain == "youtu.be":
            segments, query_map = ("watch",), {"v": [segments[0]], **{
                k: v for k, v in query_map.items() if k == "list"}}  # fmt: skip
        else:
            segments = ("watch", *segments)
    elif link.domain in _SHORT_HOSTS or not segments:
        _fail(
            "Liên kết không trỏ tới nội dung cụ thể nào; hãy dán liên kết của bài viết.",
            "The link names no particular content; paste the post's link.",
        )
    normalised = _Link(link.host, link.domain, link.sub, owner, link.port, segments, query_map)
    account_key = _account_of(owner, normalised)
    if account_key is not None and account_key.startswith("facebook:user:"):
        # /Some.Page/posts/1 and /somepage/posts/1 are one post: the username as keyed.
        segments = (account_key.removeprefix("facebook:user:"), *segments[1:])
    keep = _CONTENT_PARAMS.get(owner, frozenset())
    params = sorted((k, v) for k, values in query_map.items() if k in keep for v in values)
    path = "".join("/" + quote(s, safe=_PCHAR_SAFE) for s in segments)
    query = ("?" + urlencode(params)) if params else ""
    return ContentLink(owner, f"https://{_CONTENT_HOST[owner]}{path}{query}", account_key)
