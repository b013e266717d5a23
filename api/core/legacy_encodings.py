"""Legacy Vietnamese encodings in roster files: TCVN3 (ABC, `.VnTime` fonts) and VNI
(`VNI-Times`), still found in old Excel rosters exported to CSV.

- Bytes that are not UTF-8 are examined once, whole: TCVN3 is recognised by its
  single-byte letters in 0xA1–0xBF (ă â ê ô ơ ư đ, à ả ã á ạ, ằ ẳ ẵ ắ), which VNI never
  uses; VNI by its two-byte letters (an ASCII vowel followed by a tone byte such as 0xF8
  "ø": "chaøo" = "chào"). TCVN3 is converted (`decode_tcvn3`, the TCVN 5712:1993 table,
  then NFC); VNI and anything else are refused (422 `unsupported_encoding`).
- Text that *is* valid Unicode can still be mojibake: a TCVN3 or VNI file re-saved as
  UTF-8 through a Western code page reads "B¶o Th¾ng" for "Bảo Thắng". `mojibake_kind`
  spots Latin-1 glyphs that no Vietnamese word contains; such files are refused, never
  imported (converting them back would guess the code page twice).
- TCVN3 fonts keep capitals with tone marks in a separate font (`.VnTimeH`) under the
  lower-case codes, so a converted name can read "Nguyễn Thị ánh": `fix_tcvn3_case`
  capitalises the first letter of each word of a converted person name and upper-cases
  words typed in capitals ("NGUYễN" → "NGUYỄN").
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from functools import lru_cache
from typing import Any

# TCVN 5712:1993 (VN1, a superset of the VN3 "ABC" font set), bytes 0x80–0xFF. 0xB0–0xB4
# are combining tone marks; NFC composes them. Bytes below 0x80 are ASCII.
_TCVN3_HIGH = (
    "\u00c0\u1ea2\u00c3\u00c1\u1ea0\u1eb6\u1eac\u00c8"  # 0x80
    "\u1eba\u1ebc\u00c9\u1eb8\u1ec6\u00cc\u1ec8\u0128"  # 0x88
    "\u00cd\u1eca\u00d2\u1ece\u00d5\u00d3\u1ecc\u1ed8"  # 0x90
    "\u1edc\u1ede\u1ee0\u1eda\u1ee2\u00d9\u1ee6\u0168"  # 0x98
    "\u00a0\u0102\u00c2\u00ca\u00d4\u01a0\u01af\u0110"  # 0xa0
    "\u0103\u00e2\u00ea\u00f4\u01a1\u01b0\u0111\u1eb0"  # 0xa8
    "\u0300\u0309\u0303\u0301\u0323\u00e0\u1ea3\u00e3"  # 0xb0
    "\u00e1\u1ea1\u1eb2\u1eb1\u1eb3\u1eb5\u1eaf\u1eb4"  # 0xb8
    "\u1eae\u1ea6\u1ea8\u1eaa\u1ea4\u1ec0\u1eb7\u1ea7"  # 0xc0
    "\u1ea9\u1eab\u1ea5\u1ead\u00e8\u1ec2\u1ebb\u1ebd"  # 0xc8
    "\u00e9\u1eb9\u1ec1\u1ec3\u1ec5\u1ebf\u1ec7\u00ec"  # 0xd0
    "\u1ec9\u1ec4\u1ebe\u1ed2\u0129\u00ed\u1ecb\u00f2"  # 0xd8
    "\u1ed4\u1ecf\u00f5\u00f3\u1ecd\u1ed3\u1ed5\u1ed7"  # 0xe0
    "\u1ed1\u1ed9\u1edd\u1edf\u1ee1\u1edb\u1ee3\u00f9"  # 0xe8
    "\u1ed6\u1ee7\u0169\u00fa\u1ee5\u1eeb\u1eed\u1eef"  # 0xf0
    "\u1ee9\u1ef1\u1ef3\u1ef7\u1ef9\u00fd\u1ef5\u1ed0"  # 0xf8
)
TCVN3_TABLE = "".join(chr(i) for i in range(128)) + _TCVN3_HIGH

_HIGH = bytes(range(0x80, 0x100))
_TCVN3_LETTER_BYTES = bytes(range(0xA1, 0xC0))
# VNI: a base vowel followed by a tone/shape byte ("aø" = à, "eâ" = ê, "aù" = á, …).
_VNI_PAIR = re.compile(
    rb"[aeiouyAEIOUY][\xd9\xd8\xdb\xd5\xcf\xc2\xc1\xc0\xc5\xc3\xc4\xca\xc9\xc8\xda\xdc\xcb"
    rb"\xf9\xf8\xfb\xf5\xef\xe2\xe1\xe0\xe5\xe3\xe4\xea\xe9\xe8\xfa\xfc\xeb]"
)
SNIFF_BYTES = 4 << 20

TCVN3, VNI, UNKNOWN = "TCVN3", "VNI", "unknown"


def _count(data: bytes, byte_set: bytes) -> int:
    return len(data) - len(data.translate(None, byte_set))


def sniff_legacy(data: bytes) -> str:
    """Which legacy encoding bytes that failed UTF-8 decoding are in: TCVN3, VNI or
    unknown (e.g. Windows-1258 or Latin-1), by counting the bytes characteristic of each
    in the first 4 MB."""
    sample = data[:SNIFF_BYTES]
    high = _count(sample, _HIGH)
    if high == 0:
        return UNKNOWN
    tcvn_letters = _count(sample, _TCVN3_LETTER_BYTES)
    vni_pairs = len(_VNI_PAIR.findall(sample))
    if tcvn_letters >= 0.2 * high and tcvn_letters >= vni_pairs:
        return TCVN3
    if vni_pairs >= 2 and vni_pairs >= 0.3 * high:
        return VNI
    return UNKNOWN


def utf8_and_legacy_lines(file: Any, limit: int = 20) -> tuple[list[int], list[int]]:
    """Line numbers (from 1, at most `limit` each) of the lines that are UTF-8 holding
    Vietnamese text beyond ASCII, and of those that are not UTF-8. A file is converted
    from a legacy encoding only when the first list is empty: a UTF-8 roster with a few
    rows pasted from an old file must not be converted whole (issue 14, finding 2)."""
    utf8: list[int] = []
    legacy: list[int] = []
    file.seek(0)
    for number, line in enumerate(file, start=1):
        if line.isascii():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            if len(legacy) < limit:
                legacy.append(number)
            continue
        # Legacy bytes can happen to form UTF-8; they then decode to glyphs no
        # Vietnamese text holds, and are not evidence of UTF-8.
        if not has_foreign_glyphs(text) and len(utf8) < limit:
            utf8.append(number)
        if len(utf8) >= limit and len(legacy) >= limit:
            break
    file.seek(0)
    return utf8, legacy


def decode_tcvn3(data: bytes) -> str:
    """TCVN3 bytes as NFC text."""
    return unicodedata.normalize("NFC", data.decode(TCVN3_CODEC))


def encode_tcvn3(text: str) -> bytes:
    """Unicode text in TCVN3 (for fixtures; letters the table lacks raise)."""
    return unicodedata.normalize("NFC", text).encode(TCVN3_CODEC)


class _IncrementalDecoder(codecs.IncrementalDecoder):
    def decode(self, input: Any, final: bool = False) -> str:
        return codecs.charmap_decode(input, self.errors, TCVN3_TABLE)[0]


class _IncrementalEncoder(codecs.IncrementalEncoder):
    def encode(self, input: str, final: bool = False) -> bytes:
        return codecs.charmap_encode(input, self.errors, _ENCODING_MAP)[0]


_ENCODING_MAP = codecs.charmap_build(TCVN3_TABLE)
TCVN3_CODEC = "qd85-tcvn3"


def _search(name: str) -> codecs.CodecInfo | None:
    if name.replace("-", "_") != TCVN3_CODEC.replace("-", "_"):
        return None
    return codecs.CodecInfo(
        name=TCVN3_CODEC,
        encode=lambda text, errors="strict": codecs.charmap_encode(text, errors, _ENCODING_MAP),
        decode=lambda data, errors="strict": codecs.charmap_decode(data, errors, TCVN3_TABLE),
        incrementalencoder=_IncrementalEncoder,
        incrementaldecoder=_IncrementalDecoder,
    )


codecs.register(_search)


# Latin-1 letters and signs that no Vietnamese word contains. Vietnamese uses
# À Á Â Ã È É Ê Ì Í Ò Ó Ô Õ Ù Ú Ý (and lower case) from this block; Ð/ð are the look-alike
# of Đ that normalize_text maps.
_VIETNAMESE_LATIN1 = set("ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúýÐð")
_FOREIGN = "".join(chr(c) for c in range(0xA1, 0x100) if chr(c) not in _VIETNAMESE_LATIN1)
_FOREIGN_RE = re.compile(f"[{re.escape(_FOREIGN)}]")
_TCVN3_GLYPHS = frozenset(chr(c) for c in range(0xA1, 0xC0))


def mojibake_kind(text: str) -> str | None:
    """TCVN3 or VNI when `text` (valid Unicode) holds glyphs that such a file shows once
    re-read as Latin-1/Windows-1252 ("B¶o Th¾ng", "Nguyeãn Vaên"), else None."""
    found = _FOREIGN_RE.findall(text)
    if not found:
        return None
    tcvn = sum(1 for ch in found if ch in _TCVN3_GLYPHS)
    return TCVN3 if tcvn * 2 >= len(found) else VNI


def has_foreign_glyphs(text: str) -> bool:
    return _FOREIGN_RE.search(text) is not None


def fix_tcvn3_case(name: str) -> str:
    """Capitals lost by TCVN3's one-font-per-case convention, restored in a person name."""
    words = []
    for word in name.split(" "):
        ascii_letters = [c for c in word if c.isascii() and c.isalpha()]
        if len(ascii_letters) >= 2 and all(c.isupper() for c in ascii_letters):
            words.append(word.upper())
        elif word and word[0].islower():
            words.append(word[0].upper() + word[1:])
        else:
            words.append(word)
    return " ".join(words)


# --- Windows-1258 -------------------------------------------------------------------
# Excel's "CSV (Comma delimited)" on Vietnamese Windows: the ANSI code page 1258 holds
# the base letters (â ă ê ô ơ ư đ and the Latin-1 vowels with a grave, acute or tilde)
# and five combining tone marks; a letter it lacks (ế, ộ, …) is written as its base
# followed by the mark. The bytes decode with Python's `cp1258`, then NFC composes them.
#
# Single-byte text decodes as cp1258 whatever it was written in, so the whole file must
# read as Vietnamese before it is converted: every character beyond ASCII is a letter of
# the Vietnamese alphabet, a tone mark or a little typographic punctuation; every tone
# mark follows a vowel that has none yet; and every word holding such a letter has the
# shape of a Vietnamese syllable (onset, one to three vowels, coda, at most one tone).
CP1258 = "Windows-1258"
CP1258_CODEC = "cp1258"
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_VOWELS = "aăâeêioôơuưy"
_VOWELS_ALL = _VOWELS + _VOWELS.upper()
_LETTERS_1258 = set("ăâêôơưđĂÂÊÔƠƯĐàáãèéìíòóõùúýÀÁÃÈÉÌÍÒÓÕÙÚÝ")
_PUNCT_1258 = set("\u00a0–—‘’“”…•°")
_SYLLABLE = re.compile(
    r"(?:ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdđghklmnpqrstvx])?"
    r"[aăâeêioôơuưy]{1,3}"
    r"(?:ch|ng|nh|[cmnpt])?"
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@lru_cache(maxsize=65536)
def _vietnamese_word(word: str) -> bool:
    """A word (NFC) has the shape of a Vietnamese syllable, with at most one tone."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(1 for ch in decomposed if ch in _TONES)
    if tones > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    if base == "gi" or base == "gin":  # "gì", "gìn": gi is the onset and the vowel
        return True
    return _SYLLABLE.fullmatch(base) is not None


def _reads_1258(text: str) -> bool:
    previous = ""
    toned = False  # the vowel before already carries a tone
    for ch in text:
        if ch.isascii():
            previous, toned = ch, False
            continue
        if ch in _TONES:
            if previous not in _VOWELS_ALL or toned:
                return False
            toned = True
            continue
        if ch not in _LETTERS_1258 and ch not in _PUNCT_1258:
            return False
        previous = unicodedata.normalize("NFD", ch)[0] if ch not in "ăâêôơưĂÂÊÔƠƯ" else ch
        toned = ch not in "ăâêôơưđĂÂÊÔƠƯĐ" and ch in _LETTERS_1258
    composed = unicodedata.normalize("NFC", text)
    return all(word.isascii() or _vietnamese_word(word) for word in _WORD.findall(composed))


def reads_as_cp1258(file: Any) -> bool:
    """True when every line of the file (bytes, read from the start) decodes as cp1258
    into Vietnamese text, and at least one line holds a letter beyond ASCII."""
    file.seek(0)
    found = False
    try:
        for line in file:
            if line.isascii():
                continue
            try:
                text = line.decode(CP1258_CODEC)
            except UnicodeDecodeError:
                return False
            if not _reads_1258(text):
                return False
            found = True
    finally:
        file.seek(0)
    return found


def encode_cp1258(text: str) -> bytes:
    """Unicode text in Windows-1258 as Excel writes it (for fixtures): a letter the code
    page lacks becomes its base letter followed by the tone mark."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode(CP1258_CODEC)
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", ch)
            tones = "".join(c for c in decomposed if c in _TONES)
            base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
            out += (base + tones).encode(CP1258_CODEC)
    return bytes(out)
