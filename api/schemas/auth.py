from __future__ import annotations

import uuid

from api.core.enums import PrincipalKind, Role
from api.schemas.common import Output
from api.schemas.users import GrantOut


class TokenResponse(Output):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - OAuth2 token type
    expires_in: int
    refresh_token: str | None = None
    scope: str


class MeAuth(Output):
    kind: PrincipalKind
    id: uuid.UUID
    name: str
    member_id: uuid.UUID | None
    roles: list[Role]
    grants: list[GrantOut]
