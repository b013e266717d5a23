"""Canonical account keys: one stable key per social account, whatever link shape was pasted.

``canonicalize(platform, value)`` (account.py) turns a URL, a scheme-less URL or a bare
handle into a ``Canonical(platform, key, url)``. The key is what uniqueness is enforced on
(two active declarations of one key by different members is 409 ``duplicate_account``);
the url is a clean https link that canonicalises back to the very same key and url (keys
are idempotent). Everything that is not an account address raises ``InvalidAccountUrl``
(a ``ValueError``) carrying ``detail_vi`` and ``detail_en``: specific, user-facing
explanations of what is wrong and what to paste instead. Pure standard library; no
network access, so nothing is resolved. ``canonical_content`` (links.py) does the same
for links to reported content.

Each platform has its module (facebook.py … linkedin.py, website.py for ``website`` and
``other``), whose docstring gives its keys, urls, hosts and handle rules; clean.py,
hosts.py and urls.py read the input, and docs/canonical-keys.md has the table of every
key format on one page.
"""

from api.services.canonical.account import canonicalize
from api.services.canonical.core import MAX_LENGTH, PLATFORMS, Canonical, InvalidAccountUrl
from api.services.canonical.links import ContentLink, canonical_content

__all__ = [
    "MAX_LENGTH",
    "PLATFORMS",
    "Canonical",
    "ContentLink",
    "InvalidAccountUrl",
    "canonical_content",
    "canonicalize",
]
