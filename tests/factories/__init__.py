"""Small async builders for test data. Each commits, so the app under test sees it."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.core.enums import Declaration, Membership, MemberStatus, Role, UnitLevel
from api.core.security import create_access_token, hash_password
from api.core.text_vi import fold, name_sort_key
from api.models import ApiClient, Grant, Member, Unit, User
from api.services.units import child_path

PASSWORD = "correct-horse-battery"
_HASH = hash_password(PASSWORD)
_seq = itertools.count(1)


async def make_unit(
    session: AsyncSession, parent: Unit | None = None, *, code: str | None = None, name: str | None = None,
    level: UnitLevel | None = None, **overrides: Any,
) -> Unit:  # fmt: skip
    n = next(_seq)
    unit_id = uuid.uuid4()
    name = name or f"Đơn vị {n}"
    unit = Unit(
        id=unit_id, code=code or f"U{n:05d}", name=name, name_search=fold(name),
        level=level or (UnitLevel.cell if parent else UnitLevel.central),
        parent_id=parent.id if parent else None, path=child_path(parent.path if parent else None, unit_id),
        depth=parent.depth + 1 if parent else 0, **overrides,
    )  # fmt: skip
    session.add(unit)
    await session.commit()
    return unit


async def make_member(
    session: AsyncSession, unit: Unit, *, full_name: str | None = None, **overrides: Any
) -> Member:
    n = next(_seq)
    full_name = full_name or f"Nguyễn Văn Thành {n}"
    values: dict[str, Any] = {
        "external_id": f"DV{n:07d}", "membership": Membership.official, "status": MemberStatus.active,
        "declaration": Declaration.not_declared, "is_leader": False,
    }  # fmt: skip
    values.update(overrides)
    member = Member(
        full_name=full_name, name_search=fold(full_name), name_sort=name_sort_key(full_name),
        unit_id=unit.id, **values,
    )  # fmt: skip
    session.add(member)
    await session.commit()
    return member


async def make_user(
    session: AsyncSession,
    *,
    grants: list[tuple[Role, Unit | None]] = (),  # type: ignore[assignment]
    member: Member | None = None,
    username: str | None = None,
    active: bool = True,
) -> User:
    user = User(
        username=username or f"user{next(_seq)}", password_hash=_HASH,
        member_id=member.id if member else None, active=active,
    )  # fmt: skip
    session.add(user)
    await session.flush()
    for role, unit in grants:
        session.add(Grant(user_id=user.id, role=role, unit_id=unit.id if unit else None))
    await session.commit()
    return user


async def make_client(session: AsyncSession, role: Role, unit: Unit) -> tuple[ApiClient, str]:
    from api.schemas.users import ClientCreate
    from api.services.users import create_client

    client, secret = await create_client(
        session, None, ClientCreate(name=f"client {next(_seq)}", role=role, unit_id=unit.id)
    )
    await session.commit()
    return client, secret


def auth(principal: User | ApiClient) -> dict[str, str]:
    kind = "user" if isinstance(principal, User) else "client"
    token, _ = create_access_token(principal.id, kind, principal.token_version)
    return {"Authorization": f"Bearer {token}"}


async def make_account(
    session: AsyncSession, member: Member, value: str | None = None, *, platform: str | None = None,
    status: Any = None, **overrides: Any,
) -> Any:  # fmt: skip
    """A declared account in any status (claim_key set while pending/verified/compromised);
    an active one marks the member `declared`, as the service does."""
    from api.core.db import utcnow
    from api.core.enums import AccountKind, AccountPurpose, AccountStatus, Platform
    from api.models import Account
    from api.models.account import CLAIMING_STATUSES
    from api.services.canonical import canonicalize

    value = value or f"https://www.facebook.com/user.{next(_seq)}"
    status = status or AccountStatus.pending
    canonical = canonicalize(platform, value)
    account = Account(
        member_id=member.id, platform=Platform(canonical.platform), kind=AccountKind.profile,
        purpose=AccountPurpose.personal, url=value, canonical_key=canonical.key,
        canonical_url=canonical.url, claim_key=canonical.key if status in CLAIMING_STATUSES else None,
        status=status, **overrides,
    )  # fmt: skip
    session.add(account)
    if status in CLAIMING_STATUSES and member.declaration is not Declaration.declared:
        member.declaration = Declaration.declared
        member.declared_at = utcnow()
    await session.commit()
    return account
