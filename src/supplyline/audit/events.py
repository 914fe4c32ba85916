"""The audit trail's one event: an entry, appended to the log like any other event.

Who, when, the tenant, the object (as the event's subject) and the correlation id are the
envelope's fields (``actor``, ``time``, ``tenant_id``, ``subject``, ``correlation_id``), not
copies in ``data``: the checkpoint hash covers the envelope too, and one value has one home.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from supplyline.kernel.events import EventType

Outcome = Literal["ok", "denied"]


class AuditRecorded(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(max_length=100, description="Stable name: shipments.create, auth.denied, ...")
    outcome: Outcome
    principal_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    before: Any = Field(default=None, description="The object as it was (JSON), when known")
    after: Any = Field(default=None, description="The object as it became (JSON), secrets left out")
    reason: str | None = None
    request_id: str | None = None
    method: str | None = None
    path: str | None = Field(default=None, description="The request target, query string included")
    key_prefix: str | None = Field(
        default=None, description="The public prefix of an API key that was refused; never its secret"
    )


AUDIT_RECORDED = EventType(
    "audit.recorded",
    1,
    AuditRecorded,
    "An audit entry: a write, or a security-relevant read or refusal. Chained in the ledger.",
)

EVENT_TYPES = [AUDIT_RECORDED]
