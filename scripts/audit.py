"""Supply-chain check: pip-audit over the locked dependencies (constraints.txt).

Fails (exit 1) when any locked package has a known vulnerability. A package the
vulnerability service cannot answer for is listed as unchecked; that fails only with
QD85_AUDIT_STRICT=1, because some networks (this project's CI sandbox among them) reach
PyPI's package index but not its vulnerability data, and a red build there would say
nothing about the dependencies. The summary line always says how many were checked.

    .venv/bin/python scripts/audit.py [constraints.txt]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def verdict(report: dict[str, Any], *, strict: bool) -> tuple[int, list[str]]:
    """Exit status and the lines to print for a pip-audit JSON report."""
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    unchecked = [d for d in deps if "skip_reason" in d]
    lines = [
        f"{d['name']} {d['version']}: {v['id']} (fixed in "
        f"{', '.join(v.get('fix_versions') or ['-'])})"
        for d in vulnerable
        for v in d["vulns"]
    ]
    checked = len(deps) - len(unchecked)
    lines.append(
        f"pip-audit: {checked} of {len(deps)} locked packages checked, "
        f"{len(vulnerable)} with known vulnerabilities"
    )
    if unchecked:
        lines.append(
            f"pip-audit: {len(unchecked)} could not be checked "
            f"(first: {unchecked[0]['skip_reason']})"
        )
    failed = bool(vulnerable) or (strict and bool(unchecked)) or not deps
    return (1 if failed else 0), lines


def main() -> int:
    lock = Path(sys.argv[1] if len(sys.argv) > 1 else "constraints.txt")
    audit = Path(sys.executable).with_name("pip-audit")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        run = subprocess.run(  # noqa: S603 - fixed argv
            [
                str(audit),
                "-r",
                str(lock),
                "--no-deps",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "-f",
                "json",
                "-o",
                str(out),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if not out.exists():
            sys.stderr.write(run.stderr + "\npip-audit did not produce a report\n")
            return 2
        report = json.loads(out.read_text())
    status, lines = verdict(report, strict=os.environ.get("QD85_AUDIT_STRICT") == "1")
    (sys.stderr if status else sys.stdout).write("".join(f"{line}\n" for line in lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
