"""Declared social accounts: declaration with canonical keys, one active claim per
account, the review actions, and the member's declaration state kept consistent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import utcnow
from api.core.enums import AccountStatus, Declaration, Platform
from api.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.core.i18n import msg
from api.core.pagination import Order, paginate
from api.core.text_vi import fold
from api.core.versioning import check_version
from api.models import Account, Member, Unit
from api.models.account import CLAIMING_STATUSES
from api.schemas.accounts import AccountCreate, AccountUpdate
from api.services import audit, counters, members
from api.services.authz import Action, Principal, in_subtree, require, scope_filter
from api.services.canonical import InvalidAccountUrl, canonicalize

_NOT_FOUND = ("not_found", msg("accounts.not_found"))
ACS = AccountStatus
# action -> (statuses it may leave, status it reaches, reviewer-only)
TRANSITIONS: dict[str, tuple[frozenset[AccountStatus], AccountStatus, bool]] = {
    "verify": (frozenset({ACS.pending}), ACS.verified, True),
    "reject": (frozenset({ACS.pending}), ACS.rejected, True),
    "close": (
        frozenset({ACS.pending, ACS.verified, ACS.compromised, ACS.rejected}),
        ACS.closed,
        False,
    ),
    "compromised": (frozenset({ACS.pending, ACS.verified}), ACS.compromised, False),
}


def _own(principal: Principal, member_id: uuid.UUID) -> bool:
    return principal.member_id is not None and principal.member_id == member_id


def _require_owner_or(
    principal: Principal, action: Action, member_id: uuid.UUID, path: str
) -> None:
    if not _own(principal, member_id):
        require(principal, action, path)


def _invalid_url(exc: InvalidAccountUrl, field: str) -> Unprocessable:
    return Unprocessable(
        "invalid_account_url",
        exc.message,
        extra={
            "errors": [
                {"loc": ["body", field], "msg": exc.detail_en, "type": "invalid_account_url"}
            ]
        },
    )


def _duplicate() -> Conflict:
    return Conflict(
        "duplicate_account",
        msg("accounts.declared_by_another"),
    )


async def _active_count(session: AsyncSession, member_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).where(Account.member_id == member_id, Account.claim_key.is_not(None))
    )
    return int(count or 0)


async def _lock(session: AsyncSession, *rows: Member | Account) -> None:
    """Re-read rows FOR UPDATE, refreshing the loaded objects. Requests about one member
    (or one account) queue up here, so declaration counts and statuses are taken from
    committed state and a versioned row is never updated from a stale copy (which would be
    a StaleDataError, i.e. a 500, for two concurrent declarations by one member). Lock
    order: the member, then its account. SQLite has no row locks; FOR UPDATE is omitted."""
    for row in rows:
        model = type(row)
        await session.execute(
            select(model)
            .where(model.id == row.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )


def _set_declaration(member: Member, value: Declaration) -> None:
    if member.declaration != value:
        member.declaration = value
        member.declared_at = utcnow() if value is not Declaration.not_declared else None
        member.updated_at = utcnow()


async def declare(
    session: AsyncSession, principal: Principal, seen: members.Visible, data: AccountCreate
) -> tuple[Account, bool]:
    """Declare an account; (account, created). The same member declaring an account
    they already hold gets that account back; another member's active claim is 409."""
    member, path = seen.member, seen.path
    _require_owner_or(principal, Action.ACCOUNT_MANAGE, member.id, path)
    if (data.url is None) == (data.handle is None):
        raise Unprocessable(
            "validation_failed",
            msg("accounts.url_or_handle"),
            extra={
                "errors": [
                    {
                        "loc": ["body", "url"],
                        "msg": "exactly one of url, handle",
                        "type": "value_error",
                    }
                ]
            },
        )
    field, raw = ("url", data.url) if data.url is not None else ("handle", data.handle)
    try:
        canonical = canonicalize(data.platform.value if data.platform else None, raw or "")
    except InvalidAccountUrl as exc:
        raise _invalid_url(exc, field) from exc
    await _lock(session, member)
    holder = await session.scalar(select(Account).where(Account.claim_key == canonical.key))
    if holder is not None:
        if holder.member_id != member.id:
            raise _duplicate()
        return holder, False
    account = Account(
        member_id=member.id,
        platform=Platform(canonical.platform),
        kind=data.kind,
        purpose=data.purpose,
        url=raw or "",
        canonical_key=canonical.key,
        canonical_url=canonical.url,
        claim_key=canonical.key,
        display_name=data.display_name,
        status=AccountStatus.pending,
    )
    try:
        async with session.begin_nested():
            session.add(account)
    except IntegrityError:
        # Lost a race for the same account: the unique claim decides who holds it.
        holder = await session.scalar(select(Account).where(Account.claim_key == canonical.key))
        if holder is None or holder.member_id != member.id:
            raise _duplicate() from None
        return holder, False
    await _declared(session, principal, member, account)
    return account, True


async def _declared(
    session: AsyncSession, principal: Principal, member: Member, account: Account
) -> None:
    """After a new account: the member's declaration, the audit event, the counters."""
    _set_declaration(member, Declaration.declared)
    await session.flush()
    audit.record(
        session,
        principal,
        "account.declare",
        "account",
        account.id,
        member.unit_id,
        {
            "member_id": member.id,
            "platform": account.platform,
            "canonical_key": account.canonical_key,
            "kind": account.kind,
            "purpose": account.purpose,
        },
    )
    await counters.touch(session, [member.unit_id], part=counters.ACCOUNTS)


async def set_declaration(
    session: AsyncSession, principal: Principal, seen: members.Visible, has_accounts: bool
) -> int:
    """Record "I have no accounts" (or confirm that the declared ones are all); returns
    the number of active accounts."""
    member, path = seen.member, seen.path
    _require_owner_or(principal, Action.ACCOUNT_MANAGE, member.id, path)
    await _lock(session, member)
    active = await _active_count(session, member.id)
    if not has_accounts and active:
        raise Conflict(
            "declaration_conflict",
            msg("accounts.none_with_active", active=active),
        )
    if has_accounts and not active:
        raise Conflict(
            "declaration_conflict",
            msg("accounts.none_declared_yet"),
        )
    before = member.declaration
    _set_declaration(member, Declaration.declared if has_accounts else Declaration.declared_none)
    if member.declaration != before:
        await session.flush()
        audit.record(
            session,
            principal,
            "member.declaration",
            "member",
            member.id,
            member.unit_id,
            {"declaration": [before, member.declaration]},
        )
        await counters.touch(session, [member.unit_id], part=counters.ACCOUNTS)
    return active


def _visible(principal: Principal) -> Select[Account, Member, str]:
    own = Account.member_id == principal.member_id if principal.member_id else None
    scoped = scope_filter(principal, Action.ACCOUNT_READ, Unit.path)
    return (
        select(Account, Member, Unit.path)
        .join(Member, Member.id == Account.member_id)
        .join(Unit, Unit.id == Member.unit_id)
        .where(or_(own, scoped) if own is not None else scoped)
    )


@dataclass(frozen=True, slots=True)
class Visible:
    """An account the caller may see (their own member's, or in scope), its member and
    the member's unit's path."""

    account: Account
    member: Member
    path: str


async def get_visible(
    session: AsyncSession, principal: Principal, account_id: uuid.UUID
) -> Visible:
    row = (await session.execute(_visible(principal).where(Account.id == account_id))).first()
    if row is None:
        raise NotFound(*_NOT_FOUND)
    return Visible(row[0], row[1], row[2])


async def update(
    session: AsyncSession,
    principal: Principal,
    seen: Visible,
    data: AccountUpdate,
    expected_version: int | None,
) -> Account:
    account, member, path = seen.account, seen.member, seen.path
    _require_owner_or(principal, Action.ACCOUNT_MANAGE, member.id, path)
    await _lock(session, account)
    check_version(expected_version, account.version)
    fields = data.model_dump(exclude_unset=True)
    for name in ("kind", "purpose"):
        if name in fields and fields[name] is None:
            raise Unprocessable(
                "validation_failed",
                msg("http.field_cannot_be_null", name=name),
                extra={
                    "errors": [{"loc": ["body", name], "msg": "may not be null", "type": "null"}]
                },
            )
    before = {k: getattr(account, k) for k in fields}
    for name, value in fields.items():
        setattr(account, name, value)
    changes = audit.changed(before, fields)
    if changes:
        account.updated_at = utcnow()
        await session.flush()
        audit.record(
            session, principal, "account.update", "account", account.id, member.unit_id, changes
        )
    return account


async def transition(
    session: AsyncSession,
    principal: Principal,
    seen: Visible,
    action: str,
    *,
    note: str | None,
    declare_none: bool,
    expected_version: int | None,
) -> Account:
    account, member, path = seen.account, seen.member, seen.path
    sources, target, reviewer_only = TRANSITIONS[action]
    if reviewer_only:
        require(principal, Action.ACCOUNT_VERIFY, path)
        if _own(principal, member.id):
            raise Forbidden(
                detail=msg("accounts.self_review"),
            )
    else:
        _require_owner_or(principal, Action.ACCOUNT_MANAGE, member.id, path)
    await _lock(session, member, account)
    check_version(expected_version, account.version)
    if account.status not in sources:
        raise Conflict(
            "invalid_transition",
            msg("accounts.invalid_move", status=account.status.value, target=target.value),
        )
    before = account.status
    account.status = target
    account.claim_key = account.canonical_key if target in CLAIMING_STATUSES else None
    if note is not None:
        account.review_note = note
    if reviewer_only:
        account.reviewed_by_id = principal.id
        account.reviewed_at = utcnow()
    account.updated_at = utcnow()
    await session.flush()
    released = target not in CLAIMING_STATUSES and member.declaration is Declaration.declared
    if released and not await _active_count(session, member.id):
        # The last active account is gone: declared again only if the caller says so.
        _set_declaration(
            member, Declaration.declared_none if declare_none else Declaration.not_declared
        )
        await session.flush()
    audit.record(
        session,
        principal,
        f"account.{action}",
        "account",
        account.id,
        member.unit_id,
        {
            "status": [before, target],
            "note": note,
            "member_declaration": member.declaration,
        },
    )
    await counters.touch(session, [member.unit_id], part=counters.ACCOUNTS)
    return account


_MEMBER_ORDER = Order("member-accounts", (Account.created_at, Account.id))
_ORDER = Order("accounts", (Account.created_at, Account.id))


async def list_for_member(
    session: AsyncSession,
    principal: Principal,
    seen: members.Visible,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[Account], str | None]:
    _require_owner_or(principal, Action.ACCOUNT_READ, seen.member.id, seen.path)
    stmt = select(Account).where(Account.member_id == seen.member.id)
    return await paginate(session, stmt, order=_MEMBER_ORDER, cursor=cursor, limit=limit)


async def list_accounts(
    session: AsyncSession,
    principal: Principal,
    *,
    unit_id: uuid.UUID | None,
    platform: Platform | None,
    status: AccountStatus | None,
    q: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Account], str | None]:
    require(principal, Action.ACCOUNT_READ)
    stmt = (
        select(Account)
        .join(Member, Member.id == Account.member_id)
        .join(Unit, Unit.id == Member.unit_id)
        .where(scope_filter(principal, Action.ACCOUNT_READ, Unit.path))
    )
    if unit_id is not None:
        path = await session.scalar(select(Unit.path).where(Unit.id == unit_id))
        if path is None:
            return [], None
        stmt = stmt.where(in_subtree(Unit.path, path))
    if platform is not None:
        stmt = stmt.where(Account.platform == platform)
    if status is not None:
        stmt = stmt.where(Account.status == status)
    if q and (folded := fold(q)):
        stmt = stmt.where(
            or_(
                Account.canonical_key.contains(folded.replace(" ", ""), autoescape=True),
                # Facebook keys drop dots: q=some.user finds facebook:user:someuser.
                Account.canonical_key.contains(
                    folded.replace(" ", "").replace(".", ""), autoescape=True
                ),
                Member.name_search.contains(folded, autoescape=True),
                # A page found by its title (issue 14): "trang tin xa" finds "Trang tin Xã …".
                Account.display_name_search.contains(folded, autoescape=True),
            )
        )
    return await paginate(session, stmt, order=_ORDER, cursor=cursor, limit=limit)
