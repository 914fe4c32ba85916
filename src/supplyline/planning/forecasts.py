"""Forecasts as the caller sees them: the latest run of a product at a site, and a run on demand.

The caller must reach the product and the site (the same reads replenishment makes); the series
itself is the tenant's demand there. Fitting happens before the write transaction, so a run
asked for over HTTP holds no write lock while the model is fitted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics, registry
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import NotFound
from supplyline.kernel.pagination import Page
from supplyline.kernel.scope import Action, Scope
from supplyline.planning.forecast_result import ForecastResult
from supplyline.planning.forecast_runs import (
    GRAINS,
    Forecaster,
    SeriesInput,
    Trigger,
    compute,
    latest_run,
    read_input,
    run_history,
    store_run,
)
from supplyline.planning.override_apply import apply_overrides
from supplyline.planning.override_model import AdjustedPoint, Point
from supplyline.planning.overrides import series_overrides

GrainName = Literal["day", "week"]


class ForecastRunRequest(BaseModel):
    """Forecast one product at one site now (a run outside the schedule)."""

    model_config = ConfigDict(extra="forbid")
    product_id: uuid.UUID
    site_id: uuid.UUID
    grain: GrainName = "day"


@dataclass(frozen=True)
class FittedRun:
    """A forecast fitted and not yet stored."""

    request: ForecastRunRequest
    series: SeriesInput
    result: ForecastResult
    duration_ms: float
    as_of: date


async def check_series(
    conn: AsyncConnection, scope: Scope, product_id: uuid.UUID, site_id: uuid.UUID, action: str = Action.READ
) -> None:
    """404 unless the caller reaches both the product and the site."""
    scope.require("planning", action)
    if await logistics.product_unit(conn, scope, product_id) is None:
        raise NotFound(f"no product {product_id}")
    if not await registry.live_site_ids(conn, scope, [site_id]):
        raise NotFound(f"no site {site_id}")


async def get_forecast(
    conn: AsyncConnection, scope: Scope, product_id: uuid.UUID, site_id: uuid.UUID, grain: str = "day"
) -> dict[str, Any]:
    """The latest forecast of the series with its bands and provenance; 404 before any run."""
    await check_series(conn, scope, product_id, site_id)
    out = await forecast_view(conn, scope.require_tenant(), product_id, site_id, grain)
    if out is None:
        raise NotFound(f"no forecast yet of product {product_id} at site {site_id} ({grain})")
    return out


async def list_runs(
    conn: AsyncConnection,
    scope: Scope,
    product_id: uuid.UUID,
    site_id: uuid.UUID,
    grain: str = "day",
    *,
    trigger: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[dict[str, Any]]:
    """The series' forecast runs with their provenance, newest first (404 outside the reach)."""
    await check_series(conn, scope, product_id, site_id)
    tenant = scope.require_tenant()
    return await run_history(
        conn, tenant, product_id, site_id, grain, trigger=trigger, cursor=cursor, limit=limit
    )


async def forecast_view(
    conn: AsyncConnection, tenant: uuid.UUID, product_id: uuid.UUID, site_id: uuid.UUID, grain: str = "day"
) -> dict[str, Any] | None:
    """``get_forecast`` without the reach check, for callers that made it already; None before
    any run."""
    out = await latest_run(conn, tenant, product_id, site_id, grain)
    if out is None:
        return None
    points = out["points"]
    if points:
        first, last = date.fromisoformat(points[0]["ds"]), date.fromisoformat(points[-1]["ds"])
        span = GRAINS[grain].step - timedelta(days=1)
        found = await series_overrides(conn, tenant, product_id, site_id, first, last + span)
        adjusted = apply_overrides([_point(p) for p in points], found, as_of=utcnow(), grain=grain)
        out["points"] = [_with_final(p, a) for p, a in zip(points, adjusted, strict=True)]
    return {"product_id": str(product_id), "site_id": str(site_id), **out}


def _point(p: dict[str, Any]) -> Point:
    return Point(date.fromisoformat(p["ds"]), p["mean"], p["lo80"], p["hi80"], p["lo95"], p["hi95"])


def _with_final(p: dict[str, Any], a: AdjustedPoint) -> dict[str, Any]:
    """The statistical point as the run made it, and beside it the planner's final one."""
    return {
        **p,
        "final": {"mean": a.final, "lo80": a.lo80, "hi80": a.hi80, "lo95": a.lo95, "hi95": a.hi95},
        "override_ids": [str(i) for i in a.override_ids],
        "reason_codes": list(a.reason_codes),
    }


async def fit_run(
    conn: AsyncConnection, scope: Scope, request: ForecastRunRequest, engine: Forecaster, as_of: date
) -> FittedRun:
    """Read the series and fit it (on a read connection)."""
    await check_series(conn, scope, request.product_id, request.site_id, Action.WRITE)
    grain = GRAINS[request.grain]
    series = await read_input(conn, scope.require_tenant(), request.product_id, request.site_id, grain, as_of)
    result, ms = await compute(engine, series, grain)
    return FittedRun(request, series, result, ms, as_of)


async def save_run(conn: AsyncConnection, scope: Scope, fitted: FittedRun) -> dict[str, Any]:
    """Store a fitted run (in the caller's transaction) and answer the forecast it made."""
    req, tenant = fitted.request, scope.require_tenant()
    await store_run(
        conn,
        tenant,
        req.product_id,
        req.site_id,
        GRAINS[req.grain],
        fitted.series,
        fitted.result,
        trigger=Trigger("request", scope.actor),
        duration_ms=fitted.duration_ms,
        as_of=fitted.as_of,
    )
    return await get_forecast(conn, scope, req.product_id, req.site_id, req.grain)
