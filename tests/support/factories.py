"""Small async builders for test data. Each commits, so the app under test sees it."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import Base, db
from api.core.enums import Declaration, Membership, MemberStatus, Role, UnitLevel
from api.core.security import create_access_token, hash_password
from api.core.text_vi import fold, name_sort_key
from api.models import ApiClient, Grant, Member, Unit, User
from api.services.units import child_path

PASSWORD = "correct-horse-battery"
_HASH = hash_password(PASSWORD)
_seq = itertools.count(1)


async def make_unit(
    session: AsyncSession,
    parent: Unit | None = None,
    *,
    code: str | None = None,
    name: str | None = None,
    level: UnitLevel | None = None,
    **overrides: Any,
) -> Unit:
    n = next(_seq)
    unit_id = uuid.uuid4()
    name = name or f"Đơn vị {n}"
    unit = Unit(
        id=unit_id,
        code=code or f"U{n:05d}",
        name=name,
        name_search=fold(name),
        level=level or (UnitLevel.cell if parent else UnitLevel.central),
        parent_id=parent.id if parent else None,
        path=child_path(parent.path if parent else None, unit_id),
        depth=parent.depth + 1 if parent else 0,
        **overrides,
    )
    session.add(unit)
    await session.commit()
    return unit


async def make_member(
    session: AsyncSession, unit: Unit, *, full_name: str | None = None, **overrides: Any
) -> Member:
    n = next(_seq)
    full_name = full_name or f"Nguyễn Văn Thành {n}"
    values: dict[str, Any] = {
        "external_id": f"DV{n:07d}",
        "membership": Membership.official,
        "status": MemberStatus.active,
        "declaration": Declaration.not_declared,
        "is_leader": False,
    }
    values.update(overrides)
    member = Member(
        full_name=full_name,
        name_search=fold(full_name),
        name_sort=name_sort_key(full_name),
        unit_id=unit.id,
        **values,
    )
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
        username=username or f"user{next(_seq)}",
        password_hash=_HASH,
        member_id=member.id if member else None,
        active=active,
    )
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
    session: AsyncSession,
    member: Member,
    value: str | None = None,
    *,
    platform: str | None = None,
    status: Any = None,
    **overrides: Any,
) -> Any:
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
        member_id=member.id,
        platform=Platform(canonical.platform),
        kind=AccountKind.profile,
        purpose=AccountPurpose.personal,
        url=value,
        canonical_key=canonical.key,
        canonical_url=canonical.url,
        claim_key=canonical.key if status in CLAIMING_STATUSES else None,
        status=status,
        **overrides,
    )
    session.add(account)
    if status in CLAIMING_STATUSES and member.declaration is not Declaration.declared:
        member.declaration = Declaration.declared
        member.declared_at = utcnow()
    await session.commit()
    return account


async def make_document(
    session: AsyncSession,
    audience: Unit,
    *,
    status: Any = None,
    body: str | None = "## Nội dung",
    file: bytes | None = None,
    revision: int = 1,
    **overrides: Any,
) -> Any:
    """A document addressed to `audience`'s subtree (published unless `status` says
    otherwise), with `file` stored and attached when given. Published and archived ones
    get their revision rows 1..revision, as the service writes them."""
    import io
    from datetime import date, timedelta

    from api.core.db import utcnow
    from api.core.enums import DocType, DocumentStatus
    from api.models import Document, DocumentRevision
    from api.services.files import PDF, storage

    n = next(_seq)
    status = status or DocumentStatus.published
    code = overrides.pop("code", f"{n}-HD/TU")
    title = overrides.pop("title", f"Hướng dẫn số {n}")
    values: dict[str, Any] = {
        "doc_type": DocType.guidance,
        "issuer": "Ban Tuyên giáo",
        "issued_on": date(2020, 1, 1) + timedelta(days=n),
        "requires_ack": True,
    }
    if file is not None:
        stored = await storage().put(io.BytesIO(file))
        values.update(
            file_sha256=stored.key,
            file_size=stored.size,
            file_name="van-ban.pdf",
            file_content_type=PDF,
        )
    if status is not DocumentStatus.draft:
        values["published_at"] = utcnow()
    if status is DocumentStatus.archived:
        values["archived_at"] = utcnow()
    values.update(overrides)
    doc = Document(
        code=code,
        title=title,
        search_text=fold(f"{code} {title}"),
        body=body,
        audience_unit_id=audience.id,
        status=status,
        revision=revision,
        **values,
    )
    session.add(doc)
    await session.flush()
    if status is not DocumentStatus.draft:
        for r in range(1, revision + 1):
            session.add(
                DocumentRevision(
                    document_id=doc.id,
                    revision=r,
                    title=title,
                    summary=doc.summary,
                    body=body,
                    file_sha256=doc.file_sha256,
                    file_name=doc.file_name,
                    file_content_type=doc.file_content_type,
                    file_size=doc.file_size,
                )
            )
    await session.commit()
    return doc


# --------------------------------------------------------------------------- reports

REPORTS_URL = "/api/v1/reports"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def report_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /reports body about a link of its own (so it starts a new primary)."""
    body: dict[str, Any] = {
        "url": f"https://www.facebook.com/some.page/posts/{next(_seq)}",
        "category": "fake_news",
        "description": "Bài viết bịa đặt về chủ trương sáp nhập xã.",
        "proposed_action": "refute",
    }
    body.update(overrides)
    return body


async def file_report(client: Any, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """File a report through the API (201 asserted); the report as read."""
    r = await client.post(REPORTS_URL, json=report_body(**overrides), headers=headers)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


async def make_member_user(
    session: AsyncSession,
    unit: Unit,
    *,
    grants: list[tuple[Role, Unit | None]] = (),  # type: ignore[assignment]
    full_name: str | None = None,
    **overrides: Any,
) -> tuple[Member, dict[str, str]]:
    """A member of `unit` with a user linked to it (and `grants`); (member, auth headers)."""
    member = await make_member(session, unit, full_name=full_name, **overrides)
    return member, auth(await make_user(session, member=member, grants=grants))


def png_bytes(size: int = 256) -> bytes:
    """`size` bytes that sniff as PNG (magic number, then filler)."""
    return (PNG_MAGIC + bytes(range(256)) * (size // 256 + 1))[:size]


async def set_report(report_id: uuid.UUID | str, **values: Any) -> None:
    """Change a report's columns directly in the database (e.g. `due_at` in the past)."""
    from sqlalchemy import update

    from api.core.db import db
    from api.models import Report

    async with db.sessionmaker() as s:
        await s.execute(
            update(Report).where(Report.id == uuid.UUID(str(report_id))).values(**values)
        )
        await s.commit()


async def empty_database() -> None:
    """Every table emptied: what conftest does after each test (and what tests that keep
    data across examples or items do themselves)."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    # Servers that tests start (replicas, forwarded headers) run the statistics folder,
    # whose fold may hold rows of tables the TRUNCATE takes one by one: PostgreSQL then
    # breaks the deadlock by aborting one side. The folder retries at its next tick; so
    # does this, a few times.
    for attempt in range(5):
        try:
            async with db.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    await conn.execute(text("TRUNCATE " + ", ".join(tables) + " CASCADE"))
                else:
                    await conn.execute(text("PRAGMA defer_foreign_keys=ON"))
                    for name in tables:
                        await conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - names from metadata
            return
        except DBAPIError as exc:
            if "deadlock detected" not in str(exc) or attempt == 4:
                raise
            await asyncio.sleep(0.2)


# --------------------------------------------------------------------------- logins

TOKEN_URL = "/api/v1/auth/token"


async def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    """POST /auth/token with the password grant; the response as it came."""
    return await client.post(
        TOKEN_URL, data={"grant_type": "password", "username": username, "password": password}
    )
