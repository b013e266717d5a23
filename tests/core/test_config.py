"""Settings that refuse to start (issue 14, finding 8: the committed development key)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.core.config import DEFAULT_SECRET, Settings
from api.main import create_app

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 40


class TestDevelopmentKey:
    @pytest.mark.parametrize("env", ["test", "production"])
    def test_the_committed_key_is_refused_outside_development(self, env: str) -> None:
        with pytest.raises(ValidationError, match="QD85_SECRET_KEY"):
            Settings(env=env, secret_key=DEFAULT_SECRET)

    @pytest.mark.parametrize("env", ["development", "test", "production"])
    def test_a_real_key_is_accepted(self, env: str) -> None:
        assert Settings(env=env, secret_key=GOOD_KEY).secret_key == GOOD_KEY

    def test_production_still_needs_32_characters(self) -> None:
        with pytest.raises(ValidationError, match="32 characters"):
            Settings(env="production", secret_key="short-but-not-default")

    def test_development_with_the_committed_key_warns(self) -> None:
        def warnings_of(settings: Settings) -> list[logging.LogRecord]:
            records: list[logging.LogRecord] = []
            handler = logging.Handler()
            handler.emit = records.append  # type: ignore[method-assign]
            logger = logging.getLogger("qd85")
            logger.addHandler(handler)
            try:
                create_app(settings)
            finally:
                logger.removeHandler(handler)
            return [r for r in records if "development_secret_key" in r.getMessage()]

        (warning,) = warnings_of(Settings(env="development", secret_key=DEFAULT_SECRET))
        assert warning.levelno == logging.WARNING
        assert warnings_of(Settings(env="development", secret_key=GOOD_KEY)) == []

    def test_the_command_line_refuses_to_start_with_one_line(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "QD85_SECRET_KEY"}
        result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "api.cli", "openapi", "--out", os.devnull],
            env={**env, "QD85_ENV": "test"},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode != 0
        assert "QD85_SECRET_KEY" in result.stderr
