"""Text cells of CSV output that a spreadsheet cannot run (issue 14, finding 3).

Every text cell is quoted by the writer (`csv.QUOTE_NONNUMERIC`) and passed through
`safe_text`, which puts a `'` before a formula trigger (`= + - @`, tab, CR, LF) at the
start of the cell and wherever one follows a separator a spreadsheet might split on
(`,` `;` tab, a line break, a quote), spaces allowed in between: Vietnamese Excel uses
`;` as its list separator, so a unit named `Chi bộ;=1+1;` must not become a cell `=1+1`
whichever separator the file is read with. Numbers are written as numbers.
"""

from __future__ import annotations

import re

TRIGGERS = "=+-@\t\r\n"
_AT_START = re.compile(r"^([ ]*)([=+\-@\t\r\n])")
_AFTER_SEPARATOR = re.compile(r"([,;\t\r\n\"][ ]*)([=+\-@])")


def safe_text(value: str) -> str:
    value = _AFTER_SEPARATOR.sub(r"\1'\2", value)
    return _AT_START.sub(r"\1'\2", value)
