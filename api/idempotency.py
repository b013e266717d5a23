"""Idempotency-Key: the first response to a keyed POST is stored in the same
transaction as its write and replayed for the same key and body; the same key with
a different body is 422 (draft-ietf-httpapi-idempotency-key-header)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

from api.core.errors import Conflict, Unprocessable
from api.core.i18n import msg
from api.core.security import sha256_hex
from api.deps import PrincipalDep, SessionDep
from api.models import IdempotencyRecord
from api.services.authz import Principal

KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")
REPLAY_HEADER = "Idempotent-Replayed"


@dataclass
class Idempotency:
    session: Any
    principal: Principal
    key: str | None
    method: str
    path: str
    request_hash: str = ""

    async def replay(self, body: BaseModel | bytes | None) -> Response | None:
        """The stored response for this key, or None when the request should run."""
        if self.key is None:
            return None
        raw = (
            body if isinstance(body, bytes) else (body.model_dump_json().encode() if body else b"")
        )
        self.request_hash = sha256_hex(
            self.method.encode() + b" " + self.path.encode() + b"\n" + raw
        )
        record = await self.session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.principal_id == self.principal.id,
                IdempotencyRecord.key == self.key,
            )
        )
        if record is None:
            return None
        if record.request_hash != self.request_hash:
            raise Unprocessable(
                "idempotency_key_mismatch",
                msg("idempotency.key_reused"),
            )
        return Response(
            record.response_body,
            status_code=record.status_code,
            media_type="application/json",
            headers={**record.headers, REPLAY_HEADER: "true"},
        )

    async def respond(
        self, status_code: int, payload: BaseModel, headers: dict[str, str] | None = None
    ) -> Response:
        """Serialise the response and, when keyed, store it with the write it reports."""
        body = payload.model_dump_json().encode()
        headers = headers or {}
        if self.key is not None:
            self.session.add(
                IdempotencyRecord(
                    principal_id=self.principal.id,
                    key=self.key,
                    method=self.method,
                    path=self.path,
                    request_hash=self.request_hash,
                    status_code=status_code,
                    response_body=body,
                    headers=headers,
                )
            )
            try:
                await self.session.flush()
            except IntegrityError as exc:
                raise Conflict(
                    "idempotency_in_progress",
                    msg("idempotency.concurrent"),
                ) from exc
        return Response(
            body, status_code=status_code, media_type="application/json", headers=headers
        )


def get_idempotency(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Client-chosen key (1–255 visible ASCII chars); "
            "a retry with the same key and body returns the first response.",
        ),
    ] = None,
) -> Idempotency:
    if idempotency_key is not None and not KEY_RE.match(idempotency_key):
        raise Unprocessable(
            "validation_failed",
            msg("idempotency.invalid_key"),
            extra={
                "errors": [
                    {
                        "loc": ["header", "Idempotency-Key"],
                        "msg": "invalid key",
                        "type": "value_error",
                    }
                ]
            },
        )
    return Idempotency(session, principal, idempotency_key, request.method, request.url.path)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
