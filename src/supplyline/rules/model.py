"""Rules as data: a condition over telemetry, where it applies, how severe, and what it does.

Conditions are a tree of typed nodes (a discriminated union on ``kind``), so a rule is checked
field by field when it is saved and an evaluator can dispatch on kinds without parsing strings.
Thresholds may be written in any unit convertible to the metric's canonical one (8 C or 46.4
F); the evaluator compares canonical values.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from supplyline.kernel.json import JsonObject

Op = Literal[">", ">=", "<", "<="]
Severity = Literal["critical", "major", "minor", "warning", "indeterminate"]
MetricName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
Seconds = Annotated[int, Field(ge=1, le=366 * 86_400)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class _Compare(_Strict):
    metric: MetricName
    op: Op
    value: float
    unit: str | None = Field(
        default=None, max_length=32, description="Unit of value; default: the metric's canonical unit."
    )


class Threshold(_Compare):
    """Raised while the value is beyond ``value``; with ``clear_at``, cleared only once it is
    back beyond that (hysteresis), so a value hovering at the limit does not flap."""

    kind: Literal["threshold"]
    clear_at: float | None = None

    @model_validator(mode="after")
    def _hysteresis_on_the_safe_side(self) -> Threshold:
        if self.clear_at is None:
            return self
        rising = self.op in (">", ">=")
        if (rising and self.clear_at > self.value) or (not rising and self.clear_at < self.value):
            side = "at or below" if rising else "at or above"
            raise ValueError(f"clear_at must be {side} value ({self.value:g}) for op '{self.op}'")
        return self


class Duration(_Compare):
    """The comparison has held for ``for_s`` seconds without interruption."""

    kind: Literal["duration"]
    for_s: Seconds


class Cumulative(_Compare):
    """Time beyond the limit, added up over the life of a shipment or lot, exceeds a budget:
    "no more than 60 minutes above 8 C in total"."""

    kind: Literal["cumulative"]
    budget_s: Seconds
    over: Literal["shipment", "lot"] = "shipment"


class RateOfChange(_Strict):
    """The value moves faster than ``max_per_min`` (in the metric's unit, or ``unit``) a minute."""

    kind: Literal["rate_of_change"]
    metric: MetricName
    max_per_min: float = Field(gt=0)
    unit: str | None = Field(default=None, max_length=32)


class Circle(_Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(gt=0, le=1_000_000)


class Geofence(_Strict):
    """Entering, leaving or staying in an area: a site's (its location and radius), a circle, or
    a polygon of [lat, lon] vertices."""

    kind: Literal["geofence"]
    trigger: Literal["enter", "exit", "dwell"]
    site_id: uuid.UUID | None = None
    circle: Circle | None = None
    polygon: list[tuple[float, float]] | None = Field(default=None, max_length=1000)
    dwell_s: Seconds | None = None

    @field_serializer("site_id")
    def _site_as_text(self, value: uuid.UUID | None) -> str | None:
        return None if value is None else str(value)  # rules are stored as JSON

    @model_validator(mode="after")
    def _one_area(self) -> Geofence:
        given = [n for n in ("site_id", "circle", "polygon") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("name exactly one area: site_id, circle or polygon")
        if (self.trigger == "dwell") != (self.dwell_s is not None):
            raise ValueError("dwell_s goes with trigger 'dwell', and only with it")
        return self


class Heartbeat(_Strict):
    """No reading for ``max_silence_s`` seconds (missing data)."""

    kind: Literal["heartbeat"]
    max_silence_s: Seconds


class AllOf(_Strict):
    kind: Literal["all"]
    conditions: list[Condition] = Field(min_length=2, max_length=10)


class AnyOf(_Strict):
    kind: Literal["any"]
    conditions: list[Condition] = Field(min_length=2, max_length=10)


Condition = Annotated[
    Threshold | Duration | Cumulative | RateOfChange | Geofence | Heartbeat | AllOf | AnyOf,
    Field(discriminator="kind"),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()

ActionType = Literal["raise_alarm", "hold_lots", "create_work_order", "notify_webhook", "record_compliance"]


class Action(_Strict):
    type: ActionType
    params: JsonObject = Field(default_factory=dict, description="What the action needs (a webhook...)")


SCOPE_FIELDS = ("region_id", "site_id", "asset_type_id", "asset_id", "product_id")


class RuleIn(BaseModel):
    """A rule of the tenant. Scoped to one of region, site, asset type, asset or product (or to
    the whole tenant with none): where several rules of the same code apply, the most specific
    one wins, so a regional policy or a customer's SLA overrides the default without copying it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
    code: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="What the rule is about (cold-chain-max); rules of one code override each "
        "other by scope.",
    )
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    enabled: bool = True
    severity: Severity = "major"
    region_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    asset_type_id: uuid.UUID | None = None
    asset_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    condition: Condition
    actions: list[Action] = Field(
        default_factory=lambda: [Action(type="raise_alarm")], min_length=1, max_length=10
    )

    @model_validator(mode="after")
    def _one_scope(self) -> RuleIn:
        given = [f for f in SCOPE_FIELDS if getattr(self, f) is not None]
        if len(given) > 1:
            raise ValueError(f"a rule has one scope; got {', '.join(given)}")
        return self


def scope_level(values: dict[str, Any]) -> str:
    """tenant, region, site, asset_type, asset or product: what a rule's scope names."""
    for f in SCOPE_FIELDS:
        if values.get(f) is not None:
            return f.removesuffix("_id")
    return "tenant"
