from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.core.text_vi import clean_text, fold, name_sort_key, normalize_text, split_name


class TestNormalize:
    def test_nfd_becomes_nfc(self) -> None:
        nfd = unicodedata.normalize("NFD", "Nguyễn Văn Đức")
        assert nfd != "Nguyễn Văn Đức"
        assert normalize_text(nfd) == "Nguyễn Văn Đức"

    def test_eth_lookalike_becomes_d_with_stroke(self) -> None:
        assert normalize_text("\u00d0ảm bảo") == "\u0110ảm bảo"
        assert normalize_text("\u00f0") == "\u0111"

    def test_clean_collapses_whitespace(self) -> None:
        assert clean_text("  Trần \t Thị\nBình ") == "Trần Thị Bình"


class TestFold:
    @pytest.mark.parametrize(
        ("text", "folded"),
        [
            ("Nguyễn Văn Đức", "nguyen van duc"),
            ("ĐẶNG QUỐC HUY", "dang quoc huy"),
            ("Hoà", "hoa"),
            ("Hòa", "hoa"),
        ],
    )
    def test_examples(self, text: str, folded: str) -> None:
        assert fold(text) == folded

    @given(st.text())
    def test_fold_is_idempotent(self, text: str) -> None:
        assert fold(fold(text)) == fold(text)

    @given(st.text())
    def test_fold_of_nfd_equals_fold_of_nfc(self, text: str) -> None:
        assert fold(unicodedata.normalize("NFD", text)) == fold(unicodedata.normalize("NFC", text))


class TestNameSort:
    def test_given_name_first(self) -> None:
        assert name_sort_key("Trần Văn An") < name_sort_key("Nguyễn Thị Bình")

    def test_d_with_stroke_after_d(self) -> None:
        names = ["Lê Văn Đức", "Lê Văn Dũng", "Lê Văn Em"]
        assert sorted(names, key=name_sort_key) == ["Lê Văn Dũng", "Lê Văn Đức", "Lê Văn Em"]

    def test_vietnamese_vowel_order(self) -> None:
        names = ["X Âu", "X Ân", "X An", "X Ăn"]
        assert sorted(names, key=name_sort_key) == ["X An", "X Ăn", "X Ân", "X Âu"]

    def test_tone_only_breaks_ties(self) -> None:
        assert (
            name_sort_key("Lê Văn Anh") < name_sort_key("Lê Văn Ánh") < name_sort_key("Lê Văn Ba")
        )

    def test_family_then_middle_break_ties(self) -> None:
        ordered = ["Lê Thị An", "Lê Văn An", "Nguyễn Bá An"]
        shuffled = [ordered[2], ordered[0], ordered[1]]
        assert sorted(shuffled, key=name_sort_key) == ordered

    def test_split(self) -> None:
        assert split_name("Nguyễn Thị Minh Khai") == ("Nguyễn", "Thị Minh", "Khai")
        assert split_name("Khai") == ("", "", "Khai")

    @given(st.text(min_size=1, max_size=80))
    def test_key_is_deterministic_and_nfc_insensitive(self, name: str) -> None:
        assert name_sort_key(unicodedata.normalize("NFD", name)) == name_sort_key(
            unicodedata.normalize("NFC", name)
        )
