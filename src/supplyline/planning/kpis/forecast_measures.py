"""Forecast error: WAPE, MASE and bias of the forecasts the planner had, against actual demand.

Each forecast point is judged as it stood when its period began: for every series and period,
the latest run started before that period's first day. Actual demand is the stored daily demand
(imported figures winning over seen ones, as ``demand_series`` reads it) over the point's
period at the run's grain. One measure, three statistics chosen by the definition.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics, registry
from supplyline.kernel.scope import Scope
from supplyline.planning.demand_series import daily_demand, demand_series
from supplyline.planning.kpis.facts import Fact, Window, dims
from supplyline.planning.tables import planning_forecast_point, planning_forecast_run

SeriesKey = tuple[uuid.UUID, uuid.UUID, str]  # product, site, grain


class ForecastErrorParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statistic: Literal["wape", "mase", "bias"]


@dataclass(frozen=True)
class Judged:
    """A forecast point and the run that made it."""

    ds: date
    forecast: float
    run_id: uuid.UUID
    input_start: date | None
    input_end: date | None


async def forecast_error(
    conn: AsyncConnection, scope: Scope, window: Window, params: Mapping[str, Any]
) -> list[Fact]:
    """One fact per judged point. WAPE: |A-F| over A. Bias: (F-A) over A (positive: the forecast
    was too high). MASE: |A-F| scaled by the run's in-sample one-step naive error, over points."""
    statistic = ForecastErrorParams.model_validate(params).statistic
    points = await _latest_points(conn, scope, window)
    out = []
    for (product, site, grain), judged in points.items():
        span = 1 if grain == "day" else 7
        by_day = await daily_demand(
            conn, scope.require_tenant(), [product], [site], window.start, window.end + timedelta(days=span)
        )
        scales: dict[uuid.UUID, float | None] = {}
        d = dims(product=product, site=site)
        for p in judged:
            actual = sum(by_day.get(p.ds + timedelta(days=i), 0.0) for i in range(span))
            error = actual - p.forecast
            if statistic == "wape":
                out.append(Fact(p.ds, abs(error), actual, d))
            elif statistic == "bias":
                out.append(Fact(p.ds, -error, actual, d))
            else:
                if p.run_id not in scales:
                    scales[p.run_id] = await _naive_scale(conn, scope, product, site, grain, p)
                scale = scales[p.run_id]
                if scale:  # a flat history has no naive error to scale by: MASE is undefined
                    out.append(Fact(p.ds, abs(error) / scale, 1.0, d))
    return out


async def _latest_points(
    conn: AsyncConnection, scope: Scope, window: Window
) -> dict[SeriesKey, list[Judged]]:
    """Per series the caller reaches, each point in the window from the latest run started
    before the point's period began."""
    r, p = planning_forecast_run, planning_forecast_point
    stmt = (
        select(
            r.c.id,
            r.c.product_id,
            r.c.site_id,
            r.c.grain,
            r.c.started_at,
            r.c.input_start,
            r.c.input_end,
            p.c.ds,
            p.c.mean,
        )
        .join(p, p.c.run_id == r.c.id)
        .where(r.c.tenant_id == scope.require_tenant(), p.c.ds >= window.start, p.c.ds <= window.end)
        .where(r.c.started_at < window.until)
    )
    best: dict[tuple[SeriesKey, date], tuple[datetime, Judged]] = {}
    for row in await conn.execute(stmt):
        if row.started_at >= datetime.combine(row.ds, time(), UTC):
            continue  # made once its period had begun: not a forecast of it
        key = ((row.product_id, row.site_id, row.grain), row.ds)
        if key not in best or row.started_at > best[key][0]:
            best[key] = (row.started_at, Judged(row.ds, row.mean, row.id, row.input_start, row.input_end))
    sites = await registry.live_site_ids(conn, scope, list({k[0][1] for k in best}))
    products = {pid for pid in {k[0][0] for k in best} if await logistics.product_unit(conn, scope, pid)}
    out: dict[SeriesKey, list[Judged]] = {}
    for (series, _), (_, judged) in sorted(best.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        if series[0] in products and series[1] in sites:
            out.setdefault(series, []).append(judged)
    return out


async def _naive_scale(
    conn: AsyncConnection, scope: Scope, product: uuid.UUID, site: uuid.UUID, grain: str, p: Judged
) -> float | None:
    """Mean absolute one-step change of demand over the run's input window: the error of the
    naive forecast (next = last) in sample, which MASE divides by."""
    if p.input_start is None or p.input_end is None:
        return None
    series = await demand_series(
        conn, scope.require_tenant(), [product], [site], grain=grain, start=p.input_start, end=p.input_end
    )
    values = [q for _, q in series]
    if len(values) < 2:
        return None
    return sum(abs(b - a) for a, b in itertools.pairwise(values)) / (len(values) - 1)
