"""The event envelope (CloudEvents 1.0 with supplyline extensions) and event type declarations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from supplyline.kernel.clock import utcnow
from supplyline.kernel.ids import new_id

TYPE_PREFIX = "supplyline."


@dataclass(frozen=True)
class EventType:
    """A wire name plus version plus the pydantic model of its ``data``.

    A wire name is never reused for another shape: a change of shape is a new version.
    """

    name: str  # e.g. "shipment.created"
    version: int
    data_model: type[BaseModel]
    description: str = ""

    @property
    def type(self) -> str:
        return f"{TYPE_PREFIX}{self.name}.v{self.version}"


@dataclass(frozen=True)
class NewEvent:
    """An event staged in a unit of work; it gets its position when the transaction commits."""

    type: str
    tenant_id: uuid.UUID | None
    subject: str
    data: dict[str, Any]
    source: str = "/supplyline"
    id: uuid.UUID = field(default_factory=new_id)
    time: datetime = field(default_factory=utcnow)
    actor: str | None = None  # who caused it (an API key, a device, the system); see Scope.actor
    # The request or message that caused it, when not the unit of work's own: readings of many
    # requests commit in one telemetry transaction, and a rule's event names its reading's.
    correlation_id: str | None = None


@dataclass(frozen=True)
class StoredEvent:
    """An event as read back from the log, with its commit-ordered position."""

    position: int
    id: uuid.UUID
    type: str
    source: str
    subject: str
    time: datetime
    tenant_id: uuid.UUID | None
    correlation_id: str | None
    data: dict[str, Any]
    actor: str | None = None

    def cloudevent(self) -> dict[str, Any]:
        """The CloudEvents 1.0 JSON form, extensions flattened as the spec asks."""
        return {
            "specversion": "1.0",
            "id": str(self.id),
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "tenantid": str(self.tenant_id) if self.tenant_id else None,
            "correlationid": self.correlation_id,
            "actor": self.actor,
            "position": self.position,
            "data": self.data,
        }
