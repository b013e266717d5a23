"""Hypothesis profiles (loaded by tests/conftest.py), so that no example-drawing test
decides CI at random.

- `ci` (when the `CI` environment variable is set, as `.ci/run` does): derandomised, the
  same examples on every run and machine, each test's own example budget, no example
  database, no deadline.
- `dev` (default elsewhere): random examples with each test's budget, as Hypothesis does.
- `deep`: random examples, each test's budget times `QD85_HYPOTHESIS_SCALE` (default 20),
  for exploring: `QD85_HYPOTHESIS_PROFILE=deep .venv/bin/pytest tests/services`.

A failure found by `dev` or `deep` is kept in the test as an `@example(...)`, so CI then
runs it every time. Tests give their budget as `budget(n)`.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("QD85_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
SCALE = int(os.environ.get("QD85_HYPOTHESIS_SCALE", "20")) if PROFILE == "deep" else 1

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None)
settings.register_profile("deep", max_examples=100 * SCALE, deadline=None, print_blob=True)


def budget(examples: int) -> int:
    """A test's example budget under the active profile (fixed in CI)."""
    return examples * SCALE


def load() -> None:
    settings.load_profile(PROFILE)
