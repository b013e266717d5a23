"""User-facing text in Vietnamese and English, from gettext catalogs.

The text lives in `api/locale/<lang>/LC_MESSAGES/messages.po` (vi and en), one entry per
symbolic message id (`accounts.not_found`, `title.declaration_conflict`); a translator
edits a catalog, not code. Code names a message and its parameters, `msg(id, **params)`,
and the problem handler renders it in the language the request asked for.

- Ids are symbolic, not the English text: neither language is the source (vi is the
  default, en the other), and an id must not change when either wording does.
- Placeholders are named format fields (`{active}`), filled with `str.format`; a
  parameter that is itself a `Message` (a word such as "unit") is rendered in the same
  language first. Never build a message from pieces: word order differs.
- Compiled at build: the Docker build runs `pybabel compile -d api/locale` and the wheel
  ships the `.mo` files beside the `.po`. A checkout (`pip install -e .`, CI) has no `.mo`
  (git ignores them): the `.po` is then compiled in memory with Babel at first use (about
  40 ms for both). A `.mo` that is present is used: file times cannot tell a stale one (a
  wheel's files get the time they are unpacked at, the `.mo` before the `.po`), so
  tests/core/test_i18n.py fails instead when a checkout's `.mo` differs from its `.po`.
"""

from __future__ import annotations

import ast
import gettext
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Final, Literal

Lang = Literal["vi", "en"]
LANGUAGES: Final[tuple[Lang, ...]] = ("vi", "en")
DOMAIN: Final = "messages"
LOCALE_DIR: Final = Path(__file__).resolve().parent.parent / "locale"


@dataclass(frozen=True)
class Message:
    """A message id and its parameters, rendered in a language only when shown."""

    id: str
    params: Mapping[str, object] = field(default_factory=dict)

    def render(self, lang: str) -> str:
        return text(self.id, lang, **self.params)

    def __str__(self) -> str:
        return self.render("en")


def msg(message_id: str, /, **params: object) -> Message:
    """The message `message_id` with its named parameters (e.g. `active=3`)."""
    return Message(message_id, params)


def text(message_id: str, lang: str, /, **params: object) -> str:
    """The message in `lang` ("vi" or "en"; anything else is vi), parameters filled. An id
    missing from the catalog (tests/core/test_i18n.py fails on one) shows as itself rather
    than turning a 4xx into a 500."""
    template = catalog("en" if lang == "en" else "vi").get(message_id, message_id)
    # Always formatted, parameters or not: a catalog text is a format template throughout
    # (a literal brace is written "{{").
    values = {k: v.render(lang) if isinstance(v, Message) else v for k, v in params.items()}
    return template.format(**values)


def catalog_path(lang: str, suffix: str = ".po", root: Path = LOCALE_DIR) -> Path:
    return root / lang / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


@cache
def catalog(lang: Lang) -> dict[str, str]:
    return load_catalog(lang, LOCALE_DIR)


def load_catalog(lang: str, root: Path) -> dict[str, str]:
    """Message id -> text for `lang`: the compiled `.mo` when the build made one, else the
    `.po` compiled in memory. Fuzzy and empty entries are left out, as msgfmt does."""
    po, mo = catalog_path(lang, root=root), catalog_path(lang, ".mo", root=root)
    if mo.exists():
        with mo.open("rb") as fp:
            compiled = gettext.GNUTranslations(fp)
        return {
            str(k): str(v)
            for k, v in compiled._catalog.items()  # type: ignore[attr-defined]
            if k and v
        }
    return read_catalog(po, lang)


def read_catalog(path: Path, lang: str) -> dict[str, str]:
    from babel.messages.pofile import read_po  # only where no .mo was compiled

    with path.open("rb") as fp:
        parsed = read_po(fp, locale=lang, domain=DOMAIN)
    return {
        str(m.id): str(m.string)
        for m in parsed
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


# --------------------------------------------------------------------------- checks


def placeholders(template: str) -> set[str]:
    """The named fields of a format template (`{count:,}` → `count`)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def used_ids(paths: Iterable[Path]) -> dict[str, str]:
    """Message id -> where it is used: every `msg("<id>", …)` call with a literal id in the
    given Python files (code names a message with `msg`; `text` is for the ids built from
    a code, the problem titles)."""
    found: dict[str, str] = {}
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            first = node.args[0]
            if name == "msg" and isinstance(getattr(first, "value", None), str):
                found.setdefault(str(getattr(first, "value", "")), f"{path}:{node.lineno}")
    return found


def catalog_problems(
    catalogs: Mapping[str, Mapping[str, str]], used: Mapping[str, str]
) -> list[str]:
    """Everything wrong with a set of catalogs (one per language): an id used in code or
    present in any catalog that lacks a non-empty text in some language, and an id whose
    texts name different placeholders. Empty when all is well."""
    problems = []
    ids = set(used).union(*(set(c) for c in catalogs.values()))
    for message_id in sorted(ids):
        where = f" (used at {used[message_id]})" if message_id in used else ""
        texts = {lang: c.get(message_id, "") for lang, c in catalogs.items()}
        missing = [lang for lang, t in texts.items() if not t.strip()]
        if missing:
            problems.append(f"{message_id}: no {'/'.join(missing)} text{where}")
            continue
        try:
            fields = {lang: placeholders(t) for lang, t in texts.items()}
        except ValueError as exc:
            problems.append(f"{message_id}: not a valid format template ({exc})")
            continue
        if len({frozenset(f) for f in fields.values()}) > 1:
            shown = ", ".join(f"{lang} {sorted(f)}" for lang, f in fields.items())
            problems.append(f"{message_id}: the placeholders differ: {shown}")
    return problems
