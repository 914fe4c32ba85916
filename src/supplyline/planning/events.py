"""Events planning publishes: a replenishment recommendation, so that it is on the log and an
outbound adapter (the ERP's) can take it up."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

from supplyline.kernel.events import EventType


class RecommendedOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: float
    order_date: str
    expected_arrival: str


class ReplenishmentRecommended(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: uuid.UUID
    site_id: uuid.UUID
    unit: str
    orders: list[RecommendedOrder]
    safety_stock: float
    reorder_point: float
    inventory_position: float
    sellable: float
    held: float
    service_target: str
    service_level: float
    reasons: list[str]


REPLENISHMENT_RECOMMENDED = EventType(
    "replenishment.recommended",
    1,
    ReplenishmentRecommended,
    "A replenishment recommendation for a product at a site (orders to place, why).",
)
EVENT_TYPES = [REPLENISHMENT_RECOMMENDED]
