"""Typed loaders: one dependency per scoped resource, so that a handler takes
`report: VisibleReport` instead of loading the report itself.

Each loader takes the resource's id from the path and calls its service's
`get_visible(session, principal, id)`, whose query is limited to the caller's scope: a
missing object and one out of the caller's scope are the same 404.

Order of outcomes: a dependency runs before FastAPI validates the handler's query and
body, so a request for an object the caller cannot see answers 404 even when its body or
query is invalid (the object does not exist for this caller; the 404 leaks nothing). A
handler declares its loader after `IfMatchDep` and `IdempotencyDep`, so a malformed
If-Match (412) or Idempotency-Key (422) is still answered first, as before."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from api.deps import PrincipalDep, SessionDep
from api.services import accounts, documents, members, reports, units, users


async def visible_unit(
    unit_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> units.Visible:
    return await units.get_visible(session, principal, unit_id)


async def visible_member(
    member_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> members.Visible:
    return await members.get_visible(session, principal, member_id)


async def visible_account(
    account_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> accounts.Visible:
    return await accounts.get_visible(session, principal, account_id)


async def visible_report(
    report_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> reports.Visible:
    return await reports.get_visible(session, principal, report_id)


async def visible_document(
    document_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> documents.Visible:
    return await documents.get_visible(session, principal, document_id)


async def visible_user(
    user_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> users.Visible:
    return await users.get_visible(session, principal, user_id)


VisibleUnit = Annotated[units.Visible, Depends(visible_unit)]
VisibleMember = Annotated[members.Visible, Depends(visible_member)]
VisibleAccount = Annotated[accounts.Visible, Depends(visible_account)]
VisibleReport = Annotated[reports.Visible, Depends(visible_report)]
VisibleDocument = Annotated[documents.Visible, Depends(visible_document)]
VisibleUser = Annotated[users.Visible, Depends(visible_user)]
