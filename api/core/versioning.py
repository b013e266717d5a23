"""Optimistic concurrency: compare the client's If-Match version with the row's."""

from __future__ import annotations

from api.core.errors import PreconditionFailed
from api.core.i18n import msg


def check_version(expected: int | None, current: int) -> None:
    if expected is not None and expected != current:
        raise PreconditionFailed(
            "version_mismatch",
            msg("http.version_mismatch", current=current),
        )
