"""A pasted value read as a link (``Link``), or recognised as a bare handle.

* Only ``http``/``https`` or no scheme (``facebook.com/abc``, ``//facebook.com/abc``).
  ``javascript:``, ``data:``, ``file:``, ``mailto:``, app deep links (``fb://``, ``tg://``)
  are rejected. ``https:facebook.com`` (no ``//``) is rejected as malformed.
* Userinfo (``user:pass@host``) is rejected (a classic way to disguise the real host).
* Path segments are split on ``/`` first, then percent-decoded (strict UTF-8), NFC'd, ``.``
  and ``..`` resolved, empty segments (``//``, trailing ``/``) dropped.
* The query string and fragment never enter a key, so every tracking parameter (``utm_*``,
  ``fbclid``, ``igshid``, ``si``, ``ref``, ``mibextid``, ``_t``, ``is_from_webapp``…) is gone
  by construction. The only parameters read are ``profile.php?id=`` (the account) and
  ``watch?v=``/``playlist?list=`` (only to explain the error). An old hash-bang link
  (``facebook.com/#!/someone``, ``twitter.com/#!/someone``) is read from its fragment.
* A value is a bare handle when it has no scheme, no ``/``, ``?`` or ``#``, and either starts
  with ``@`` or (for a platform that has handles) is not itself a known platform host. So
  ``some.user`` with platform facebook is a username, while ``facebook.com`` is a URL (and,
  being a home page, invalid). Bare handles need a platform.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import parse_qs, unquote, urlsplit

from api.core.i18n import msg
from api.services.canonical.clean import reject_bad_chars
from api.services.canonical.core import fail, shown
from api.services.canonical.hosts import DOMAINS, bad_host, find_domain, normalise_host

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_HOST_PORT = re.compile(r"[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+:[0-9]*(?:[/?#]|$)")


@dataclass(frozen=True, slots=True)
class Link:
    host: str  # ASCII, lower case, no trailing dot
    domain: str  # the matched platform domain, or the host itself
    sub: str  # the subdomain left of `domain` ("" for none)
    platform: str | None  # the platform owning the host, None for other hosts
    port: int | None
    segments: tuple[str, ...]  # decoded, NFC, dot segments resolved, no empty ones
    query: dict[str, list[str]]


def malformed() -> NoReturn:
    fail(
        msg("canonical.malformed"),
    )


def split_segments(path: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in path.split("/"):
        if not raw:
            continue
        try:
            segment = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            fail(
                msg("canonical.bad_percent_encoding"),
            )
        segment = unicodedata.normalize("NFC", segment)
        reject_bad_chars(segment)
        if segment == ".":
            continue
        if segment == "..":
            if out:
                out.pop()
            continue
        out.append(segment)
    return tuple(out)


def parse_link(text: str) -> Link:
    scheme = _SCHEME.match(text)
    if scheme and not _HOST_PORT.match(text):
        name = scheme.group(1).lower()
        if name not in ("http", "https"):
            fail(
                msg("canonical.scheme", name=shown(name)),
            )
        rest = text[scheme.end() :]
        if not rest.startswith("//"):
            malformed()
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
        malformed()
    if "@" in parts.netloc:
        fail(
            msg("canonical.userinfo"),
        )
    if parts.netloc.startswith("["):
        bad_host(parts.netloc)
    if not hostname:
        malformed()
    if port == 0:
        malformed()
    host = normalise_host(hostname)
    found = find_domain(host)
    domain, sub = found if found else (host, "")
    return Link(
        host=host,
        domain=domain,
        sub=sub,
        platform=DOMAINS[domain] if found else None,
        port=port,
        segments=split_segments(parts.path),
        query=parse_qs(parts.query, keep_blank_values=True),
    )


def is_bare(text: str, platform: str | None) -> bool:
    if platform in ("website", "other"):
        return False
    if text.startswith("@"):
        return True
    if _SCHEME.match(text) or text.startswith("//") or any(c in text for c in "/?#"):
        return False
    if platform is None and "." in text:
        return False
    head = text.lower().removesuffix(".")
    return head not in DOMAINS and find_domain(head) is None
