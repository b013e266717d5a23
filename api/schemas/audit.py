from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from api.schemas.common import Output


class AuditEventRead(Output):
    id: uuid.UUID
    at: datetime
    actor_type: str
    actor_id: uuid.UUID | None
    action: str
    entity_type: str
    entity_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    changes: dict[str, Any]
    request_id: str | None
    client_addr: str | None
