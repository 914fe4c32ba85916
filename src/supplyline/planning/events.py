"""Events planning publishes: a replenishment recommendation, so that it is on the log and an
outbound adapter (the ERP's) can take it up; a planner's forecast override made or withdrawn,
so that a forecast consumer can recompute the final forecast and the history says who judged."""

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


class OverrideCreated(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID
    product_id: uuid.UUID
    site_id: uuid.UUID
    starts_on: str
    ends_on: str
    kind: str
    value: float
    reason_code: str
    note: str | None
    expires_at: str


class OverrideWithdrawn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID
    product_id: uuid.UUID
    site_id: uuid.UUID
    withdrawn_by: str


FORECAST_OVERRIDE_CREATED = EventType(
    "forecast.override_created",
    1,
    OverrideCreated,
    "A planner's override of a product's forecast at a site over a range of days, with its reason.",
)
FORECAST_OVERRIDE_WITHDRAWN = EventType(
    "forecast.override_withdrawn",
    1,
    OverrideWithdrawn,
    "A forecast override withdrawn: it no longer applies (it is kept, not deleted).",
)


class DemandSpikeDetected(BaseModel):
    """The last day's demand of a series stood far out of the weeks before it."""

    model_config = ConfigDict(extra="forbid")
    product_id: uuid.UUID
    site_id: uuid.UUID
    day: str
    quantity: float
    trailing_mean: float
    trailing_sd: float


DEMAND_SPIKE_DETECTED = EventType(
    "demand.spike_detected",
    1,
    DemandSpikeDetected,
    "A product's demand at a site on one day stood out of the four weeks before it.",
)
EVENT_TYPES = [
    REPLENISHMENT_RECOMMENDED,
    FORECAST_OVERRIDE_CREATED,
    FORECAST_OVERRIDE_WITHDRAWN,
    DEMAND_SPIKE_DETECTED,
]
