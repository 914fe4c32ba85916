"""Events of lot holds: quarantine for inspection and its approved release."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

from supplyline.kernel.events import EventType


class LotHeld(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hold_id: uuid.UUID
    lot_id: uuid.UUID
    lot_code: str
    sku: str
    quantity: float
    unit: str
    reason: str
    shipment_id: uuid.UUID | None = None
    alarm_id: uuid.UUID | None = None
    rule_id: uuid.UUID | None = None


class LotReleased(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hold_id: uuid.UUID
    lot_id: uuid.UUID
    lot_code: str
    sku: str
    quantity: float
    unit: str
    reason: str
    approved_by: str


class ShipmentExcursion(BaseModel):
    """A shipment's goods were outside their condition: the business exception behind holds."""

    model_config = ConfigDict(extra="forbid")
    shipment_id: uuid.UUID
    shipment_number: str
    rule_id: uuid.UUID
    rule_code: str
    severity: str
    device_id: uuid.UUID
    device: str
    metric: str
    value: float
    at: str
    late: bool
    lot_ids: list[uuid.UUID]


LOT_HELD = EventType("lot.held", 1, LotHeld, "A lot was put on hold (quarantine) for inspection.")
LOT_RELEASED = EventType("lot.released", 1, LotReleased, "A held lot was released by an approver.")
SHIPMENT_TEMPERATURE_EXCEEDED = EventType(
    "shipment.temperature_exceeded",
    1,
    ShipmentExcursion,
    "A rule on the temperature of a shipment's goods fired (the reading that caused it is named).",
)
SHIPMENT_CONDITION_BREACHED = EventType(
    "shipment.condition_breached",
    1,
    ShipmentExcursion,
    "A rule on another condition of a shipment (humidity, shock, location...) fired.",
)
EVENT_TYPES = [LOT_HELD, LOT_RELEASED, SHIPMENT_TEMPERATURE_EXCEEDED, SHIPMENT_CONDITION_BREACHED]
