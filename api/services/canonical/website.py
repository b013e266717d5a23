"""Websites (platform ``website`` or ``other``).

Key ``<prefix>:<host>[:port]<path>``: host lower-cased, ``www.`` dropped (when two labels
remain), punycode; port kept only when not 80/443 (``example.com:8080`` is another site);
path segments decoded, NFC'd and re-encoded with one fixed safe set (so ``%7E`` and ``~``
agree, and case in the path is kept: servers may be case-sensitive), no trailing slash;
query and fragment dropped (almost always tracking, view or session state). The canonical
url is always ``https://`` + the key body, so it carries no ``www.``; scheme is not part
of a site's identity. Non-ASCII characters are percent-encoded (UTF-8).
"""

from __future__ import annotations

from urllib.parse import quote

from api.services.canonical.core import PCHAR_SAFE, Canonical
from api.services.canonical.urls import Link


def from_link(platform: str, link: Link) -> Canonical:
    host = link.host
    if host.startswith("www.") and host.count(".") >= 2:
        host = host[4:]
    port = f":{link.port}" if link.port not in (None, 80, 443) else ""
    path = "".join("/" + quote(segment, safe=PCHAR_SAFE) for segment in link.segments)
    body = f"{host}{port}{path}"
    return Canonical(platform, f"{platform}:{body}", f"https://{body}")
