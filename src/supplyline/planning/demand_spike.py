"""Demand spikes: a series whose newest day stands far out of the four weeks before it becomes a
``demand.spike_detected`` event, once per series and day, so the forecast is run again."""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.eventlog import events_by_id
from supplyline.kernel.clock import utcnow
from supplyline.kernel.events import NewEvent
from supplyline.planning.demand_read import demand_spike
from supplyline.planning.demand_series import demand_series
from supplyline.planning.events import DEMAND_SPIKE_DETECTED

WINDOW = 28
_NAMESPACE = uuid.UUID("8d4f3c1e-6a55-4f0e-9b0e-5d2a4c7f1b90")


async def spikes_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, pairs: Iterable[tuple[uuid.UUID, uuid.UUID]]
) -> list[NewEvent]:
    """The spike events of the series given, up to today, not published before (each event's
    id is derived from its series and day, so a replay finds the one it published)."""
    end = utcnow().date()
    start = end - timedelta(days=WINDOW)
    staged: list[NewEvent] = []
    for product_id, site_id in sorted(pairs):
        series = await demand_series(
            conn, tenant_id, [product_id], [site_id], grain="day", start=start, end=end
        )
        values = [q for _, q in series]
        # The newest day with demand: today's is not complete, yesterday's may be the spike.
        last = max((i for i, q in enumerate(values) if q), default=None)
        if last is None or not demand_spike(values[: last + 1]):
            continue
        day = series[last][0]
        trailing = values[max(0, last - WINDOW) : last]
        event_id = uuid.uuid5(_NAMESPACE, f"{tenant_id}/{product_id}/{site_id}/{day.isoformat()}")
        staged.append(
            NewEvent(
                type=DEMAND_SPIKE_DETECTED.type,
                tenant_id=tenant_id,
                subject=f"products/{product_id}/sites/{site_id}",
                source="/supplyline/planning",
                id=event_id,
                data={
                    "product_id": str(product_id),
                    "site_id": str(site_id),
                    "day": day.isoformat(),
                    "quantity": values[last],
                    "trailing_mean": statistics.fmean(trailing),
                    "trailing_sd": statistics.stdev(trailing) if len(trailing) > 1 else 0.0,
                },
                actor="planning.demand",
            )
        )
    if not staged:
        return []
    known = await events_by_id(conn, [e.id for e in staged])
    return [e for e in staged if e.id not in known]
