"""Forecasting throughput: ``series_per_s`` for many daily series on the bulk profile.

The series are synthetic with a fixed seed, two years of days each, a mix a retailer's catalogue
has: weekly-seasonal fast movers, trending ones, and intermittent slow movers (about one day in
four with demand, in sizes of a few units). Every series is forecast 28 days ahead with its 80%
and 95% bands, through ``planning.forecast_many`` exactly as the product calls it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from supplyline import planning
from supplyline.bench.replenish_bench import AppFactory, measure_recommendations

HORIZON, SEASON, SEED = 28, 7, 20261207


def synthetic_series(series: int, days: int, seed: int = SEED) -> dict[str, list[float]]:
    """Two fifths weekly-seasonal, one fifth trending, two fifths intermittent; non-negative."""
    rng = np.random.default_rng(seed)
    t = np.arange(days, dtype=np.float64)
    out: dict[str, list[float]] = {}
    for i in range(series):
        kind = i % 5
        level = rng.uniform(5, 200)
        if kind < 2:
            weekly = 1 + rng.uniform(0.1, 0.5) * np.sin(2 * np.pi * (t + rng.integers(7)) / 7)
            y = rng.poisson(level * weekly).astype(np.float64)
        elif kind == 2:
            y = rng.poisson(level * (1 + rng.uniform(-0.4, 0.8) * t / days)).astype(np.float64)
        else:
            sold = rng.binomial(1, rng.uniform(0.1, 0.4), days) * rng.poisson(rng.uniform(1, 6), days)
            y = sold.astype(np.float64)
        out[f"s{i:05d}"] = y.tolist()
    return out


def measure_series(series: int, days: int, n_jobs: int) -> dict[str, Any]:
    """Seconds to forecast every series with bands, and series per second."""
    data = synthetic_series(series, days)
    started = time.perf_counter()
    results = planning.forecast_many(data, horizon=HORIZON, season=SEASON, profile="bulk", n_jobs=n_jobs)
    seconds = time.perf_counter() - started
    if len(results) != series or any(len(r.bands[95][1]) != HORIZON for r in results.values()):
        raise RuntimeError("a series came back without its forecast or bands")
    models: dict[str, int] = {}
    for r in results.values():
        models[r.model] = models.get(r.model, 0) + 1
    return {
        "series_per_s": round(series / seconds, 1),
        "seconds": round(seconds, 2),
        "series": series,
        "days": days,
        "horizon": HORIZON,
        "n_jobs": n_jobs,
        "models": dict(sorted(models.items())),
    }


async def run_forecast_bench(
    workdir: Path,
    *,
    series: int,
    days: int,
    app: AppFactory,
    requests: int = 2000,
    n_jobs: int | None = None,
) -> dict[str, Any]:
    """The forecasting figures and the recommendations figure (through the API) in one object."""
    jobs = n_jobs if n_jobs is not None else min(2, os.cpu_count() or 1)
    figures = measure_series(series, days, jobs)
    if requests:
        recs = await measure_recommendations(workdir, requests, app=app)
        figures["recommendations_per_s"] = recs.pop("recommendations_per_s")
        figures["recommendations"] = recs
    return figures
