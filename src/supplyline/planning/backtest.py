"""Rolling-origin evaluation of the engine against the naive benchmarks, as a planner (or the
acceptance tests) would check it: each window is forecast from what came before it only.

Per series it reports MASE of ``forecast`` beside the seasonal naive and naive forecasts over
the same windows, and how many held-out points fell inside each band. The windows are the last
ones by default; ``spread`` spaces them evenly over the series' life (the last one included),
so that a series whose end is a single regime (a product dying out) is judged on all of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from supplyline.kernel.errors import Invalid
from supplyline.planning.demand_class import mase, naive_scale, seasonal_naive
from supplyline.planning.forecast_models import WINDOWS
from supplyline.planning.forecast_result import LEVELS
from supplyline.planning.forecasting import forecast, min_train


@dataclass(frozen=True)
class SeriesBacktest:
    """Mean MASE per method over the windows, and the points inside each band out of ``points``."""

    windows: int
    points: int
    mase: dict[str, float]  # ours | seasonal_naive | naive
    inside: dict[int, int]
    models: dict[str, int] = field(default_factory=dict)  # model chosen -> windows

    @property
    def coverage(self) -> dict[int, float]:
        return {level: self.inside[level] / self.points for level in LEVELS}

    def as_dict(self) -> dict[str, Any]:
        return {
            "windows": self.windows,
            "points": self.points,
            "mase": self.mase,
            "coverage": {str(k): v for k, v in self.coverage.items()},
            "models": self.models,
        }


def backtest_series(
    values: Sequence[float],
    *,
    horizon: int,
    season: int,
    windows: int = 8,
    profile: str = "accurate",
    spread: bool = False,
) -> SeriesBacktest:
    """Forecast each of ``windows`` horizons from the history before it and score it: the last
    ones, or with ``spread`` ones evenly spaced back from the end."""
    y = np.asarray(values, dtype=np.float64)
    if windows < 1:
        raise Invalid("windows", "must be at least 1")
    if horizon < 1:
        raise Invalid("horizon", "must be at least 1")
    if y.size < windows * horizon + 2:
        raise Invalid("values", f"need more than {windows * horizon + 1} periods for {windows} windows")
    scores: dict[str, list[float]] = {"ours": [], "seasonal_naive": [], "naive": []}
    inside = dict.fromkeys(LEVELS, 0)
    models: Counter[str] = Counter()
    for origin in _origins(y.size, horizon, season, windows, profile, spread):
        train, actual = y[:origin], y[origin : origin + horizon]
        result = forecast(train, horizon=horizon, season=season, profile=profile)
        models[result.model] += 1
        scale = naive_scale(train, season)
        scores["ours"].append(mase(actual, np.asarray(result.mean), scale))
        scores["seasonal_naive"].append(mase(actual, seasonal_naive(train, horizon, season), scale))
        scores["naive"].append(mase(actual, np.full(horizon, train[-1]), scale))
        for level in LEVELS:
            lo, hi = (np.asarray(b) for b in result.bands[level])
            inside[level] += int(np.sum((actual >= lo - 1e-9) & (actual <= hi + 1e-9)))
    return SeriesBacktest(
        windows=windows,
        points=windows * horizon,
        mase={name: float(np.mean(v)) for name, v in scores.items()},
        inside=inside,
        models=dict(sorted(models.items())),
    )


def _origins(n: int, horizon: int, season: int, windows: int, profile: str, spread: bool) -> list[int]:
    """Window starts, oldest first. Spread windows start no earlier than the engine can run its
    own full backtest (its training minimum plus its windows), so every window is forecast as
    in production; they are one step apart, never overlapping, the last ending at ``n``."""
    if not spread:
        return [n - k * horizon for k in range(windows, 0, -1)]
    first = min_train(season) + WINDOWS[profile] * horizon
    step = (n - horizon - first) // (windows - 1) if windows > 1 else horizon
    if step < horizon:
        need = first + windows * horizon
        raise Invalid("windows", f"{windows} spread windows of {horizon} need {need} periods")
    return [n - horizon - k * step for k in range(windows - 1, -1, -1)]
