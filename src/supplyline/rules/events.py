"""Events rules publish: a condition started or stopped holding for a device."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from supplyline.kernel.events import EventType


class ConditionChanged(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule_id: uuid.UUID
    code: str
    severity: str
    device_id: uuid.UUID
    device: str
    metric: str
    value: float
    at: datetime  # the time of the reading that made the change, not of its arrival
    late: bool  # a backlog or out-of-order reading: for the record, not an alarm of now
    transition: Literal["raised", "cleared"]


CONDITION_RAISED = EventType(
    "rule.condition_raised", 1, ConditionChanged, "A rule's condition started holding for a device."
)
CONDITION_CLEARED = EventType(
    "rule.condition_cleared", 1, ConditionChanged, "A rule's condition stopped holding for a device."
)
EVENT_TYPES = [CONDITION_RAISED, CONDITION_CLEARED]


class ExcursionRecorded(BaseModel):
    """For the compliance record: what a rule saw, live or from a backlog, and what it touched."""

    model_config = ConfigDict(extra="forbid")
    rule_id: uuid.UUID
    code: str
    device_id: uuid.UUID
    device: str
    metric: str
    value: float
    at: datetime
    late: bool
    shipment_ids: list[uuid.UUID]
    lot_ids: list[uuid.UUID]


EXCURSION_RECORDED = EventType(
    "compliance.excursion_recorded",
    1,
    ExcursionRecorded,
    "An excursion recorded for compliance (always for a backlog; on request for live ones).",
)
EVENT_TYPES.append(EXCURSION_RECORDED)
