"""Scheduled forecast runs: every series with recent demand is forecast again once its latest
run is older than the interval. Events re-forecast sooner (``planning.reforecast``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from supplyline.kernel.uow import UnitOfWork
from supplyline.planning.forecast_runs import GRAINS, Forecaster, Trigger, compute, read_input, store_run
from supplyline.planning.tables import planning_demand, planning_forecast_run

Series = tuple[uuid.UUID, uuid.UUID, uuid.UUID]  # (tenant, product, site)
SCHEDULE = "schedule"


async def due_series(
    conn: AsyncConnection, *, now: datetime, interval_s: float, limit: int = 500, grain: str = "day"
) -> list[Series]:
    """Series with demand in their window whose latest run of the grain is older than the
    interval (or that never ran), those never run first, then the oldest."""
    d, r = planning_demand, planning_forecast_run
    since = now.date() - timedelta(days=GRAINS[grain].window_days)
    with_demand = (
        select(d.c.tenant_id, d.c.product_id, d.c.site_id)
        .where(d.c.day >= since, d.c.quantity != 0)
        .distinct()
    )
    latest_stmt = (
        select(r.c.tenant_id, r.c.product_id, r.c.site_id, func.max(r.c.started_at))
        .where(r.c.grain == grain)
        .group_by(r.c.tenant_id, r.c.product_id, r.c.site_id)
    )
    latest = {(t, p, s): at for t, p, s, at in (await conn.execute(latest_stmt)).all()}
    cutoff = now - timedelta(seconds=interval_s)
    due = [
        (t, p, s)
        for t, p, s in (await conn.execute(with_demand)).all()
        if (t, p, s) not in latest or latest[(t, p, s)] < cutoff
    ]
    due.sort(key=lambda k: (k in latest, latest.get(k) or now))
    return due[:limit]


async def run_schedule(
    read_engine: AsyncEngine,
    uow: Callable[[str], AbstractAsyncContextManager[UnitOfWork]],
    engine: Forecaster,
    *,
    now: datetime,
    interval_s: float,
    grain: str = "day",
) -> int:
    """Forecast every due series: fit on a read connection, store each run in a short
    transaction of its own. Returns how many runs were stored."""
    g, as_of = GRAINS[grain], now.date()
    async with read_engine.connect() as conn:
        due = await due_series(conn, now=now, interval_s=interval_s, grain=grain)
    stored = 0
    for tenant, product, site in due:
        fitted = await _fit(read_engine, engine, tenant, product, site, grain, as_of)
        async with uow("forecast-schedule") as work:
            series, result, ms = fitted
            await store_run(
                work.conn, tenant, product, site, g, series, result,
                trigger=Trigger(SCHEDULE, "planning.schedule"), duration_ms=ms, as_of=as_of, profile="bulk",
            )  # fmt: skip
            await work.commit()
        stored += 1
    return stored


async def _fit(
    read_engine: AsyncEngine,
    engine: Forecaster,
    tenant: uuid.UUID,
    product: uuid.UUID,
    site: uuid.UUID,
    grain: str,
    as_of: date,
) -> Any:
    async with read_engine.connect() as conn:
        series = await read_input(conn, tenant, product, site, GRAINS[grain], as_of)
    result, ms = await compute(engine, series, GRAINS[grain], "bulk")
    return series, result, ms
