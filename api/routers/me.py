"""The caller's own record: thin over api/services/me.py."""

from __future__ import annotations

from fastapi import Response

from api.core.errors import problem_responses
from api.deps import PrincipalDep, SessionDep
from api.routers.common import authed_router, set_etag
from api.schemas.members import MeExport, MeRead
from api.services import me

router = authed_router("/api/v1/me", "me")


@router.get("", name="get", response_model=MeRead, responses=problem_responses(401, 404))
async def get_me(principal: PrincipalDep, session: SessionDep, response: Response) -> MeRead:
    """The caller's own member record with its unit, declared accounts, latest reports and
    the documents awaiting their acknowledgement (404 for logins without a member)."""
    record = await me.read_me(session, principal)
    set_etag(response, record.version)
    return record


@router.get("/export", name="export", response_model=MeExport, responses=problem_responses(401))
async def export_me(principal: PrincipalDep, session: SessionDep) -> MeExport:
    """Everything held about the caller: member record, unit, login, grants, declared
    accounts, the reports they filed, and the audit events about them (all) and by them
    (the latest 1,000)."""
    return await me.export_me(session, principal)
