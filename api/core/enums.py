"""Every enumeration of the contract (SPEC §4–5), with Vietnamese and English labels (the
labels are in the message catalogs, api/locale)."""

from __future__ import annotations

from enum import StrEnum

from api.core.i18n import text


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


# name -> the enumeration: the contract's enumerations that have labels for people.
LABELLED: dict[str, type[StrEnum]] = {
    "role": Role,
    "unit_level": UnitLevel,
    "unit_status": UnitStatus,
    "membership": Membership,
    "member_status": MemberStatus,
    "declaration": Declaration,
    "platform": Platform,
    "account_kind": AccountKind,
    "account_purpose": AccountPurpose,
    "account_status": AccountStatus,
    "report_category": ReportCategory,
    "proposed_action": ProposedAction,
    "report_status": ReportStatus,
    "report_outcome": ReportOutcome,
    "priority": Priority,
    "doc_type": DocType,
    "document_status": DocumentStatus,
    "ack_state": AckState,
    "sync_mode": SyncMode,
    "sync_status": SyncStatus,
    "row_action": RowAction,
    "unit_action": UnitAction,
    "sync_source": SyncSource,
    "principal_kind": PrincipalKind,
    "timeline_kind": TimelineKind,
    "series_interval": SeriesInterval,
    "series_key": SeriesKey,
    "grant_type": GrantType,
    "token_error": TokenError,
}

# name -> (enum, {code: (vi, en)}): the labels, from the catalogs (`enum.<name>.<code>`).
LABELS: dict[str, tuple[type[StrEnum], dict[str, tuple[str, str]]]] = {
    name: (
        enum,
        {
            m.value: (text(f"enum.{name}.{m.value}", "vi"), text(f"enum.{name}.{m.value}", "en"))
            for m in enum
        },
    )
    for name, enum in LABELLED.items()
}
