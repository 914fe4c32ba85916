"""The ``planning.reforecast`` consumer: what the sensors and the log saw re-forecasts the series
it touches, without waiting for the schedule.

A hold or a release moves the lot's product at every site holding it; a late or lost shipment
moves its products at its destination; a demand spike moves its own series. The fitting is done
in ``prepare``, on a read connection before the write transaction (on SQLite a write
transaction takes the lock ingestion needs), and ``handle_batch`` only stores. A replay runs
nothing twice: a run records the event that triggered it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics
from supplyline.kernel.clock import utcnow
from supplyline.kernel.events import StoredEvent
from supplyline.planning.events import DEMAND_SPIKE_DETECTED
from supplyline.planning.forecast_result import ForecastResult
from supplyline.planning.forecast_runs import (
    GRAINS,
    Forecaster,
    SeriesInput,
    Trigger,
    compute,
    read_input,
    reusable,
    run_exists,
    store_run,
)

CONSUMER_NAME = "planning.reforecast"
Series = tuple[uuid.UUID, uuid.UUID, uuid.UUID]  # (tenant, product, site)
Prepared = tuple[SeriesInput, ForecastResult, float]
LOST_STATUSES = ("exception", "cancelled")


class Reforecaster:
    """Implements ``supplyline.eventlog.Consumer``."""

    name = CONSUMER_NAME
    batch_size = 50  # each event may cost a forecast fit

    def __init__(
        self,
        engine: Forecaster,
        *,
        grain: str = "day",
        profile: str = "bulk",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        # The bulk profile, as the schedule's: an event's run sits in the loop (a hold reaching
        # the plan) and must not wait on a full model search; a planner asks for an accurate
        # run through POST /v1/forecasts/runs. Same profile as the schedule's also lets a run
        # on unchanged demand reuse the schedule's forecast.
        self.profile = profile
        self.engine = engine
        self.grain = GRAINS[grain]
        self.clock = clock
        self._prepared: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], Prepared] = {}

    def accepts(self, event_type: str) -> bool:
        return event_type in TRIGGERS

    async def handle(self, conn: AsyncConnection, event: StoredEvent) -> None:
        await self.handle_batch(conn, [event])

    async def prepare(self, conn: AsyncConnection, events: list[StoredEvent]) -> None:
        """Fit what the events ask for, before the write transaction."""
        self._prepared.clear()
        for ev, (tenant, product, site) in await self._work(conn, events):
            if (ev.id, product, site) not in self._prepared:
                self._prepared[(ev.id, product, site)] = await self._fit(conn, tenant, product, site)

    async def handle_batch(self, conn: AsyncConnection, events: list[StoredEvent]) -> None:
        as_of = self.clock().date()
        for ev, (tenant, product, site) in await self._work(conn, events):
            if await run_exists(conn, tenant, product, site, ev.id):
                continue
            fitted = self._prepared.pop((ev.id, product, site), None)
            series, result, ms = fitted or await self._fit(conn, tenant, product, site)
            trigger = Trigger(TRIGGER_NAMES[ev.type], CONSUMER_NAME, ev.id)
            await store_run(
                conn,
                tenant,
                product,
                site,
                self.grain,
                series,
                result,
                trigger=trigger,
                duration_ms=ms,
                as_of=as_of,
                profile=self.profile,
            )

    async def reset(self, conn: AsyncConnection) -> None:
        """Forget nothing: runs are a record of what was forecast when, not a projection."""

    async def _fit(
        self, conn: AsyncConnection, tenant: uuid.UUID, product: uuid.UUID, site: uuid.UUID
    ) -> Prepared:
        started = time.perf_counter()
        series = await read_input(conn, tenant, product, site, self.grain, self.clock().date())
        same = await reusable(conn, tenant, product, site, self.grain, series, self.profile)
        if same is not None:
            return series, same, (time.perf_counter() - started) * 1000
        result, ms = await compute(self.engine, series, self.grain, self.profile)
        return series, result, ms

    async def _work(
        self, conn: AsyncConnection, events: Iterable[StoredEvent]
    ) -> list[tuple[StoredEvent, Series]]:
        out: list[tuple[StoredEvent, Series]] = []
        for ev in events:
            find = TRIGGERS.get(ev.type)
            if find is None or ev.tenant_id is None:
                continue
            for product, site in await find(conn, ev.tenant_id, ev.data):
                out.append((ev, (ev.tenant_id, product, site)))
        return out


async def _lot_series(
    conn: AsyncConnection, tenant: uuid.UUID, data: dict[str, Any]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    product, sites = await logistics.lot_stock_sites(conn, tenant, uuid.UUID(str(data["lot_id"])))
    return [] if product is None else [(product, s) for s in sites]


async def _shipment_series(
    conn: AsyncConnection, tenant: uuid.UUID, data: dict[str, Any]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """A shipment that became late (arrived after its plan, or was updated past it) or lost."""
    rec, changed = data.get("record") or {}, set(data.get("changed") or ())
    if not shipment_late_or_lost(rec, changed):
        return []
    site = rec.get("destination_site_id")
    if site is None:
        return []
    products = await logistics.shipment_products(conn, tenant, uuid.UUID(str(rec["id"])))
    return [(p, uuid.UUID(str(site))) for p in products]


def shipment_late_or_lost(rec: dict[str, Any], changed: set[str]) -> bool:
    """Lost: set to exception or cancelled. Late: its actual arrival, when set, is after plan."""
    if "status" in changed and rec.get("status") in LOST_STATUSES:
        return True
    planned, actual = rec.get("planned_arrival_at"), rec.get("actual_arrival_at")
    return "actual_arrival_at" in changed and bool(planned) and bool(actual) and _at(actual) > _at(planned)


def _at(value: object) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


async def _spike_series(
    conn: AsyncConnection, tenant: uuid.UUID, data: dict[str, Any]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    return [(uuid.UUID(str(data["product_id"])), uuid.UUID(str(data["site_id"])))]


SeriesFinder = Callable[[AsyncConnection, uuid.UUID, dict[str, Any]], Any]
_SHIPMENT_UPDATED = [t for t in logistics.SHIPMENTS.event_types.values() if t.name.endswith(".updated")]
_FINDERS = [
    (DEMAND_SPIKE_DETECTED, _spike_series),
    (logistics.LOT_HELD, _lot_series),
    (logistics.LOT_RELEASED, _lot_series),
    *((t, _shipment_series) for t in _SHIPMENT_UPDATED),
]
TRIGGERS: dict[str, SeriesFinder] = {t.type: find for t, find in _FINDERS}
TRIGGER_NAMES = {t.type: t.name for t, _ in _FINDERS}  # runs record "lot.held", not the wire type
