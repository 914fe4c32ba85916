"""The seasonal naive forecast with empirical bands: the benchmark every model must beat, and
the answer for a series too short to fit one."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from supplyline.planning.forecast_result import LEVELS, ForecastResult


def seasonal_naive(values: Sequence[float], *, horizon: int, season: int) -> ForecastResult:
    """Each period repeats the one a season before (the last value when the series is shorter
    than a season). Bands: quantiles of the in-sample errors of the same rule, widened by the
    square root of the seasons ahead; none (zero width) when there are no errors to learn from."""
    y = np.asarray(values, dtype=float)
    m = season if 0 < season <= len(y) else 1
    steps = np.arange(horizon)
    if len(y) == 0:
        mean = np.zeros(horizon)
    else:
        mean = y[len(y) - m + steps % m] if m > 1 else np.full(horizon, y[-1])
    errors = np.abs(y[m:] - y[:-m]) if len(y) > m else np.zeros(0)
    widen = np.sqrt(steps // m + 1)
    bands: dict[int, tuple[tuple[float, ...], tuple[float, ...]]] = {}
    for level in LEVELS:
        q = float(np.quantile(errors, level / 100)) if len(errors) else 0.0
        lo = np.maximum(mean - q * widen, 0.0)
        bands[level] = (tuple(lo.tolist()), tuple((mean + q * widen).tolist()))
    return ForecastResult(
        model="SeasonalNaive" if m > 1 else "Naive",
        params={"season_length": m},
        demand_class="unknown",
        adi=None,
        cv2=None,
        mean=tuple(float(v) for v in mean),
        bands=bands,
        band_method="empirical",
        library="supplyline",
        backtest={},
    )
