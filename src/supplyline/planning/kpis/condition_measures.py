"""Measures of condition and reliability: excursion rate and time out of range per shipment,
and mean time between failures per asset.

An excursion is what logistics records as the shipment's exception (``shipment.temperature_
exceeded`` on the log). Time out of range comes from the alarms a temperature rule raised about
the shipment: each alarm is out of range from its raise to its clear, cut to the trip. Readings
themselves belong to telemetry, a capability beside planning that planning does not read.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import alarms, logistics, maintenance, registry
from supplyline.kernel.clock import utcnow
from supplyline.kernel.scope import Scope
from supplyline.planning.kpis.facts import Fact, Window, dims

SHIPMENT_DIMENSIONS = frozenset({"product", "site", "carrier"})


def _shipment_dims(s: logistics.ShipmentCondition) -> dict[str, frozenset[uuid.UUID]]:
    return dims(product=s.product_ids, site=s.origin_site_id, carrier=s.carrier_id)


async def excursion_rate(
    conn: AsyncConnection, scope: Scope, window: Window, params: Mapping[str, Any]
) -> list[Fact]:
    """One fact per shipment departed in the window: 1 when at least one excursion was recorded."""
    shipments = await logistics.shipment_conditions(conn, scope, window.since, window.until)
    return [
        Fact(s.departed_at.date(), 1.0 if s.excursions else 0.0, 1.0, _shipment_dims(s)) for s in shipments
    ]


class TimeOutOfRangeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metric: str = Field(min_length=1, max_length=64)


async def time_out_of_range(
    conn: AsyncConnection, scope: Scope, window: Window, params: Mapping[str, Any]
) -> list[Fact]:
    """One fact per shipment departed in the window: the minutes its alarms on the metric were
    active during the trip (overlapping alarms counted once), over one shipment."""
    metric = TimeOutOfRangeParams.model_validate(params).metric
    shipments = await logistics.shipment_conditions(conn, scope, window.since, window.until)
    if not shipments:
        return []
    now = utcnow()
    spans: dict[uuid.UUID, list[tuple[datetime, datetime]]] = defaultdict(list)
    for shipment_id, raised, cleared in await alarms.shipment_alarm_windows(
        conn, scope, window.since, metric
    ):
        spans[shipment_id].append((raised, cleared or now))
    out = []
    for s in shipments:
        trip = (s.departed_at, s.arrived_at or now)
        minutes = _overlap_minutes(spans.get(s.shipment_id, []), trip)
        out.append(Fact(s.departed_at.date(), minutes, 1.0, _shipment_dims(s)))
    return out


def _overlap_minutes(spans: list[tuple[datetime, datetime]], trip: tuple[datetime, datetime]) -> float:
    """Minutes of the trip covered by the union of the spans."""
    cut = sorted((max(a, trip[0]), min(b, trip[1])) for a, b in spans)
    total, end = timedelta(), trip[0]
    for a, b in cut:
        a = max(a, end)
        if b > a:
            total += b - a
            end = b
    return total.total_seconds() / 60


async def mtbf(conn: AsyncConnection, scope: Scope, window: Window, params: Mapping[str, Any]) -> list[Fact]:
    """Per asset: 24 hours in service on every day (numerator) and the failures (corrective
    work orders) opened on it, each on its day (denominator)."""
    assets = await registry.asset_sites(conn, scope)
    failures: dict[uuid.UUID, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for asset_id, at in await maintenance.asset_failures(conn, scope, window.since, window.until):
        failures[asset_id][at.date()] += 1
    out = []
    for asset_id, site_id in assets.items():
        d = dims(asset=asset_id, site=site_id)
        out.append(Fact(window.start, 24.0, 0.0, d, last=window.end))
        out += [Fact(day, 0.0, float(n), d) for day, n in failures.get(asset_id, {}).items()]
    return out
