"""What a planner states over the statistical forecast: an override of a range of days of one
series, with a reason from a closed list kept as data, so that its effect can be measured per
reason (forecast value added) and the forecast itself is never written over.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

# Why a planner knows better than the model. Data, not code: a new reason is one more entry
# (and its description), and FVA is reported per entry. 'other' needs a note to be useful.
REASON_CODES: dict[str, str] = {
    "promotion": "a promotion or price change the history does not show",
    "new_customer": "demand of a customer the history does not hold yet",
    "lost_customer": "demand that will not come back",
    "supply_constraint": "what can be supplied caps what can be sold",
    "market_intelligence": "what sales or the market say",
    "event": "a one-off event (weather, holiday, strike)",
    "correction": "the statistical forecast is wrong for a known reason",
    "other": "anything else: the note says what",
}
NOTE_REQUIRED = frozenset({"other"})
Kind = Literal["set", "delta", "percent"]
KINDS: tuple[str, ...] = ("set", "delta", "percent")
MAX_SPAN_DAYS = 366
QTY = 1e12  # bounded so every backend stores what comes back
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)


class OverrideRequest(BaseModel):
    """One override of one product at one site over ``starts_on``..``ends_on`` (inclusive).
    ``set`` replaces the daily statistical quantity, ``delta`` adds to it, ``percent`` scales it."""

    model_config = ConfigDict(extra="forbid")
    product_id: uuid.UUID
    site_id: uuid.UUID
    starts_on: date = Field(ge=FIRST_DAY, le=LAST_DAY, description="First day covered.")
    ends_on: date = Field(
        ge=FIRST_DAY,
        le=LAST_DAY,
        description=f"Last day covered (inclusive); at most {MAX_SPAN_DAYS} days in all.",
    )
    kind: Kind = Field(description="set: the daily quantity; delta: added per day; percent: scaled.")
    value: float = Field(
        ge=-QTY,
        le=QTY,
        allow_inf_nan=False,
        description="set: >= 0 per day; delta: per day; percent: > -100.",
    )
    reason_code: Literal[
        "promotion",
        "new_customer",
        "lost_customer",
        "supply_constraint",
        "market_intelligence",
        "event",
        "correction",
        "other",
    ] = Field(description="Why; 'other' requires a note.")
    note: str | None = Field(None, max_length=1000, validate_default=True)
    expires_at: AwareDatetime | None = Field(
        None,
        le=datetime(2999, 12, 31, tzinfo=UTC),
        description="When it stops applying (in the future); default the day after ends_on (00:00 UTC).",
    )

    @field_validator("ends_on")
    @classmethod
    def _ends_after_start(cls, v: date, info: ValidationInfo) -> date:
        starts = info.data.get("starts_on")
        if isinstance(starts, date):
            if v < starts:
                raise ValueError("must be on or after starts_on")
            if (v - starts).days >= MAX_SPAN_DAYS:
                raise ValueError(f"at most {MAX_SPAN_DAYS} days long, starts_on and ends_on included")
        return v

    @field_validator("value")
    @classmethod
    def _value_fits_kind(cls, v: float, info: ValidationInfo) -> float:
        kind = info.data.get("kind")
        if kind == "set" and v < 0:
            raise ValueError("a 'set' quantity must be >= 0")
        if kind == "percent" and v <= -100:
            raise ValueError("a 'percent' change must be > -100")
        return v

    @field_validator("note")
    @classmethod
    def _note_when_required(cls, v: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("reason_code") in NOTE_REQUIRED and not (v and v.strip()):
            raise ValueError("required when reason_code is 'other'")
        return v


@dataclass(frozen=True)
class Override:
    """A stored override, as ``apply_overrides`` needs it."""

    id: uuid.UUID
    starts_on: date
    ends_on: date
    kind: str
    value: float
    reason_code: str
    created_at: datetime
    expires_at: datetime | None = None
    withdrawn_at: datetime | None = None

    def active(self, as_of: datetime) -> bool:
        """Made by ``as_of``, and neither withdrawn nor expired by then."""
        return (
            self.created_at <= as_of
            and (self.withdrawn_at is None or self.withdrawn_at > as_of)
            and (self.expires_at is None or self.expires_at > as_of)
        )

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    def on(self, statistical: float) -> float:
        """The day's final quantity from its statistical one; never below zero."""
        if self.kind == "set":
            out = self.value
        elif self.kind == "delta":
            out = statistical + self.value
        else:
            out = statistical * (1.0 + self.value / 100.0)
        return max(0.0, out) if math.isfinite(out) else statistical


@dataclass(frozen=True)
class Point:
    """One statistical forecast point: a period start and its mean and bands."""

    ds: date
    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


@dataclass(frozen=True)
class AdjustedPoint:
    """A period's statistical value kept beside the final one and the overrides behind it."""

    ds: date
    statistical: float
    final: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float
    override_ids: tuple[uuid.UUID, ...]
    reason_codes: tuple[str, ...]
