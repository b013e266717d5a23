"""The app with statistics upkeep as a no-op (counters.touch, acknowledged, shift and
detach do nothing): the baseline against which bench/load.py measures what keeping the counters
costs under load. Its statistics are wrong by design; never serve it for real."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.main import create_app as _create_app
from api.services import counters


async def _nothing(*_args: Any, **_kwargs: Any) -> None:
    return None


def create_app() -> FastAPI:
    counters.touch = _nothing  # type: ignore[assignment]
    # Until 2026-12-05 acknowledgements kept their counters here too, so the campaign's
    # "upkeep vs no-op" compared upkeep with upkeep (the 1.06x of docs/reliability.md).
    counters.acknowledged = _nothing  # type: ignore[assignment]
    counters.shift = _nothing  # type: ignore[assignment]
    counters.detach = _nothing  # type: ignore[assignment]
    return _create_app()
