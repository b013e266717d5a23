"""Every enumeration of the contract (SPEC §4–5), with Vietnamese and English labels."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    manager = "manager"
    reviewer = "reviewer"
    member = "member"
    partner = "partner"
    analyst = "analyst"


class UnitLevel(StrEnum):
    central = "central"
    provincial = "provincial"
    upper_grassroots = "upper_grassroots"
    grassroots = "grassroots"
    cell = "cell"
    group = "group"


class UnitStatus(StrEnum):
    active = "active"
    dissolved = "dissolved"


class Membership(StrEnum):
    probationary = "probationary"
    official = "official"
    none = "none"


class MemberStatus(StrEnum):
    active = "active"
    exempt = "exempt"
    transferred = "transferred"
    removed = "removed"
    deceased = "deceased"


class Declaration(StrEnum):
    not_declared = "not_declared"
    declared_none = "declared_none"
    declared = "declared"


class Platform(StrEnum):
    facebook = "facebook"
    zalo = "zalo"
    youtube = "youtube"
    tiktok = "tiktok"
    instagram = "instagram"
    x = "x"
    telegram = "telegram"
    threads = "threads"
    linkedin = "linkedin"
    website = "website"
    other = "other"


class AccountKind(StrEnum):
    profile = "profile"
    page = "page"
    group = "group"
    channel = "channel"
    official_account = "official_account"
    website = "website"


class AccountPurpose(StrEnum):
    personal = "personal"
    work = "work"
    propaganda = "propaganda"


class AccountStatus(StrEnum):
    pending = "pending"
    verified = "verified"
    rejected = "rejected"
    closed = "closed"
    compromised = "compromised"


class ReportCategory(StrEnum):
    fake_news = "fake_news"
    false_information = "false_information"
    distortion = "distortion"
    hostile_view = "hostile_view"
    defamation = "defamation"
    incitement = "incitement"
    secret_leak = "secret_leak"  # noqa: S105 - a report category
    obscene = "obscene"
    impersonation = "impersonation"
    scam = "scam"
    other = "other"


class ProposedAction(StrEnum):
    refute = "refute"
    report_to_platform = "report_to_platform"
    request_takedown = "request_takedown"
    refer_to_authorities = "refer_to_authorities"
    correct_member = "correct_member"
    monitor = "monitor"


class ReportStatus(StrEnum):
    submitted = "submitted"
    in_review = "in_review"
    escalated = "escalated"
    resolved = "resolved"
    dismissed = "dismissed"
    withdrawn = "withdrawn"


class ReportOutcome(StrEnum):
    removed = "removed"
    account_locked = "account_locked"
    refuted = "refuted"
    corrected = "corrected"
    no_action = "no_action"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class DocType(StrEnum):
    regulation = "regulation"
    guidance = "guidance"
    directive = "directive"
    resolution = "resolution"
    official_letter = "official_letter"
    plan = "plan"
    law = "law"
    decree = "decree"
    propaganda = "propaganda"
    other = "other"


class DocumentStatus(StrEnum):
    draft = "draft"
    published = "published"
    archived = "archived"


class AckState(StrEnum):
    """The caller's acknowledgement state of a document's current revision (and the
    `state` filter of the managers' list)."""

    pending = "pending"
    done = "done"


class SyncMode(StrEnum):
    snapshot = "snapshot"
    upsert = "upsert"


class SyncStatus(StrEnum):
    previewed = "previewed"
    applied = "applied"
    failed = "failed"


class RowAction(StrEnum):
    """What a roster body row (or an absent member, for `deactivate`) does to the roster."""

    create = "create"
    update = "update"
    move = "move"
    reactivate = "reactivate"
    deactivate = "deactivate"
    unchanged = "unchanged"
    rejected = "rejected"


class UnitAction(StrEnum):
    """What a snapshot's unit row does to the tree."""

    create = "create"
    update = "update"
    unchanged = "unchanged"
    rejected = "rejected"


class SyncSource(StrEnum):
    """The body format of a roster sync."""

    json = "json"
    ndjson = "ndjson"
    csv = "csv"
    xlsx = "xlsx"
    xls = "xls"
    ods = "ods"


class PrincipalKind(StrEnum):
    user = "user"
    client = "client"


class TimelineKind(StrEnum):
    """What a report timeline entry records."""

    filed = "filed"
    duplicate_linked = "duplicate_linked"
    promoted = "promoted"
    transition = "transition"
    assignment = "assignment"
    priority = "priority"
    evidence = "evidence"


class SeriesInterval(StrEnum):
    day = "day"
    week = "week"
    month = "month"


class SeriesKey(StrEnum):
    """What a report time series is broken down by."""

    category = "category"
    platform = "platform"
    status = "status"


class GrantType(StrEnum):
    """OAuth2 grant types of `POST /auth/token`."""

    password = "password"  # noqa: S105 - a grant type, not a secret
    client_credentials = "client_credentials"
    refresh_token = "refresh_token"  # noqa: S105 - a grant type, not a secret


class TokenError(StrEnum):
    """RFC 6749 error codes, beside the problem `code` on the token endpoint's errors."""

    invalid_request = "invalid_request"
    invalid_client = "invalid_client"
    invalid_grant = "invalid_grant"
    unauthorized_client = "unauthorized_client"
    unsupported_grant_type = "unsupported_grant_type"
    invalid_scope = "invalid_scope"


# name -> (enum, {code: (vi, en)})
LABELS: dict[str, tuple[type[StrEnum], dict[str, tuple[str, str]]]] = {
    "role": (
        Role,
        {
            "admin": ("Quản trị hệ thống", "Administrator"),
            "manager": ("Cấp ủy (quản lý)", "Manager (party committee)"),
            "reviewer": ("Cán bộ thẩm định", "Reviewer"),
            "member": ("Đảng viên", "Member"),
            "partner": ("Hệ thống đối tác", "Partner system"),
            "analyst": ("Thống kê", "Analyst"),
        },
    ),
    "unit_level": (
        UnitLevel,
        {
            "central": ("Trung ương", "Central"),
            "provincial": (
                "Đảng bộ trực thuộc Trung ương",
                "Provincial (directly under the Centre)",
            ),
            "upper_grassroots": ("Cấp trên cơ sở", "Upper grassroots"),
            "grassroots": ("Đảng bộ cơ sở / chi bộ cơ sở", "Grassroots"),
            "cell": ("Chi bộ trực thuộc", "Party cell"),
            "group": ("Tổ đảng", "Party group"),
        },
    ),
    "unit_status": (
        UnitStatus,
        {
            "active": ("Đang hoạt động", "Active"),
            "dissolved": ("Đã giải thể", "Dissolved"),
        },
    ),
    "membership": (
        Membership,
        {
            "probationary": ("Đảng viên dự bị", "Probationary member"),
            "official": ("Đảng viên chính thức", "Official member"),
            "none": ("Không phải đảng viên", "Not a party member"),
        },
    ),
    "member_status": (
        MemberStatus,
        {
            "active": ("Đang sinh hoạt", "Active"),
            "exempt": ("Miễn sinh hoạt", "Exempt"),
            "transferred": ("Đã chuyển đi", "Transferred"),
            "removed": ("Đã xóa tên", "Removed"),
            "deceased": ("Đã từ trần", "Deceased"),
        },
    ),
    "declaration": (
        Declaration,
        {
            "not_declared": ("Chưa khai báo", "Not declared"),
            "declared_none": ("Khai báo không có tài khoản", "Declared: no accounts"),
            "declared": ("Đã khai báo", "Declared"),
        },
    ),
    "platform": (
        Platform,
        {
            "facebook": ("Facebook", "Facebook"),
            "zalo": ("Zalo", "Zalo"),
            "youtube": ("YouTube", "YouTube"),
            "tiktok": ("TikTok", "TikTok"),
            "instagram": ("Instagram", "Instagram"),
            "x": ("X (Twitter)", "X (Twitter)"),
            "telegram": ("Telegram", "Telegram"),
            "threads": ("Threads", "Threads"),
            "linkedin": ("LinkedIn", "LinkedIn"),
            "website": ("Trang web", "Website"),
            "other": ("Khác", "Other"),
        },
    ),
    "account_kind": (
        AccountKind,
        {
            "profile": ("Trang cá nhân", "Profile"),
            "page": ("Trang (fanpage)", "Page"),
            "group": ("Nhóm", "Group"),
            "channel": ("Kênh", "Channel"),
            "official_account": ("Tài khoản chính thức (OA)", "Official account"),
            "website": ("Trang web", "Website"),
        },
    ),
    "account_purpose": (
        AccountPurpose,
        {
            "personal": ("Cá nhân", "Personal"),
            "work": ("Công việc", "Work"),
            "propaganda": ("Tuyên truyền", "Propaganda"),
        },
    ),
    "account_status": (
        AccountStatus,
        {
            "pending": ("Chờ xác minh", "Pending"),
            "verified": ("Đã xác minh", "Verified"),
            "rejected": ("Bị từ chối", "Rejected"),
            "closed": ("Đã đóng", "Closed"),
            "compromised": ("Bị chiếm quyền", "Compromised"),
        },
    ),
    "report_category": (
        ReportCategory,
        {
            "fake_news": ("Tin giả", "Fake news"),
            "false_information": ("Tin sai sự thật", "False information"),
            "distortion": ("Xuyên tạc, chống phá", "Distortion"),
            "hostile_view": ("Quan điểm sai trái, thù địch", "Hostile view"),
            "defamation": ("Bôi nhọ, xúc phạm", "Defamation"),
            "incitement": ("Kích động, gây rối", "Incitement"),
            "secret_leak": (
                "Lộ bí mật nhà nước, tài liệu nội bộ",
                "Secret or internal document leak",
            ),
            "obscene": ("Dâm ô, phản cảm", "Obscene"),
            "impersonation": ("Trang giả mạo", "Impersonation"),
            "scam": ("Lừa đảo, link độc", "Scam or malicious link"),
            "other": ("Khác", "Other"),
        },
    ),
    "proposed_action": (
        ProposedAction,
        {
            "refute": ("Phản bác, định hướng", "Refute"),
            "report_to_platform": ("Báo cáo nền tảng", "Report to the platform"),
            "request_takedown": ("Đề nghị gỡ bỏ", "Request takedown"),
            "refer_to_authorities": ("Chuyển cơ quan chức năng", "Refer to the authorities"),
            "correct_member": ("Chấn chỉnh đảng viên", "Correct the member"),
            "monitor": ("Theo dõi", "Monitor"),
        },
    ),
    "report_status": (
        ReportStatus,
        {
            "submitted": ("Đã gửi", "Submitted"),
            "in_review": ("Đang xem xét", "In review"),
            "escalated": ("Đã chuyển cơ quan chức năng", "Escalated"),
            "resolved": ("Đã xử lý", "Resolved"),
            "dismissed": ("Không xử lý", "Dismissed"),
            "withdrawn": ("Đã rút", "Withdrawn"),
        },
    ),
    "report_outcome": (
        ReportOutcome,
        {
            "removed": ("Đã gỡ bỏ", "Removed"),
            "account_locked": ("Đã khóa tài khoản", "Account locked"),
            "refuted": ("Đã phản bác", "Refuted"),
            "corrected": ("Đã chấn chỉnh", "Corrected"),
            "no_action": ("Không cần xử lý", "No action"),
        },
    ),
    "priority": (
        Priority,
        {
            "low": ("Thấp", "Low"),
            "normal": ("Bình thường", "Normal"),
            "high": ("Cao", "High"),
            "urgent": ("Khẩn", "Urgent"),
        },
    ),
    "doc_type": (
        DocType,
        {
            "regulation": ("Quy định", "Regulation"),
            "guidance": ("Hướng dẫn", "Guidance"),
            "directive": ("Chỉ thị", "Directive"),
            "resolution": ("Nghị quyết", "Resolution"),
            "official_letter": ("Công văn", "Official letter"),
            "plan": ("Kế hoạch", "Plan"),
            "law": ("Luật", "Law"),
            "decree": ("Nghị định", "Decree"),
            "propaganda": ("Tài liệu tuyên truyền", "Propaganda material"),
            "other": ("Khác", "Other"),
        },
    ),
    "document_status": (
        DocumentStatus,
        {
            "draft": ("Bản nháp", "Draft"),
            "published": ("Đã ban hành", "Published"),
            "archived": ("Đã lưu trữ", "Archived"),
        },
    ),
    "ack_state": (
        AckState,
        {
            "pending": ("Chưa quán triệt", "Pending"),
            "done": ("Đã quán triệt", "Acknowledged"),
        },
    ),
    "sync_mode": (
        SyncMode,
        {
            "snapshot": ("Toàn bộ (ảnh chụp)", "Snapshot"),
            "upsert": ("Cập nhật từng dòng", "Upsert"),
        },
    ),
    "sync_status": (
        SyncStatus,
        {
            "previewed": ("Đã xem trước", "Previewed"),
            "applied": ("Đã áp dụng", "Applied"),
            "failed": ("Thất bại", "Failed"),
        },
    ),
    "row_action": (
        RowAction,
        {
            "create": ("Thêm mới", "Create"),
            "update": ("Cập nhật", "Update"),
            "move": ("Chuyển đơn vị", "Move"),
            "reactivate": ("Khôi phục", "Reactivate"),
            "deactivate": ("Chuyển đi", "Deactivate"),
            "unchanged": ("Không đổi", "Unchanged"),
            "rejected": ("Bị từ chối", "Rejected"),
        },
    ),
    "unit_action": (
        UnitAction,
        {
            "create": ("Thêm mới", "Create"),
            "update": ("Cập nhật", "Update"),
            "unchanged": ("Không đổi", "Unchanged"),
            "rejected": ("Bị từ chối", "Rejected"),
        },
    ),
    "sync_source": (
        SyncSource,
        {
            "json": ("JSON", "JSON"),
            "ndjson": ("NDJSON", "NDJSON"),
            "csv": ("CSV", "CSV"),
            "xlsx": ("Excel (XLSX)", "Excel (XLSX)"),
            "xls": ("Excel 97–2003 (XLS)", "Excel 97–2003 (XLS)"),
            "ods": ("OpenDocument (ODS)", "OpenDocument (ODS)"),
        },
    ),
    "principal_kind": (
        PrincipalKind,
        {
            "user": ("Người dùng", "User"),
            "client": ("Ứng dụng (API client)", "API client"),
        },
    ),
    "timeline_kind": (
        TimelineKind,
        {
            "filed": ("Gửi báo cáo", "Filed"),
            "duplicate_linked": ("Gộp báo cáo trùng", "Duplicate linked"),
            "promoted": ("Trở thành báo cáo chính", "Promoted to primary"),
            "transition": ("Chuyển trạng thái", "Transition"),
            "assignment": ("Phân công", "Assignment"),
            "priority": ("Đổi mức ưu tiên", "Priority"),
            "evidence": ("Thêm chứng cứ", "Evidence"),
        },
    ),
    "series_interval": (
        SeriesInterval,
        {
            "day": ("Ngày", "Day"),
            "week": ("Tuần", "Week"),
            "month": ("Tháng", "Month"),
        },
    ),
    "series_key": (
        SeriesKey,
        {
            "category": ("Loại vi phạm", "Category"),
            "platform": ("Nền tảng", "Platform"),
            "status": ("Trạng thái", "Status"),
        },
    ),
    "grant_type": (
        GrantType,
        {
            "password": ("Mật khẩu", "Password"),
            "client_credentials": ("Thông tin ứng dụng", "Client credentials"),
            "refresh_token": ("Làm mới mã truy cập", "Refresh token"),
        },
    ),
    "token_error": (
        TokenError,
        {
            "invalid_request": ("Yêu cầu không hợp lệ", "Invalid request"),
            "invalid_client": ("Ứng dụng không hợp lệ", "Invalid client"),
            "invalid_grant": ("Thông tin cấp quyền không hợp lệ", "Invalid grant"),
            "unauthorized_client": ("Ứng dụng không được phép", "Unauthorized client"),
            "unsupported_grant_type": (
                "Kiểu cấp quyền không được hỗ trợ",
                "Unsupported grant type",
            ),
            "invalid_scope": ("Phạm vi không hợp lệ", "Invalid scope"),
        },
    ),
}
