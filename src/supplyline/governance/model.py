"""Data classes, how long each may be kept at least, and what a legal hold covers. No I/O.

Retention is opt-in for events, audit entries and traceability checkpoints: a class without a
setting is kept for ever. Telemetry has a platform default (SUPPLYLINE_TELEMETRY_RETENTION_DAYS).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from supplyline.kernel.errors import FieldError, Invalid

DataClass = Literal["telemetry", "events", "audit", "traceability"]
DATA_CLASSES: tuple[DataClass, ...] = get_args(DataClass)
Source = Literal["tenant", "default"]

MAX_DAYS = 36_500
# The audit trail and the ledger are the evidence of what was done, by whom: a year at least,
# so that a tenant admin (or a stolen admin key) cannot shorten them to erase its own tracks,
# and a year is what most audit regimes ask as a floor.
MIN_DAYS: Mapping[DataClass, int] = {"telemetry": 1, "events": 1, "audit": 365, "traceability": 365}


def check_days(days: Mapping[DataClass, int | None]) -> None:
    """Every class named, each None (the default) or within its bounds; Invalid naming the field."""
    errors = []
    for cls in DATA_CLASSES:
        if cls not in days:
            errors.append(FieldError(cls, "missing: give the days, or null for the default"))
            continue
        value = days[cls]
        if value is not None and not MIN_DAYS[cls] <= value <= MAX_DAYS:
            errors.append(FieldError(cls, f"must be from {MIN_DAYS[cls]} to {MAX_DAYS} days, or null"))
    for name in days:
        if name not in DATA_CLASSES:
            errors.append(FieldError(name, f"not a data class; use {', '.join(DATA_CLASSES)}"))
    if errors:
        raise Invalid.many(errors)


def hold_covers(hold: DataClass | None, purged: DataClass) -> bool:
    """Whether a hold on ``hold`` (None: every class) suspends purging ``purged``.

    A hold on audit entries or events holds the ledger too: its checkpoints are what proves the
    held records were not altered."""
    if hold is None or hold == purged:
        return True
    return purged == "traceability" and hold in ("audit", "events")


@dataclass(frozen=True)
class ClassRetention:
    data_class: DataClass
    days: int | None  # None: kept for ever
    source: Source  # tenant: set for the tenant; default: the platform's
    updated_at: datetime | None = None
    updated_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "source": self.source,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "updated_by": self.updated_by,
        }


@dataclass(frozen=True)
class RetentionView:
    tenant_id: uuid.UUID
    classes: tuple[ClassRetention, ...]

    def days(self, data_class: DataClass) -> int | None:
        return next(c.days for c in self.classes if c.data_class == data_class)

    def as_dict(self) -> dict[str, Any]:
        return {"tenant_id": str(self.tenant_id), **{c.data_class: c.as_dict() for c in self.classes}}


@dataclass(frozen=True)
class LegalHold:
    id: uuid.UUID
    tenant_id: uuid.UUID
    data_class: DataClass | None
    reason: str
    placed_at: datetime
    placed_by: str
    released_at: datetime | None
    released_by: str | None
    release_reason: str | None

    @property
    def active(self) -> bool:
        return self.released_at is None

    @classmethod
    def from_row(cls, row: Any) -> LegalHold:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    def as_dict(self) -> dict[str, Any]:
        def at(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": str(self.id),
            "tenant_id": str(self.tenant_id),
            "data_class": self.data_class,
            "reason": self.reason,
            "active": self.active,
            "placed_at": at(self.placed_at),
            "placed_by": self.placed_by,
            "released_at": at(self.released_at),
            "released_by": self.released_by,
            "release_reason": self.release_reason,
        }
