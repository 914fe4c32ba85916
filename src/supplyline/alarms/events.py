"""Events of the alarm lifecycle."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from supplyline.kernel.events import EventType


class AlarmChanged(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID
    type: str
    severity: str
    status: str
    originator: str
    originator_id: uuid.UUID
    shipment_id: uuid.UUID | None = None
    asset_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    lot_ids: list[uuid.UUID] = []
    assignee: str | None = None
    escalation_level: int = 0
    ack_due_at: datetime | None = None
    reason: str | None = None


class AlarmCommented(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID
    comment_id: uuid.UUID
    author: str
    text: str


ALARM_RAISED = EventType("alarm.raised", 1, AlarmChanged, "An alarm was raised (or raised again while open).")
ALARM_CLEARED = EventType(
    "alarm.cleared", 1, AlarmChanged, "An alarm's condition stopped, or it was cleared."
)
ALARM_ACKNOWLEDGED = EventType("alarm.acknowledged", 1, AlarmChanged, "Someone took the alarm on.")
ALARM_ASSIGNED = EventType("alarm.assigned", 1, AlarmChanged, "The alarm's assignee changed.")
ALARM_ESCALATED = EventType("alarm.escalated", 1, AlarmChanged, "Unacknowledged past its SLA: next level.")
ALARM_COMMENTED = EventType("alarm.commented", 1, AlarmCommented, "A comment was added to an alarm.")

EVENT_TYPES = [
    ALARM_RAISED,
    ALARM_CLEARED,
    ALARM_ACKNOWLEDGED,
    ALARM_ASSIGNED,
    ALARM_ESCALATED,
    ALARM_COMMENTED,
]
