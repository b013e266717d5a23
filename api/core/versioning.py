"""Optimistic concurrency: compare the client's If-Match version with the row's."""

from __future__ import annotations

from api.core.errors import PreconditionFailed


def check_version(expected: int | None, current: int) -> None:
    if expected is not None and expected != current:
        raise PreconditionFailed(
            "version_mismatch",
            f"Dữ liệu đã thay đổi (phiên bản hiện tại {current}); hãy tải lại.",
            f"The resource changed (current version {current}); reload it.",
        )
