"""Vietnamese text: NFC normalisation, diacritic folding for search, name sort keys."""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")
# Tone marks (secondary sort weight, in Vietnamese dictionary order) vs. letter-forming marks.
_TONES = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}
_BREVE, _CIRCUMFLEX, _HORN = "\u0306", "\u0302", "\u031b"
# Vietnamese alphabet order, then the Latin letters Vietnamese lacks, at their Latin places.
_ALPHABET = [
    "a",
    "ă",
    "â",
    "b",
    "c",
    "d",
    "đ",
    "e",
    "ê",
    "f",
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "ô",
    "ơ",
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "ư",
    "v",
    "w",
    "x",
    "y",
    "z",
]
# One printable ASCII char per letter, increasing, after the digits.
_LETTER_CODE = {letter: chr(0x41 + i) for i, letter in enumerate(_ALPHABET)}


def normalize_text(value: str) -> str:
    """NFC, with the look-alike Ð (U+00D0) and ð (U+00F0) mapped to Đ/đ."""
    return (
        unicodedata.normalize("NFC", value).replace("\u00d0", "\u0110").replace("\u00f0", "\u0111")
    )


def clean_text(value: str) -> str:
    """normalize_text, trimmed, inner whitespace collapsed (for names and short fields)."""
    return _WS.sub(" ", normalize_text(value)).strip()


def fold(value: str) -> str:
    """Lower-case, diacritics removed, đ→d, whitespace collapsed: the search form."""
    decomposed = unicodedata.normalize("NFD", normalize_text(value).lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    # Recompose what is left (Hangul syllables are three letters in NFD): the folded form
    # must fit the same column width as the name it comes from.
    return unicodedata.normalize("NFC", _WS.sub(" ", stripped.replace("\u0111", "d")).strip())


def _letters(word: str) -> tuple[str, str]:
    """(primary, secondary) sort codes of one word."""
    primary: list[str] = []
    secondary: list[str] = []
    for cluster in _clusters(unicodedata.normalize("NFD", normalize_text(word).lower())):
        base, marks = cluster[0], cluster[1:]
        tone = "0"
        letter = base
        for mark in marks:
            if mark in _TONES:
                tone = _TONES[mark]
            elif mark == _BREVE and base == "a":
                letter = "ă"
            elif mark == _CIRCUMFLEX and base in "aeo":
                letter = base + "\u0302"
                letter = unicodedata.normalize("NFC", letter)
            elif mark == _HORN and base in "ou":
                letter = unicodedata.normalize("NFC", base + _HORN)
        if letter in _LETTER_CODE:
            primary.append(_LETTER_CODE[letter])
            secondary.append(tone)
        elif letter.isdigit():
            primary.append(letter)
            secondary.append("0")
        elif letter.isalpha():
            # Other scripts: keep them after every Vietnamese letter, in code-point order.
            primary.append("~" + format(ord(letter), "05x"))
            secondary.append("0")
    return "".join(primary), "".join(secondary)


def _clusters(decomposed: str) -> list[str]:
    out: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch) and out:
            out[-1] += ch
        else:
            out.append(ch)
    return out


def split_name(full_name: str) -> tuple[str, str, str]:
    """(family, middle, given) of a Vietnamese full name: first word, inner words, last word."""
    words = clean_text(full_name).split(" ")
    if len(words) == 1:
        return "", "", words[0]
    return words[0], " ".join(words[1:-1]), words[-1]


def name_sort_key(full_name: str) -> str:
    """A byte-comparable key that sorts names the Vietnamese way: given name, then family
    name, then middle name; letters in Vietnamese alphabet order (đ after d), tones
    (none < huyền < hỏi < ngã < sắc < nặng) only breaking ties."""
    family, middle, given = split_name(full_name)
    parts = [_letters(w) for w in [given, family, *middle.split(" ")] if w]
    primary = " ".join(p for p, _ in parts)
    secondary = "".join(s for _, s in parts)
    return f"{primary}\x01{secondary}"[:400]
