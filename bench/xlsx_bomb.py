"""XLSX decompression bombs against the roster reader, in a fresh process each: prints
the body size, the answer (rows read or the problem code), the process's peak RSS
growth (issue 14, finding 1; target: under 200 MB for any body) and the peak RSS of the
child process that reads the sheet (issue 22; its address space is capped at start-up
plus 200 MiB).

    .venv/bin/python bench/xlsx_bomb.py [--mib 100]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import time
import zipfile

_CT = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WB = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def bomb(strings_mib: int = 0, rows: int = 2) -> bytes:
    """A valid workbook: a header and `rows` rows in the sheet, and `strings_mib` MiB of
    shared strings (many small distinct strings, which is what costs memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS}>'.encode())
            for s in ("external_id", "full_name", "unit_code", "membership"):
                f.write(f"<si><t>{s}</t></si>".encode())
            block = b"".join(b"<si><t>s%08d</t></si>" % i for i in range(4096))
            for _ in range(strings_mib * (1 << 20) // len(block)):
                f.write(block)
            f.write(b"</sst>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}><sheetData>'.encode())
            f.write(
                b'<row r="1">'
                + b"".join(
                    b'<c r="%s1" t="s"><v>%d</v></c>' % (col, i)
                    for i, col in enumerate((b"A", b"B", b"C", b"D"))
                )
                + b"</row>"
            )
            for r in range(2, rows + 2):
                f.write(
                    b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>X%d</t></is></c>'
                    b'<c r="B%d" t="inlineStr"><is><t>Nguyen Van An</t></is></c>'
                    b'<c r="C%d" t="inlineStr"><is><t>A.1</t></is></c>'
                    b'<c r="D%d" t="inlineStr"><is><t>official</t></is></c></row>'
                    % (r, r, r, r, r, r)
                )
            f.write(b"</sheetData></worksheet>")
    return out.getvalue()


def _child(path: str) -> None:
    from api.services.roster.parse import RosterReader
    from api.services.xlsx import XLSX

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    try:
        with open(path, "rb") as f:
            reader = RosterReader(f, XLSX)
            outcome = f"{sum(1 for _ in reader.members())} rows"
    except Exception as exc:  # an AppError: its code
        outcome = f"{type(exc).__name__} {getattr(exc, 'code', '')} {getattr(exc, 'status', '')}"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # The sheet is read in a child process with a 200 MiB budget (issue 22): its peak.
    reader = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                "outcome": outcome,
                "growth_mb": round((peak - before) / 1024),
                "reader_peak_mb": round(reader / 1024),
                "seconds": round(time.monotonic() - started, 2),
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, nargs="*", default=[100, 40, 0])
    parser.add_argument("--rows", type=int, default=2)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return 0
    import tempfile

    worst = 0
    for mib in args.mib:
        body = bomb(mib, args.rows)
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as f:
            f.write(body)
            f.flush()
            out = subprocess.run(
                [sys.executable, __file__, "--child", f.name],
                capture_output=True,
                text=True,
                check=True,
                timeout=300,
            ).stdout
        result = json.loads(out)
        worst = max(worst, result["growth_mb"])
        print(f"shared strings {mib:4d} MiB, body {len(body) / 1024:8.0f} KiB: {result}")
    print("PASS" if worst < 200 else "FAIL", f"worst growth {worst} MB (target < 200 MB)")
    return 0 if worst < 200 else 1


if __name__ == "__main__":
    sys.exit(main())
