"""Forecast runs: a series read, forecast and stored with everything that explains it.

A run records its model and fitted parameters, the library version, the input window and a
fingerprint of its values, why it ran (a schedule, a request, the event that triggered it) and
how long it took, so any number the API shows can be explained and reproduced. The engine is
injected (the composition root chooses it), and the fitting runs in a worker thread: it is CPU
work that must not stall the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.db.keyset import Keyset, page
from supplyline.kernel.clock import utcnow
from supplyline.kernel.pagination import Page
from supplyline.planning.demand_series import demand_series, period_start
from supplyline.planning.forecast_result import LEVELS, ForecastResult
from supplyline.planning.tables import planning_forecast_point, planning_forecast_run


class Forecaster(Protocol):
    """``profile`` is ``accurate`` (a run asked for or triggered by an event: the full model
    search) or ``bulk`` (the schedule over every series: cheaper models)."""

    def __call__(
        self, values: Sequence[float], *, horizon: int, season: int, profile: str = "accurate"
    ) -> ForecastResult: ...


@dataclass(frozen=True)
class Grain:
    """How a grain is forecast: periods ahead, season length, and the window read."""

    name: str
    horizon: int
    season: int
    window_days: int

    @property
    def step(self) -> timedelta:
        return timedelta(days=1 if self.name == "day" else 7)


GRAINS = {
    "day": Grain("day", horizon=28, season=7, window_days=730),
    "week": Grain("week", horizon=13, season=52, window_days=728),
}


@dataclass(frozen=True)
class SeriesInput:
    """The window a run reads: complete periods up to the day before ``as_of``, leading zeros
    (before the product's first demand there) dropped."""

    start: date | None
    end: date | None
    values: tuple[float, ...]

    @property
    def fingerprint(self) -> str:
        h = hashlib.sha256(f"{self.start}|{self.end}|".encode())
        h.update(struct.pack(f"<{len(self.values)}d", *self.values))
        return h.hexdigest()


async def read_input(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    product_id: uuid.UUID,
    site_id: uuid.UUID,
    grain: Grain,
    as_of: date,
) -> SeriesInput:
    # The period holding as_of is not complete yet: the window ends at the one before it.
    end = period_start(as_of, grain.name) - timedelta(days=1)
    start = end - timedelta(days=grain.window_days - 1)
    series = await demand_series(
        conn, tenant_id, [product_id], [site_id], grain=grain.name, start=start, end=end
    )
    first = next((i for i, (_, q) in enumerate(series) if q != 0), None)
    if first is None:
        return SeriesInput(None, None, ())
    kept = series[first:]
    return SeriesInput(kept[0][0], kept[-1][0], tuple(q for _, q in kept))


@dataclass(frozen=True)
class Trigger:
    """Why a run happened: ``schedule``, ``request`` or an event type, and by whom."""

    kind: str
    actor: str
    event_id: uuid.UUID | None = None


async def compute(
    engine: Forecaster, series: SeriesInput, grain: Grain, profile: str = "accurate"
) -> tuple[ForecastResult, float]:
    """The engine's forecast of the input, off the event loop, and the milliseconds it took."""
    started = time.perf_counter()
    result = await asyncio.to_thread(
        engine, list(series.values), horizon=grain.horizon, season=grain.season, profile=profile
    )
    return result, (time.perf_counter() - started) * 1000


async def store_run(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    product_id: uuid.UUID,
    site_id: uuid.UUID,
    grain: Grain,
    series: SeriesInput,
    result: ForecastResult,
    *,
    trigger: Trigger,
    duration_ms: float,
    started_at: datetime | None = None,
    as_of: date,
    profile: str = "accurate",
) -> uuid.UUID:
    """Write the run and its points; the points start at the period after the input."""
    run_id = uuid.uuid4()
    await conn.execute(
        planning_forecast_run.insert().values(
            id=run_id,
            tenant_id=tenant_id,
            product_id=product_id,
            site_id=site_id,
            grain=grain.name,
            horizon=grain.horizon,
            season=grain.season,
            demand_class=result.demand_class,
            adi=_finite(result.adi),
            cv2=_finite(result.cv2),
            model=result.model,
            params=_jsonable(result.params),
            library=result.library,
            band_method=result.band_method,
            backtest=_jsonable({**result.backtest, "profile": result.backtest.get("profile", profile)}),
            input_start=series.start,
            input_end=series.end,
            input_points=len(series.values),
            input_fingerprint=series.fingerprint,
            trigger=trigger.kind,
            trigger_event_id=trigger.event_id,
            created_by=trigger.actor,
            started_at=started_at or utcnow(),
            duration_ms=duration_ms,
        )
    )
    first = period_start(as_of, grain.name)
    lo80, hi80 = result.bands[80]
    lo95, hi95 = result.bands[95]
    rows = [
        {
            "run_id": run_id,
            "ds": first + i * grain.step,
            "mean": float(result.mean[i]),
            "lo80": float(lo80[i]),
            "hi80": float(hi80[i]),
            "lo95": float(lo95[i]),
            "hi95": float(hi95[i]),
        }
        for i in range(len(result.mean))
    ]
    if rows:
        await conn.execute(planning_forecast_point.insert(), rows)
    return run_id


async def reusable(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    product_id: uuid.UUID,
    site_id: uuid.UUID,
    grain: Grain,
    series: SeriesInput,
    profile: str = "accurate",
) -> ForecastResult | None:
    """The forecast of the newest run of the series made from the very same input (same window,
    same values: same fingerprint) on the same profile, rebuilt from what it stored: the engine
    is deterministic, so fitting again would give the same numbers. A hold or a release leaves
    demand as it was; its re-forecast then records the trigger without refitting
    (``backtest.reused_from`` names the run)."""
    r = planning_forecast_run
    stmt = (
        select(r)
        .where(
            r.c.tenant_id == tenant_id,
            r.c.product_id == product_id,
            r.c.site_id == site_id,
            r.c.grain == grain.name,
            r.c.horizon == grain.horizon,
            r.c.season == grain.season,
            r.c.input_fingerprint == series.fingerprint,
        )
        .order_by(r.c.started_at.desc(), r.c.id.desc())
        .limit(1)
    )
    run = (await conn.execute(stmt)).mappings().first()
    if run is None or (run["backtest"] or {}).get("profile") != profile:
        return None
    points = await _points(conn, run["id"])
    if len(points) != grain.horizon:
        return None
    col = {k: tuple(float(pt[k]) for pt in points) for k in ("mean", "lo80", "hi80", "lo95", "hi95")}
    backtest = {k: v for k, v in (run["backtest"] or {}).items() if k != "reused_from"}
    return ForecastResult(
        model=run["model"],
        params=dict(run["params"] or {}),
        demand_class=run["demand_class"],
        adi=run["adi"],
        cv2=run["cv2"],
        mean=col["mean"],
        bands={80: (col["lo80"], col["hi80"]), 95: (col["lo95"], col["hi95"])},
        band_method=run["band_method"],
        library=run["library"],
        backtest={**backtest, "reused_from": str(run["id"])},
    )


async def run_exists(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    product_id: uuid.UUID,
    site_id: uuid.UUID,
    event_id: uuid.UUID,
) -> bool:
    """Whether an event already triggered a run of the series (a replay runs nothing twice)."""
    r = planning_forecast_run
    stmt = select(r.c.id).where(
        r.c.tenant_id == tenant_id,
        r.c.product_id == product_id,
        r.c.site_id == site_id,
        r.c.trigger_event_id == event_id,
    )
    return (await conn.execute(stmt.limit(1))).first() is not None


async def latest_run(
    conn: AsyncConnection, tenant_id: uuid.UUID, product_id: uuid.UUID, site_id: uuid.UUID, grain: str
) -> dict[str, Any] | None:
    """The newest run of the series with its points, as the API shows it."""
    r = planning_forecast_run
    stmt = (
        select(r)
        .where(
            r.c.tenant_id == tenant_id,
            r.c.product_id == product_id,
            r.c.site_id == site_id,
            r.c.grain == grain,
        )
        .order_by(r.c.started_at.desc(), r.c.id.desc())
        .limit(1)
    )
    run = (await conn.execute(stmt)).mappings().first()
    if run is None:
        return None
    points = await _points(conn, run["id"])
    return {"run": run_view(run), "points": [point_view(pt) for pt in points]}


async def run_history(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    product_id: uuid.UUID,
    site_id: uuid.UUID,
    grain: str,
    *,
    trigger: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[dict[str, Any]]:
    """The series' runs, newest first, without their points: which event made each and how.
    A run that an event triggers may be followed by others (a spike, the schedule) before
    anyone looks, so the newest alone cannot say whether a hold was planned with."""
    r = planning_forecast_run
    stmt = select(r).where(
        r.c.tenant_id == tenant_id,
        r.c.product_id == product_id,
        r.c.site_id == site_id,
        r.c.grain == grain,
    )
    if trigger is not None:
        stmt = stmt.where(r.c.trigger == trigger)
    keyset = Keyset("forecast-runs", (r.c.started_at, r.c.id), descending=True)
    found = await page(conn, stmt, keyset, cursor, limit)
    return Page([run_view(row) for row in found.items], found.next_cursor)


async def _points(conn: AsyncConnection, run_id: uuid.UUID) -> Sequence[Any]:
    """A run's points in period order."""
    p = planning_forecast_point
    return (await conn.execute(select(p).where(p.c.run_id == run_id).order_by(p.c.ds))).mappings().all()


def run_view(run: Any) -> dict[str, Any]:
    return {
        "id": str(run["id"]),
        "grain": run["grain"],
        "horizon": run["horizon"],
        "season": run["season"],
        "demand_class": run["demand_class"],
        "adi": run["adi"],
        "cv2": run["cv2"],
        "model": run["model"],
        "params": run["params"],
        "library": run["library"],
        "band_method": run["band_method"],
        "levels": list(LEVELS),
        "backtest": run["backtest"],
        "input": {
            "start": run["input_start"].isoformat() if run["input_start"] else None,
            "end": run["input_end"].isoformat() if run["input_end"] else None,
            "points": run["input_points"],
            "fingerprint": run["input_fingerprint"],
        },
        "trigger": run["trigger"],
        "trigger_event_id": str(run["trigger_event_id"]) if run["trigger_event_id"] else None,
        "created_by": run["created_by"],
        "started_at": run["started_at"].isoformat(),
        "duration_ms": round(float(run["duration_ms"]), 3),
    }


def point_view(pt: Any) -> dict[str, Any]:
    return {
        k: (pt[k].isoformat() if k == "ds" else float(pt[k]))
        for k in ("ds", "mean", "lo80", "hi80", "lo95", "hi95")
    }


def _finite(x: float | None) -> float | None:
    return None if x is None or x != x or x in (float("inf"), float("-inf")) else float(x)


def _jsonable(value: Any) -> Any:
    """Fitted parameters as JSON both backends store: numpy scalars and arrays to floats and
    lists, NaN and infinities to None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return _finite(float(value)) if isinstance(value, float) else value
    return str(value)
