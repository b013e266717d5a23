"""The message catalogs (api/locale): every message id has its vi and its en text, with
the same placeholders, and the rendering path (in memory from the .po, or from a compiled
.mo) gives the same text."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from api.core import i18n
from api.core.enums import LABELLED
from api.core.errors import CODES, STATUSES, AppError, NotFound
from api.core.i18n import (
    LANGUAGES,
    catalog_problems,
    load_catalog,
    msg,
    read_catalog,
    text,
    used_ids,
)

API = Path(i18n.__file__).resolve().parents[1]


def _used() -> dict[str, str]:
    used = used_ids(sorted(API.rglob("*.py")))
    # Problem titles and enumeration labels are looked up by code, not by a literal id.
    used.update({f"title.{code}": "api/core/errors.py STATUSES" for code in STATUSES})
    used.update(
        {
            f"enum.{name}.{member.value}": "api/core/enums.py LABELLED"
            for name, enum in LABELLED.items()
            for member in enum
        }
    )
    return used


def _catalogs() -> dict[str, dict[str, str]]:
    return {lang: read_catalog(i18n.catalog_path(lang), lang) for lang in LANGUAGES}


def test_every_message_has_vi_and_en_with_the_same_placeholders() -> None:
    problems = catalog_problems(_catalogs(), _used())
    assert problems == [], "\n".join(problems)


def test_the_code_uses_the_catalogs() -> None:
    used = _used()
    assert len(used) > 100
    assert "http.fields_invalid" in used


def test_catalog_text_is_nfc_and_has_no_fuzzy_entries() -> None:
    for lang in LANGUAGES:
        with i18n.catalog_path(lang).open("rb") as fp:
            parsed = read_po(fp, locale=lang)
        for message in parsed:
            if not message.id:
                continue
            assert not message.fuzzy, (lang, message.id)
            assert isinstance(message.string, str)
            assert unicodedata.is_normalized("NFC", message.string), (lang, message.id)


# --------------------------------------------------------------- the checker can fail

BAD_VI = """
msgid "ok"
msgstr "Được {n}"

msgid "no_en"
msgstr "Chỉ có tiếng Việt"

msgid "empty_en"
msgstr "Có"

msgid "other_fields"
msgstr "Còn {active} tài khoản"

msgid "broken"
msgstr "Thiếu ngoặc {"
"""

BAD_EN = """
msgid "ok"
msgstr "OK {n}"

msgid "empty_en"
msgstr ""

msgid "other_fields"
msgstr "{count} accounts left"

msgid "broken"
msgstr "Missing brace {"

msgid "only_en"
msgstr "English only"
"""


def _write(root: Path, lang: str, body: str) -> None:
    path = i18n.catalog_path(lang, root=root)
    path.parent.mkdir(parents=True)
    path.write_text(body, encoding="utf-8")


def test_the_checker_fails_on_a_bad_catalog(tmp_path: Path) -> None:
    _write(tmp_path, "vi", BAD_VI)
    _write(tmp_path, "en", BAD_EN)
    catalogs = {
        lang: read_catalog(i18n.catalog_path(lang, root=tmp_path), lang) for lang in LANGUAGES
    }
    problems = catalog_problems(catalogs, {"ok": "x.py:1", "in_code_only": "y.py:2"})
    assert [p.split(":")[0] for p in problems] == [
        "broken",
        "empty_en",
        "in_code_only",
        "no_en",
        "only_en",
        "other_fields",
    ]
    assert "no vi/en text (used at y.py:2)" in problems[2]
    assert "no en text" in problems[1]
    assert "no vi text" in problems[4]
    assert "placeholders differ" in problems[5]


def test_used_ids_finds_literal_ids(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text('x = msg("a.b", n=1)\ny = i18n.msg("c.d")\nz = msg(name)\nt = text("SQL")\n')
    assert set(used_ids([source])) == {"a.b", "c.d"}


# --------------------------------------------------------------- rendering


def test_titles_come_from_the_catalogs() -> None:
    assert CODES["not_found"] == (404, "Không tìm thấy", "Not found")
    assert set(CODES) == set(STATUSES)


def test_a_message_renders_per_language_with_nested_words() -> None:
    message = msg("units.unknown_reference", field="unit_id", what=msg("words.unit"))
    assert (
        message.render("en")
        == "The unit referenced by 'unit_id' does not exist or is outside your scope."
    )
    assert message.render("vi") == "Không tìm thấy đơn vị được tham chiếu ở trường 'unit_id'."
    assert message.render("fr") == message.render("vi")  # anything but en is vi


def test_app_error_carries_the_message_and_the_old_inline_form() -> None:
    error = NotFound("not_found", msg("units.not_found"))
    assert (error.detail_vi, error.detail_en) == ("Không tìm thấy đơn vị.", "Unit not found.")
    assert str(error) == "Unit not found."
    inline = AppError("conflict", "Tiếng Việt", "English")
    assert (inline.detail("vi"), inline.detail("en"), str(inline)) == (
        "Tiếng Việt",
        "English",
        "English",
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_compiled_mo_gives_the_same_text_as_the_po(lang: str, tmp_path: Path) -> None:
    """The build compiles the .po (Dockerfile); the app then reads the .mo."""
    po = i18n.catalog_path(lang, root=tmp_path)
    po.parent.mkdir(parents=True)
    po.write_bytes(i18n.catalog_path(lang).read_bytes())
    with po.open("rb") as fp:
        parsed = read_po(fp, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, parsed)
    i18n.catalog_path(lang, ".mo", root=tmp_path).write_bytes(buffer.getvalue())
    from_mo = load_catalog(lang, tmp_path)
    assert from_mo == read_catalog(po, lang)
    assert from_mo["title.not_found"] == text("title.not_found", lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_compiled_mo_in_the_checkout_is_not_stale(lang: str) -> None:
    """The app reads a .mo when there is one: one compiled before the .po was last edited
    (`pybabel compile` run by hand) would hide the edit. Recompile or delete it."""
    mo = i18n.catalog_path(lang, ".mo")
    if not mo.exists():
        pytest.skip("no compiled catalog (a checkout; the .po is read)")
    assert load_catalog(lang, i18n.LOCALE_DIR) == read_catalog(i18n.catalog_path(lang), lang)
