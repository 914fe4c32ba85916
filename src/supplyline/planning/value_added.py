"""Forecast value added of planner overrides: did the judgement beat the statistics?

For each complete period (its last day before ``as_of``) the forecast judged is the one in force
before the period began: the latest run of the series started before the period's first day
(00:00 UTC) that has a point for it. Its statistical value is compared with its final value,
the overrides applied as they stood when that run was made (``apply_overrides`` with
``as_of=run.started_at``), so hindsight never enters. Over those periods:

    MAE  = mean |actual - forecast|
    WAPE = 100 * sum |actual - forecast| / sum actual        (None when nothing was sold)
    FVA  = WAPE(statistical) - WAPE(final), in points: positive = the overrides helped

and the same per reason code, over the periods an override of that reason changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Invalid
from supplyline.kernel.scope import Scope
from supplyline.planning.demand_series import GRAINS, demand_series, period_start, periods
from supplyline.planning.override_apply import DAYS, apply_overrides
from supplyline.planning.override_model import FIRST_DAY, LAST_DAY, AdjustedPoint, Point
from supplyline.planning.overrides import require_series, series_overrides
from supplyline.planning.tables import planning_forecast_point, planning_forecast_run

MAX_RANGE_DAYS = 1096  # three years of periods in one answer
Row = tuple[float, float, float]  # actual, statistical, final


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def scores(rows: Sequence[Row]) -> dict[str, Any]:
    """MAE and WAPE of the statistical and the final forecast, and FVA in points."""
    n = len(rows)
    total = sum(a for a, _, _ in rows)
    out: dict[str, Any] = {"periods": n}
    for name, i in (("statistical", 1), ("final", 2)):
        err = sum(abs(r[0] - r[i]) for r in rows)
        out[name] = {"mae": err / n if n else None, "wape": 100.0 * err / total if total > 0 else None}
    s, f = out["statistical"]["wape"], out["final"]["wape"]
    out["fva"] = s - f if s is not None and f is not None else None
    return out


async def _forecasts(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    product_id: uuid.UUID,
    site_id: uuid.UUID,
    grain: str,
    starts: Sequence[date],
) -> dict[date, tuple[uuid.UUID, datetime, Point]]:
    """Per period start, the point of the latest run started before the period began."""
    r, p = planning_forecast_run, planning_forecast_point
    stmt = (
        select(r.c.id, r.c.started_at, p.c.ds, p.c.mean, p.c.lo80, p.c.hi80, p.c.lo95, p.c.hi95)
        .join(p, p.c.run_id == r.c.id)
        .where(
            r.c.tenant_id == tenant_id,
            r.c.product_id == product_id,
            r.c.site_id == site_id,
            r.c.grain == grain,
            r.c.started_at < _midnight(max(starts)),
            p.c.ds >= min(starts),
            p.c.ds <= max(starts),
        )
    )
    wanted = set(starts)
    out: dict[date, tuple[uuid.UUID, datetime, Point]] = {}
    for row in await conn.execute(stmt):
        if row.ds not in wanted or row.started_at >= _midnight(row.ds):
            continue
        seen = out.get(row.ds)
        if seen is None or (row.started_at, row.id) > (seen[1], seen[0]):
            point = Point(row.ds, row.mean, row.lo80, row.hi80, row.lo95, row.hi95)
            out[row.ds] = (row.id, row.started_at, point)
    return out


async def forecast_value_added(
    conn: AsyncConnection,
    scope: Scope,
    product_id: uuid.UUID,
    site_id: uuid.UUID,
    *,
    start: date,
    end: date,
    grain: str = "day",
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """FVA of the overrides of one series over ``start``..``end`` (see the module docstring)."""
    scope.require("planning")
    if grain not in GRAINS:
        raise Invalid("grain", f"one of {', '.join(GRAINS)}")
    for name, day in (("start", start), ("end", end)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise Invalid(name, f"between {FIRST_DAY} and {LAST_DAY}")
    if end < start:
        raise Invalid("end", "must be on or after start")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise Invalid("end", f"at most {MAX_RANGE_DAYS} days after start")
    await require_series(conn, scope, product_id, site_id)
    tenant_id = scope.require_tenant()
    as_of = as_of or utcnow()
    step = DAYS[grain]
    starts = [p for p in periods(start, end, grain) if p + timedelta(days=step) <= as_of.date()]
    out: dict[str, Any] = {
        "product_id": str(product_id),
        "site_id": str(site_id),
        "grain": grain,
        "start": period_start(start, grain).isoformat(),
        "end": end.isoformat(),
        "as_of": as_of.isoformat(),
    }
    if not starts:
        return {**out, **_summary([], 0)}
    first, last_day = starts[0], starts[-1] + timedelta(days=step - 1)
    actual = dict(
        await demand_series(conn, tenant_id, [product_id], [site_id], grain=grain, start=first, end=last_day)
    )
    made = await _forecasts(conn, tenant_id, product_id, site_id, grain, starts)
    overrides = await series_overrides(conn, tenant_id, product_id, site_id, first, last_day)
    judged: list[tuple[float, uuid.UUID, AdjustedPoint]] = []
    for ds in starts:
        if ds in made:
            run_id, started_at, point = made[ds]
            adjusted = apply_overrides([point], overrides, as_of=started_at, grain=grain)[0]
            judged.append((actual.get(ds, 0.0), run_id, adjusted))
    return {**out, **_summary(judged, len(starts))}


def _summary(judged: Sequence[tuple[float, uuid.UUID, AdjustedPoint]], n: int) -> dict[str, Any]:
    rows = [(a, p.statistical, p.final) for a, _, p in judged]
    overridden = [(a, p) for a, _, p in judged if p.override_ids]
    by_reason: dict[str, dict[str, Any]] = {}
    for code in sorted({c for _, p in overridden for c in p.reason_codes}):
        chosen = [(a, p.statistical, p.final) for a, p in overridden if code in p.reason_codes]
        by_reason[code] = scores(chosen)
    return {
        "counts": {
            "periods": n,
            "with_forecast": len(judged),
            "without_forecast": n - len(judged),
            "overridden": len(overridden),
        },
        **scores(rows),
        "by_reason": by_reason,
        "points": [
            {
                "ds": p.ds.isoformat(),
                "actual": a,
                "statistical": p.statistical,
                "final": p.final,
                "run_id": str(run_id),
                "override_ids": [str(i) for i in p.override_ids],
            }
            for a, run_id, p in judged
        ],
    }
