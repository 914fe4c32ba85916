"""What a planner asks of replenishment: the product and site, a service target, the
constraints an order must meet, and whatever demand or lead-time figures they already know."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from supplyline.planning.safety_stock import MAX_CSL, MIN_CSL

Target = Literal["cycle_service_level", "fill_rate"]
LEVEL = f"a fraction in ({MIN_CSL}, {MAX_CSL}]"
QTY = 1e12  # bounded so every backend stores what comes back in the event


class RecommendationRequest(BaseModel):
    """One product at one site. Give ``cycle_service_level`` or ``fill_rate`` (neither: a 95%
    cycle service level). Demand and lead time come from history unless given here."""

    model_config = ConfigDict(extra="forbid")
    product_id: uuid.UUID
    site_id: uuid.UUID
    horizon_days: int = Field(30, ge=1, le=365, description="Days of demand one order covers (cycle stock).")
    cycle_service_level: float | None = Field(
        None, gt=MIN_CSL, le=MAX_CSL, description=f"Chance a cycle has no stockout: {LEVEL}."
    )
    fill_rate: float | None = Field(
        None, gt=MIN_CSL, le=MAX_CSL, description=f"Share of demand served: {LEVEL}."
    )
    moq: float | None = Field(None, ge=0, le=QTY, description="Minimum order quantity.")
    pack_size: float | None = Field(None, gt=0, le=QTY, description="Orders are rounded up to a multiple.")
    max_on_hand: float | None = Field(
        None, gt=0, le=QTY, description="Capacity: stock position after ordering."
    )
    max_order: float | None = Field(None, gt=0, le=QTY, description="Capacity: the largest single order.")
    lead_time_days: float | None = Field(None, ge=0, le=730, description="Mean lead time; else from history.")
    lead_time_sd_days: float | None = Field(None, ge=0, le=730, description="Its standard deviation.")
    demand_mean_per_day: float | None = Field(None, ge=0, le=QTY, description="Else from history.")
    demand_sd_per_day: float | None = Field(None, ge=0, le=QTY, description="Else from history (0 without).")
    history_days: int = Field(90, ge=7, le=730, description="Days of outbound history read for demand.")
    ordering_cost: float | None = Field(
        None, gt=0, le=QTY, description="Cost per order: with holding cost, EOQ."
    )
    holding_cost_per_unit_day: float | None = Field(None, gt=0, le=QTY, description="Cost of a unit a day.")
    as_of: date | None = Field(
        None,
        ge=date(1970, 1, 1),
        le=date(2999, 12, 31),
        description="The order date; default today (UTC). History is read back from it.",
    )

    @model_validator(mode="after")
    def _one_target(self) -> RecommendationRequest:
        if self.cycle_service_level is not None and self.fill_rate is not None:
            raise ValueError("give cycle_service_level or fill_rate, not both")
        return self

    @property
    def target(self) -> tuple[Target, float]:
        if self.fill_rate is not None:
            return "fill_rate", self.fill_rate
        return "cycle_service_level", self.cycle_service_level or 0.95
