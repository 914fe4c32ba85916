"""Events of the outbox: a message to another system was queued by an action."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

from supplyline.kernel.events import EventType


class NotificationQueued(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: str
    url: str
    cause_event_id: uuid.UUID
    cause_type: str


NOTIFICATION_QUEUED = EventType(
    "notification.queued", 1, NotificationQueued, "A webhook or ERP message was queued in the outbox."
)
EVENT_TYPES = [NOTIFICATION_QUEUED]
