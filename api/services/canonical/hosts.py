"""Hosts: which platform a host belongs to, and which hosts are refused.

* Hosts are lower-cased, percent-decoded, a single trailing dot dropped, IDNs converted to
  punycode (``xn--``). IP literals, ``localhost``, single-label hosts, numeric TLDs and
  private-use TLDs (``.local``, ``.internal``, ``.test``, ``.invalid``, ``.example``,
  ``.localhost``, ``.lan``, ``.home``, ``.corp``, ``.intranet``, ``.arpa``) are rejected.
* ``DOMAINS`` maps each registrable platform domain to its platform; the subdomains a
  platform accepts are checked by its module. Other subdomains of these (``l.facebook.com``
  redirects, ``business.facebook.com``, ``chat.zalo.me``…) and the platforms' link hosts
  that never name an account (``youtu.be``, ``youtube-nocookie.com``, ``fb.watch``,
  ``fb.gg``, ``t.co``, ``lnkd.in``, ``telegram.org``, ``zaloapp.com``) are rejected with an
  explanation.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import NoReturn
from urllib.parse import unquote

from api.core.i18n import msg
from api.services.canonical.clean import reject_bad_chars
from api.services.canonical.core import fail, shown

# Registrable platform domains -> platform. Subdomains are checked by each platform.
DOMAINS: dict[str, str] = {
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


def find_domain(host: str) -> tuple[str, str] | None:
    """(registrable platform domain, subdomain) for a platform host, else None."""
    labels = host.split(".")
    for i in range(len(labels) - 1):
        domain = ".".join(labels[i:])
        if domain in DOMAINS:
            return domain, ".".join(labels[:i])
    return None


def bad_host(host: str) -> NoReturn:
    fail(
        msg("canonical.not_public_domain", host=shown(host)),
    )


def normalise_host(raw: str) -> str:
    try:
        host = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        bad_host(raw)
    host = unicodedata.normalize("NFC", host).lower().removesuffix(".")
    reject_bad_chars(host)
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            bad_host(raw)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        bad_host(host)
    labels = host.split(".")
    if (
        len(host) > 253
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or not _TLD.fullmatch(labels[-1])
        or labels[-1] in _PRIVATE_TLDS
    ):
        bad_host(host)
    return host
