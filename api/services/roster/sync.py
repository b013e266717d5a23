"""A roster sync request as a whole (`POST /roster/syncs`): who may send one, the format
of its body, and the order of preview and apply. The steps themselves are preview.py
and apply.py; this module only orders them, so that the router decides nothing and
commits nothing."""

from __future__ import annotations

import uuid
from typing import IO

from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import commit_so_far
from api.services.authz import Action, Principal, require
from api.services.roster.apply import apply
from api.services.roster.parse import media_format
from api.services.roster.preview import SyncRequest, preview


def body_format(principal: Principal, content_type: str | None) -> str:
    """The format of the body by its Content-Type (415 for any other), checked only once
    the caller may sync at all: 403 comes first, before the body is read."""
    require(principal, Action.ROSTER_SYNC)
    return media_format(content_type)


async def preview_and_apply(
    session: AsyncSession,
    principal: Principal,
    body: IO[bytes],
    options: SyncRequest,
    *,
    dry_run: bool,
) -> uuid.UUID:
    """Preview the body and, unless `dry_run`, apply the preview. The preview is committed
    first: it is kept (as evidence) even when the apply is refused or fails."""
    sync_id = await preview(session, principal, body, options)
    if not dry_run:
        await commit_so_far(session)
        await apply(session, principal, sync_id)
    return sync_id
