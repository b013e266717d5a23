"""The attack tests send many requests from one address and one member: the login and
report-filing limits (tested in tests/routers) would otherwise turn them into 429s."""

from __future__ import annotations

import pytest

from api.core.config import get_settings


@pytest.fixture(autouse=True)
def _generous_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "login_max_failures", 100_000)
    monkeypatch.setattr(settings, "login_max_failures_per_address", 100_000)
    monkeypatch.setattr(settings, "report_rate_limit", 100_000)
