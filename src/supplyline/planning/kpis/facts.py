"""The shape every KPI measure answers in, and the one aggregation they all share.

A measure turns the platform's rows into facts: one per thing counted (an order line, an
order, a shipment, a day of a position, an asset-day), each with its day, its share of the
numerator and of the denominator, and the dimensions it belongs to. Periods, filters and groups
are then the same code for every KPI, so a new KPI is a definition and at most one measure.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.scope import Scope
from supplyline.planning.demand_series import period_start

Grain = Literal["day", "week", "month", "total"]
Dimension = Literal["product", "site", "customer", "carrier", "asset"]
Aggregate = Literal["sum", "daily_mean"]
DIMENSIONS: tuple[str, ...] = ("product", "site", "customer", "carrier", "asset")


@dataclass(frozen=True)
class Window:
    """The days asked for, both ends included (UTC)."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime:
        """The first instant after the window."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    def days(self) -> Iterable[date]:
        day = self.start
        while day <= self.end:
            yield day
            day += timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Fact:
    """What one counted thing adds on ``day``; with ``last``, on every day from ``day`` to
    ``last`` (a level that holds: today's stock, an asset's 24 hours in service), so that a
    standing figure is one fact, not one per day."""

    day: date
    numerator: float
    denominator: float
    # The dimensions it belongs to: a shipment carrying two products belongs to both.
    dims: Mapping[str, frozenset[uuid.UUID]] = field(default_factory=dict)
    last: date | None = None


def dims(**given: uuid.UUID | Iterable[uuid.UUID] | None) -> dict[str, frozenset[uuid.UUID]]:
    """A fact's dimensions from single ids or collections of them (None: belongs to none)."""
    out: dict[str, frozenset[uuid.UUID]] = {}
    for name, value in given.items():
        if value is None:
            out[name] = frozenset()
        elif isinstance(value, uuid.UUID):
            out[name] = frozenset((value,))
        else:
            out[name] = frozenset(value)
    return out


class MeasureFn(Protocol):
    async def __call__(
        self, conn: AsyncConnection, scope: Scope, window: Window, params: Mapping[str, Any]
    ) -> list[Fact]: ...


class NoParams(BaseModel):
    model_config = {"extra": "forbid"}


@dataclass(frozen=True)
class Measure:
    """How facts are computed, which dimensions they carry, and the parameters a definition may
    set (validated when the definitions are loaded)."""

    compute: MeasureFn
    dimensions: frozenset[str]
    params: type[BaseModel] = NoParams


def bucket(day: date, grain: str, window: Window) -> tuple[date, date]:
    """The period holding ``day``, cut to the window: (first day, last day)."""
    if grain == "total":
        return window.start, window.end
    if grain == "month":
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    else:
        first = period_start(day, grain)
        last = first + timedelta(days=0 if grain == "day" else 6)
    return max(first, window.start), min(last, window.end)


def _spans(first_day: date, last_day: date, grain: str, window: Window) -> Iterator[tuple[date, date, int]]:
    """The periods a run of days falls in, each with the number of those days it holds."""
    day = first_day
    while day <= last_day:
        first, last = bucket(day, grain, window)
        end = min(last, last_day)
        yield first, last, (end - day).days + 1
        day = end + timedelta(days=1)


def aggregate(
    facts: Iterable[Fact],
    window: Window,
    grain: str,
    filters: Mapping[str, uuid.UUID],
    group_by: str | None,
    numerator: str = "sum",
    denominator: str = "sum",
    scale: float = 1.0,
) -> list[dict[str, Any]]:
    """Values per period (and group): facts that match every filter, summed; a 'daily_mean'
    side is divided by the days the period covers. Every period of the window is listed, with
    a null value where nothing was counted (a denominator of zero)."""
    sums: dict[tuple[date, date, uuid.UUID | None], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for f in facts:
        first_day, last_day = max(f.day, window.start), min(f.last or f.day, window.end)
        if first_day > last_day:
            continue
        if any(v not in f.dims.get(k, frozenset()) for k, v in filters.items()):
            continue
        groups: Iterable[uuid.UUID | None] = (
            (None,) if group_by is None else sorted(f.dims.get(group_by, frozenset()), key=str)
        )
        for first, last, days in _spans(first_day, last_day, grain, window):
            for g in groups:
                acc = sums[(first, last, g)]
                acc[0] += f.numerator * days
                acc[1] += f.denominator * days
    if group_by is None:
        for day in window.days():
            first, last = bucket(day, grain, window)
            sums.setdefault((first, last, None), [0.0, 0.0])
    points = []
    for (first, last, g), (num, den) in sorted(sums.items(), key=lambda kv: (kv[0][0], str(kv[0][2]))):
        days = (last - first).days + 1
        num = num / days if numerator == "daily_mean" else num
        den = den / days if denominator == "daily_mean" else den
        point: dict[str, Any] = {
            "period_start": first.isoformat(),
            "period_end": last.isoformat(),
            "numerator": num,
            "denominator": den,
            "value": num / den * scale if den else None,
        }
        if group_by is not None:
            point["group"] = {group_by: str(g)}
        points.append(point)
    return points
