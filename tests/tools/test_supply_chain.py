"""scripts/audit.py: the supply-chain gate fails on a known vulnerability in the lock,
and says how many packages the vulnerability service could check."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("qd85_audit", ROOT / "scripts" / "audit.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The shape pip-audit 2.x writes with `-f json`.
CLEAN = {"name": "fastapi", "version": "1.0.0", "vulns": []}
VULNERABLE = {
    "name": "jinja2",
    "version": "2.10",
    "vulns": [
        {
            "id": "PYSEC-2019-217",
            "fix_versions": ["2.10.1"],
            "aliases": ["CVE-2019-10906"],
            "description": "sandbox escape",
        },
    ],
}
UNCHECKED = {"name": "qd85-private", "skip_reason": "Dependency not found on PyPI"}


class TestVerdict:
    def test_a_known_vulnerability_fails(self) -> None:
        status, lines = _audit().verdict({"dependencies": [CLEAN, VULNERABLE]}, strict=False)
        assert status == 1
        assert lines[0] == "jinja2 2.10: PYSEC-2019-217 (fixed in 2.10.1)"
        assert "2 of 2 locked packages checked, 1 with known vulnerabilities" in lines[1]

    def test_clean_lock_passes(self) -> None:
        status, lines = _audit().verdict({"dependencies": [CLEAN]}, strict=True)
        assert status == 0
        assert lines == ["pip-audit: 1 of 1 locked packages checked, 0 with known vulnerabilities"]

    @pytest.mark.parametrize(("strict", "expected"), [(False, 0), (True, 1)])
    def test_unchecked_packages_fail_only_when_strict(self, strict: bool, expected: int) -> None:
        status, lines = _audit().verdict({"dependencies": [CLEAN, UNCHECKED]}, strict=strict)
        assert status == expected
        assert "1 of 2 locked packages checked" in lines[0]
        assert "1 could not be checked (first: Dependency not found on PyPI)" in lines[1]

    def test_vulnerable_and_unchecked_still_fails(self) -> None:
        report = {"dependencies": [VULNERABLE, UNCHECKED]}
        assert _audit().verdict(report, strict=False)[0] == 1

    def test_an_empty_report_fails(self) -> None:
        assert _audit().verdict({"dependencies": []}, strict=False)[0] == 1
