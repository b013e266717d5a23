"""Idempotent demo data: a small tree of real-looking units, members, logins, declared
accounts, reported posts and guidance documents."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import utcnow
from api.core.enums import (
    AccountKind,
    AccountPurpose,
    AccountStatus,
    Declaration,
    DocType,
    DocumentStatus,
    Membership,
    MemberStatus,
    Platform,
    ProposedAction,
    ReportCategory,
    ReportStatus,
    Role,
    UnitLevel,
)
from api.core.security import hash_password, sha256_hex
from api.core.text_vi import fold, name_sort_key
from api.models import Account, Document, Grant, Member, Report, Unit, User
from api.services import audit, documents
from api.services.canonical import canonical_content, canonicalize
from api.services.reports import due_at
from api.services.units import child_path

DEMO_PASSWORD = "qd85-demo-2026"  # noqa: S105 - demo data only; seed-demo refuses production

UNITS = [  # code, name, level, parent code
    ("TW", "Ban Chấp hành Trung ương", UnitLevel.central, None),
    ("HN", "Đảng bộ Thành phố Hà Nội", UnitLevel.provincial, "TW"),
    ("HN.BD", "Đảng bộ phường Ba Đình", UnitLevel.grassroots, "HN"),
    ("HN.BD.CB01", "Chi bộ Khu dân cư số 1", UnitLevel.cell, "HN.BD"),
    ("HN.BD.CB02", "Chi bộ Khu dân cư số 2", UnitLevel.cell, "HN.BD"),
    ("HN.HK", "Đảng bộ phường Hoàn Kiếm", UnitLevel.grassroots, "HN"),
    ("HN.HK.CB01", "Chi bộ Tổ dân phố 1", UnitLevel.cell, "HN.HK"),
    ("HCM", "Đảng bộ Thành phố Hồ Chí Minh", UnitLevel.provincial, "TW"),
    ("HCM.BT", "Đảng bộ phường Bến Thành", UnitLevel.grassroots, "HCM"),
    ("HCM.BT.CB01", "Chi bộ Khu phố 1", UnitLevel.cell, "HCM.BT"),
]

MEMBERS = [  # external id, name, unit code, membership, position, leader
    ("DV-HN-0001", "Nguyễn Văn An", "HN.BD.CB01", Membership.official, "Bí thư chi bộ", True),
    ("DV-HN-0002", "Trần Thị Bình", "HN.BD.CB01", Membership.official, "Phó bí thư", True),
    ("DV-HN-0003", "Lê Văn Cường", "HN.BD.CB01", Membership.official, None, False),
    ("DV-HN-0004", "Phạm Thị Dung", "HN.BD.CB01", Membership.probationary, None, False),
    ("DV-HN-0005", "Hoàng Văn Đức", "HN.BD.CB02", Membership.official, "Bí thư chi bộ", True),
    ("DV-HN-0006", "Vũ Thị Hạnh", "HN.BD.CB02", Membership.official, None, False),
    ("DV-HN-0007", "Đặng Quốc Huy", "HN.BD.CB02", Membership.none, "Công chức phường", False),
    ("DV-HN-0008", "Bùi Thị Lan", "HN.HK.CB01", Membership.official, "Bí thư chi bộ", True),
    ("DV-HN-0009", "Đỗ Minh Khoa", "HN.HK.CB01", Membership.official, None, False),
    ("DV-HN-0010", "Ngô Thị Mai", "HN.HK.CB01", Membership.probationary, None, False),
    ("DV-HCM-0001", "Huỳnh Văn Nam", "HCM.BT.CB01", Membership.official, "Bí thư chi bộ", True),
    ("DV-HCM-0002", "Phan Thị Oanh", "HCM.BT.CB01", Membership.official, None, False),
    ("DV-HCM-0003", "Võ Thành Phát", "HCM.BT.CB01", Membership.official, None, False),
    ("DV-HCM-0004", "Trương Thị Quỳnh", "HCM.BT.CB01", Membership.probationary, None, False),
]

LOGINS: list[
    tuple[str, str | None, list[tuple[Role, str | None]]]
] = [  # username, member external id, grants [(role, unit code)]
    ("admin", None, [(Role.admin, None)]),
    ("manager.hn", "DV-HN-0002", [(Role.manager, "HN")]),
    ("reviewer.hn", None, [(Role.reviewer, "HN")]),
    ("manager.hcm", "DV-HCM-0001", [(Role.manager, "HCM")]),
    ("analyst", None, [(Role.analyst, "TW")]),
    ("an.nv", "DV-HN-0001", []),
    # A partner system's operator (roster sync from the web app). The users API grants
    # only admin/manager/reviewer/analyst to users; the seed writes this grant directly.
    ("partner.hn", None, [(Role.partner, "HN")]),
]


ACCOUNTS = [  # member external id, platform, url, kind, purpose, display name
    (
        "DV-HN-0001",
        "facebook",
        "https://www.facebook.com/nguyenvanan.badinh",
        AccountKind.profile,
        AccountPurpose.personal,
        "Nguyễn Văn An",
    ),
    (
        "DV-HN-0001",
        "zalo",
        "https://zalo.me/0912345001",
        AccountKind.profile,
        AccountPurpose.work,
        "An Ba Đình",
    ),
    (
        "DV-HN-0002",
        "facebook",
        "https://www.facebook.com/profile.php?id=100012345678901",
        AccountKind.profile,
        AccountPurpose.personal,
        "Trần Thị Bình",
    ),
    (
        "DV-HN-0005",
        "youtube",
        "https://www.youtube.com/@chibokhudancu2",
        AccountKind.channel,
        AccountPurpose.propaganda,
        "Chi bộ KDC số 2",
    ),
    (
        "DV-HCM-0001",
        "tiktok",
        "https://www.tiktok.com/@huynhvannam.bt",
        AccountKind.profile,
        AccountPurpose.personal,
        "Huỳnh Văn Nam",
    ),
]
DECLARED_NONE = ["DV-HN-0003"]

REPORTS = [  # reporter external id, url, category, proposed action, description, status
    (
        "DV-HN-0001",
        "https://tin-nong-24h.example.com.vn/sap-nhap-xa-bi-huy-bo",
        ReportCategory.fake_news,
        ProposedAction.refute,
        "Bài viết bịa đặt rằng chủ trương sắp xếp đơn vị hành chính cấp xã bị hủy bỏ.",
        ReportStatus.submitted,
    ),
    (
        "DV-HN-0003",
        "https://www.facebook.com/dangbophuongbadinh.official",
        ReportCategory.impersonation,
        ProposedAction.report_to_platform,
        "Trang giả mạo Đảng bộ phường Ba Đình, dùng logo và ảnh hoạt động.",
        ReportStatus.in_review,
    ),
    (
        "DV-HCM-0002",
        "https://www.tiktok.com/@huynhvannam.bt/video/7412345678901234567",
        ReportCategory.other,
        ProposedAction.correct_member,
        "Video trên tài khoản đã khai báo có bình luận chưa phù hợp.",
        ReportStatus.submitted,
    ),
]


@dataclass
class SeedResult:
    created_units: int
    created_members: int
    created_users: int
    logins: list[tuple[str, str]]


async def seed(session: AsyncSession) -> SeedResult:
    units: dict[str, Unit] = {u.code: u for u in (await session.scalars(select(Unit))).all()}
    created_units = await _seed_units(session, units)
    existing: dict[str | None, Member] = {
        m.external_id: m for m in (await session.scalars(select(Member))).all()
    }
    created_members = await _seed_members(session, units, existing)
    created_users = await _seed_users(session, units, existing)
    await _seed_accounts(session, existing)
    await _seed_reports(session, existing)
    await _seed_documents(session, units["TW"])
    if created_units or created_members or created_users:
        audit.record(
            session,
            None,
            "demo.seed",
            "system",
            None,
            None,
            {
                "units": created_units,
                "members": created_members,
                "users": created_users,
            },
        )
    return SeedResult(
        created_units, created_members, created_users, [(u, DEMO_PASSWORD) for u, _, _ in LOGINS]
    )


async def _seed_units(session: AsyncSession, units: dict[str, Unit]) -> int:
    """The units not there yet (added to `units`); how many were created."""
    created_units = 0
    for code, name, level, parent_code in UNITS:
        if code in units:  # already seeded
            continue
        parent = units[parent_code] if parent_code else None
        unit_id = uuid.uuid4()
        unit = Unit(
            id=unit_id,
            code=code,
            name=name,
            name_search=fold(name),
            level=level,
            parent_id=parent.id if parent else None,
            path=child_path(parent.path if parent else None, unit_id),
            depth=parent.depth + 1 if parent else 0,
        )
        session.add(unit)
        units[code] = unit
        created_units += 1
    await session.flush()
    return created_units


async def _seed_members(
    session: AsyncSession, units: dict[str, Unit], existing: dict[str | None, Member]
) -> int:
    """The members not there yet (added to `existing`); how many were created."""
    created_members = 0
    for ext, name, unit_code, membership, position, leader in MEMBERS:
        if ext in existing:
            continue
        member = Member(
            external_id=ext,
            full_name=name,
            name_search=fold(name),
            name_sort=name_sort_key(name),
            unit_id=units[unit_code].id,
            membership=membership,
            status=MemberStatus.active,
            position=position,
            is_leader=leader,
            declaration=Declaration.not_declared,
        )
        session.add(member)
        existing[ext] = member
        created_members += 1
    await session.flush()
    return created_members


async def _seed_users(
    session: AsyncSession, units: dict[str, Unit], existing: dict[str | None, Member]
) -> int:
    """The demo logins not there yet, with their grants; how many were created."""
    usernames = set((await session.scalars(select(User.username))).all())
    created_users = 0
    for username, login_ext, grants in LOGINS:
        if username in usernames:
            continue
        user = User(
            username=username,
            password_hash=hash_password(DEMO_PASSWORD),
            member_id=existing[login_ext].id if login_ext else None,
        )
        session.add(user)
        await session.flush()
        for role, grant_unit in grants:
            session.add(
                Grant(
                    user_id=user.id, role=role, unit_id=units[grant_unit].id if grant_unit else None
                )
            )
        created_users += 1
    await session.flush()
    return created_users


async def _seed_accounts(session: AsyncSession, existing: dict[str | None, Member]) -> None:
    """Declared accounts whose key nobody claims yet, and the members who declared none."""
    claimed = set(
        (
            await session.scalars(select(Account.claim_key).where(Account.claim_key.is_not(None)))
        ).all()
    )
    for ext, platform, url, kind, purpose, display in ACCOUNTS:
        canonical = canonicalize(platform, url)
        if canonical.key in claimed:
            continue
        member = existing[ext]
        session.add(
            Account(
                member_id=member.id,
                platform=Platform(platform),
                kind=kind,
                purpose=purpose,
                url=url,
                canonical_key=canonical.key,
                canonical_url=canonical.url,
                claim_key=canonical.key,
                display_name=display,
                status=AccountStatus.pending,
            )
        )
        claimed.add(canonical.key)
        member.declaration, member.declared_at = Declaration.declared, utcnow()
    for ext in DECLARED_NONE:
        if existing[ext].declaration is Declaration.not_declared:
            existing[ext].declaration, existing[ext].declared_at = (
                Declaration.declared_none,
                utcnow(),
            )
    await session.flush()


async def _seed_reports(session: AsyncSession, members: dict[str | None, Member]) -> None:
    """A few reports in several states (rows written directly: the service's rate limit
    counts in its own transaction, which SQLite could not take while the seed writes)."""
    seen = set((await session.scalars(select(Report.content_hash))).all())
    for ext, url, category, action, description, status in REPORTS:
        link = canonical_content(None, url)
        content_hash = sha256_hex(link.url.encode())
        if content_hash in seen:
            continue
        reporter = members[ext]
        subject = (
            await session.execute(
                select(Member.id, Member.unit_id)
                .join(Account, Account.member_id == Member.id)
                .where(Account.claim_key == link.account_key)
            )
        ).first()
        now = utcnow()
        session.add(
            Report(
                reporter_member_id=reporter.id,
                unit_id=reporter.unit_id,
                subject_member_id=subject[0] if subject else None,
                subject_unit_id=subject[1] if subject else None,
                url=url,
                canonical_url=link.url,
                content_hash=content_hash,
                open_key=content_hash,
                platform=Platform(link.platform),
                category=category,
                description=description,
                description_search=fold(description),
                proposed_action=action,
                status=status,
                due_at=due_at(category, now),
                created_at=now,
                updated_at=now,
            )
        )
        seen.add(content_hash)
    await session.flush()


_ILLUSTRATIVE = " (Tóm tắt và ngày tháng chỉ mang tính minh họa cho dữ liệu demo.)"
DEMO_DOCUMENTS: list[dict[str, object]] = [
    {
        "code": "85-QĐ/TW",
        "title": "Quy định về trách nhiệm của cán bộ, đảng viên trong việc thiết lập, sử dụng "
        "trang thông tin cá nhân trên mạng xã hội",
        "doc_type": DocType.regulation,
        "issuer": "Ban Bí thư",
        "issued_on": date(2022, 10, 7),
        "summary": "Cán bộ, đảng viên dùng trang cá nhân một cách gương mẫu, kiểm chứng thông tin "
        "trước khi chia sẻ, phát hiện và báo cáo thông tin xấu, độc; cấp ủy quán triệt, quản lý và "
        "theo dõi việc thực hiện." + _ILLUSTRATIVE,
        "body": "## Ý chính (bản tóm lược cho demo)\n\n"
        "- Trang cá nhân của cán bộ, đảng viên phải là tấm gương về thông tin đúng đắn.\n"
        "- Kiểm tra nguồn tin trước khi đăng hoặc chia sẻ.\n"
        "- Thấy thông tin xấu, độc thì báo cáo tổ chức đảng và đề xuất cách xử lý.\n"
        "- Cấp ủy phổ biến quy định và nắm được trang cá nhân của đảng viên mình quản lý.\n",
    },
    {
        "code": "99-HD/BTGTW",
        "title": "Hướng dẫn thực hiện Quy định số 85-QĐ/TW của Ban Bí thư về trách nhiệm của cán "
        "bộ, đảng viên trong việc thiết lập, sử dụng trang thông tin cá nhân trên mạng xã hội",
        "doc_type": DocType.guidance,
        "issuer": "Ban Tuyên giáo Trung ương",
        "issued_on": date(2023, 3, 20),
        "summary": "Hướng dẫn các cấp ủy tổ chức quán triệt Quy định 85, việc đảng viên khai báo "
        "trang cá nhân, và cách phối hợp xử lý trang giả mạo, thông tin xấu, độc." + _ILLUSTRATIVE,
        "body": "## Ý chính (bản tóm lược cho demo)\n\n"
        "- Các cấp ủy lập kế hoạch phổ biến và kiểm tra việc thực hiện Quy định 85.\n"
        "- Đảng viên khai báo các trang cá nhân với chi bộ.\n"
        "- Trang mạo danh tổ chức, đảng viên được báo cáo để phối hợp xử lý.\n",
    },
    {
        "code": "37-QĐ/TW",
        "title": "Quy định về những điều đảng viên không được làm",
        "doc_type": DocType.regulation,
        "issuer": "Ban Chấp hành Trung ương",
        "issued_on": date(2021, 10, 25),
        "summary": "Liệt kê những việc đảng viên không được làm, trong đó có việc tạo dựng, "
        "đăng tải "
        "hay lan truyền thông tin sai trái trên mạng." + _ILLUSTRATIVE,
        "body": "## Ý chính (bản tóm lược cho demo)\n\n"
        "- Những điều cấm đối với đảng viên về tư tưởng, đạo đức và lối sống.\n"
        "- Không tạo, đăng hoặc chia sẻ thông tin sai sự thật trên mạng xã hội.\n",
    },
]


async def _seed_documents(session: AsyncSession, audience: Unit) -> int:
    """The demo documents, published to the whole tree under `audience`; those already
    present (same code and audience) are left alone. Returns how many were created."""
    present = set(
        (
            await session.scalars(
                select(Document.code).where(Document.audience_unit_id == audience.id)
            )
        ).all()
    )
    created = 0
    now = utcnow()
    for data in DEMO_DOCUMENTS:
        if data["code"] in present:
            continue
        doc = Document(
            **data,
            search_text=fold(f"{data['code']} {data['title']}"),
            audience_unit_id=audience.id,
            requires_ack=True,
            status=DocumentStatus.published,
            revision=1,
            published_at=now,
            ack_due_at=datetime(2026, 12, 31, 17, 0, tzinfo=UTC),
        )
        session.add(doc)
        await session.flush()
        documents.new_revision(session, None, doc)
        audit.record(
            session,
            None,
            "document.publish",
            "document",
            doc.id,
            audience.id,
            documents.snapshot(doc),
        )
        created += 1
    await session.flush()
    return created
