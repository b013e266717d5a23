"""The problems a roster sync answers with: a body that cannot be read (400/415/422), a
sync that cannot be applied (409/422). Built here so that the parser, the preview and
the apply word the same failure the same way."""

from __future__ import annotations

import uuid

from api.core.errors import AppError, BadRequest, Conflict, Unprocessable
from api.core.i18n import Message, msg
from api.core.legacy_encodings import UNKNOWN

MIXED = "mixed"
NOT_FOUND = ("not_found", msg("roster.not_found"))


def problem_errors(loc: list[str | int], msg: str, typ: str) -> dict[str, object]:
    return {"errors": [{"loc": loc, "msg": msg, "type": typ}]}


def invalid_json(detail: str) -> BadRequest:
    return BadRequest(
        "invalid_json",
        msg("roster.invalid_json", detail=detail),
    )


def invalid_file(message: Message) -> Unprocessable:
    return Unprocessable(
        "invalid_file",
        message,
        extra=problem_errors(["body"], message.render("en"), "invalid_file"),
    )


def unsupported_encoding(kind: str) -> Unprocessable:
    if kind == UNKNOWN:
        message = msg("roster.encoding_unknown")
    else:
        message = msg("roster.encoding_legacy", kind=kind)
    return Unprocessable(
        "unsupported_encoding",
        message,
        extra={"encoding": kind, **problem_errors(["body"], message.render("en"), "encoding")},
    )


def mixed_encoding(rows: list[int]) -> Unprocessable:
    """UTF-8 text with rows in another encoding: converting the whole file would turn
    its UTF-8 names into mojibake, so it is refused, naming the rows (line numbers) that
    are not UTF-8."""
    message = msg("roster.encoding_mixed", shown=", ".join(map(str, rows)))
    return Unprocessable(
        "unsupported_encoding",
        message,
        extra={
            "encoding": MIXED,
            "rows": rows,
            **problem_errors(["body"], message.render("en"), "encoding"),
        },
    )


def missing_columns(missing: list[str], accepted: dict[str, tuple[str, ...]]) -> Unprocessable:
    names = ", ".join(missing)
    return Unprocessable(
        "validation_failed",
        msg("roster.missing_columns", names=names),
        extra={
            "errors": [
                {
                    "loc": ["body", "columns", m],
                    "type": "missing",
                    "msg": "missing column; accepted headers: " + ", ".join(accepted[m]),
                }
                for m in missing
            ]
        },
    )


def duplicate_columns(duplicates: list[str]) -> Unprocessable:
    return Unprocessable(
        "validation_failed",
        msg("roster.duplicate_columns", duplicates=", ".join(duplicates)),
        extra=problem_errors(["body", "columns"], "duplicate column", "duplicate"),
    )


def body_field(key: str, shown: str, reason: str) -> Unprocessable:
    """A top-level field of a JSON body that is not accepted; `shown` is its name as it
    may appear in the detail."""
    return Unprocessable(
        "validation_failed",
        msg("roster.body_field", shown=shown, reason=reason),
        extra=problem_errors(["body", key[:64]], reason, "extra_forbidden"),
    )


def body_mismatch(name: str) -> Unprocessable:
    return Unprocessable(
        "validation_failed",
        msg("roster.body_query_mismatch", name=name),
        extra={
            "errors": [
                {
                    "loc": ["body", name],
                    "msg": "differs from the query parameter",
                    "type": "value_error",
                }
            ]
        },
    )


def refusal(code: str, message: Message, sync_id: uuid.UUID) -> AppError:
    return AppError(code, message, extra={"sync_id": str(sync_id)})


def roster_changed(sync_id: uuid.UUID, why: str) -> Conflict:
    return Conflict(
        "roster_changed",
        msg("roster.changed_since_preview", why=why),
        extra={"sync_id": str(sync_id)},
    )
