"""ORM models. Importing this package registers every table on Base.metadata."""

from api.models.account import Account
from api.models.audit import AuditEvent
from api.models.document import Document, DocumentAcknowledgement, DocumentRevision
from api.models.idempotency import IdempotencyRecord, RateLimitBucket
from api.models.member import Member
from api.models.report import Report, ReportEvent, ReportEvidence
from api.models.roster import RosterSync, RosterSyncRow, RosterSyncUnit
from api.models.stats import CounterDelta, UnitDocumentAcks, UnitRollup, UnitStats
from api.models.unit import Unit
from api.models.user import ApiClient, Grant, RefreshToken, User

__all__ = [
    "Account",
    "ApiClient",
    "AuditEvent",
    "CounterDelta",
    "Document",
    "DocumentAcknowledgement",
    "DocumentRevision",
    "Grant",
    "IdempotencyRecord",
    "Member",
    "RateLimitBucket",
    "RefreshToken",
    "Report",
    "ReportEvent",
    "ReportEvidence",
    "RosterSync",
    "RosterSyncRow",
    "RosterSyncUnit",
    "Unit",
    "UnitDocumentAcks",
    "UnitRollup",
    "UnitStats",
    "User",
]
