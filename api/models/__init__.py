"""ORM models. Importing this package registers every table on Base.metadata."""

from api.models.account import Account
from api.models.audit import AuditEvent
from api.models.idempotency import IdempotencyRecord, RateLimitBucket
from api.models.member import Member
from api.models.unit import Unit
from api.models.user import ApiClient, Grant, RefreshToken, User

__all__ = [
    "Account",
    "ApiClient",
    "AuditEvent",
    "Grant",
    "IdempotencyRecord",
    "Member",
    "RateLimitBucket",
    "RefreshToken",
    "Unit",
    "User",
]
