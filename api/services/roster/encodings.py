"""Which text encoding a roster body is read in (no FastAPI here).

UTF-8 (with or without BOM) is read as it is. A CSV that is not UTF-8 is converted when
the whole file reads as TCVN3 or Windows-1258; a file that mixes UTF-8 with another
encoding, and anything else, is refused (422 `unsupported_encoding`), because converting
it would turn names into mojibake.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from api.core.legacy_encodings import (
    CP1258_CODEC,
    TCVN3,
    TCVN3_CODEC,
    UNKNOWN,
    VNI,
    reads_as_cp1258,
    sniff_legacy,
    utf8_and_legacy_lines,
)
from api.services.roster.errors import invalid_json, mixed_encoding, unsupported_encoding

JSON, NDJSON, CSV = "json", "ndjson", "csv"
UTF8 = "utf-8"
TCVN3_CONVERTED = "TCVN3 (converted to Unicode)"
CP1258_CONVERTED = "Windows-1258 (converted to Unicode)"
READ_SIZE = 1 << 20


def check_utf8(file: IO[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    file.seek(0)
    try:
        while chunk := file.read(READ_SIZE):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        file.seek(0)
    return True


@contextmanager
def as_text(file: IO[bytes], codec: str) -> Iterator[io.TextIOWrapper]:
    """The body as text, UTF-8 (a leading BOM dropped), TCVN3 or Windows-1258, lines
    split only at \n, \r\n and \r (as csv expects). The spooled file stays open."""
    file.seek(0)
    wrapper = io.TextIOWrapper(file, encoding=codec, newline="")
    try:
        yield wrapper
    finally:
        wrapper.detach()


def detect(file: IO[bytes], fmt: str) -> tuple[str, str]:
    """(the codec to read the body with, the encoding to report): UTF-8; for a CSV,
    TCVN3 or Windows-1258 when the whole file reads as that encoding (converted);
    anything else is refused."""
    if check_utf8(file):
        return "utf-8-sig", UTF8
    file.seek(0)
    kind = sniff_legacy(file.read(4 << 20))
    file.seek(0)
    if fmt == CSV:
        utf8, legacy = utf8_and_legacy_lines(file)
        if utf8:
            raise mixed_encoding(legacy)
        if kind == TCVN3:
            return TCVN3_CODEC, TCVN3_CONVERTED
        if kind in (UNKNOWN, VNI) and reads_as_cp1258(file):
            return CP1258_CODEC, CP1258_CONVERTED
    if fmt in (JSON, NDJSON) and kind == UNKNOWN:
        raise invalid_json("the body is not UTF-8")
    raise unsupported_encoding(kind)
