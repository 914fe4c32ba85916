"""Forecasting one series or many: candidates by demand class, a rolling-origin backtest picks
one, and conformal 80% and 95% bands come from that backtest's errors.

The backtest cuts the last ``windows x horizon`` periods into windows of one horizon each; every
candidate is fitted on what came before each window and scored by MASE (the window's MAE over
the training part's seasonal naive MAE). The lowest mean MASE wins (the first listed on a tie).
Its errors, divided by a per-step scale that may only grow with the step, give one pooled
conformal quantile per level; the band at step ``i`` is that quantile times step ``i``'s scale.
The models' own intervals are not used: on the acceptance series they missed their coverage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np

from supplyline.kernel.errors import Invalid
from supplyline.planning import forecast_models as fm
from supplyline.planning.demand_class import Floats, classify, isotonic, mase, naive_scale, obsolete
from supplyline.planning.forecast_result import LEVELS, ForecastResult

# A candidate is trained on at least two seasons (ten periods for short seasons) before a window.
MIN_TRAIN_SEASONS, MIN_TRAIN = 2, 10


def forecast(
    values: Sequence[float] | Floats, *, horizon: int, season: int, profile: str = "accurate"
) -> ForecastResult:
    """Forecast ``horizon`` periods after ``values`` (one per period, oldest first) with bands at
    every level in ``LEVELS``. Deterministic; short or all-zero histories get the naive or the
    zero forecast rather than an error."""
    y = _checked(values, horizon, season, profile)
    # Magnitudes near the float limits overflow inside the models and the scores; such a result
    # is replaced below, so numpy's warnings about it are noise (and errors under pytest).
    with np.errstate(all="ignore"):
        result = _forecast(y, horizon, season, profile)
        if _finite(result):
            return result
        demand_class, adi, cv2 = classify(y)
        naive = _naive(y, horizon, demand_class, adi, cv2, bool(np.min(y) >= 0))
    if _finite(naive):
        return naive
    return _flat(float(y[-1]), "naive", demand_class, horizon, {"adi": adi, "cv2": cv2})


def _finite(r: ForecastResult) -> bool:
    sides = [side for band in r.bands.values() for side in band]
    return bool(np.all(np.isfinite(r.mean)) and np.all(np.isfinite(sides)))


def _forecast(y: Floats, horizon: int, season: int, profile: str) -> ForecastResult:
    demand_class, adi, cv2 = classify(y)
    nonneg = bool(y.size == 0 or np.min(y) >= 0)
    if demand_class == "none":
        return _flat(0.0, "zero", demand_class, horizon, {})
    if obsolete(y, season):
        return _flat(0.0, "obsolete", demand_class, horizon, {"adi": adi, "cv2": cv2})
    origins = _origins(y.size, horizon, season, fm.WINDOWS[profile])
    candidates = fm.CANDIDATES[profile][demand_class]
    if not origins:
        return _naive(y, horizon, demand_class, adi, cv2, nonneg)
    scores: dict[str, float] = {}
    errors: dict[str, Floats] = {}
    for c in candidates:
        score, err = _score(c, y, origins, horizon, season)
        scores[c.name] = score
        if err is not None:
            errors[c.name] = err
    ranked = [c for c in candidates if c.name in errors]
    if not ranked:
        return _naive(y, horizon, demand_class, adi, cv2, nonneg)
    best = min(ranked, key=lambda c: scores[c.name])
    fitted = fm.fit(best, y, horizon, season)
    if fitted is None:
        return _naive(y, horizon, demand_class, adi, cv2, nonneg)
    mean, model = fitted
    return ForecastResult(
        model=best.name,
        params=fm.params_of(model),
        demand_class=demand_class,
        adi=adi,
        cv2=cv2,
        mean=_tuple(np.maximum(mean, 0.0) if nonneg else mean),
        bands=_bands(mean, errors[best.name], nonneg),
        band_method="conformal",
        library=fm.LIBRARY,
        backtest={
            "chosen": best.name,
            "mase": {k: (v if math.isfinite(v) else None) for k, v in scores.items()},
            "windows": [{"origin": o, "horizon": horizon} for o in origins],
            "profile": profile,
        },
    )


def forecast_many(
    series: Mapping[str, Sequence[float]],
    *,
    horizon: int,
    season: int,
    profile: str = "bulk",
    n_jobs: int = 1,
) -> dict[str, ForecastResult]:
    """``forecast`` of every series on ``profile``; with ``n_jobs`` > 1 in that many processes
    (the results are the same: each series is forecast on its own)."""
    keys = list(series)
    # Checked before any work (and never in a worker): an error names the series.
    arrays = {k: _checked(series[k], horizon, season, profile, name=k) for k in keys}
    if n_jobs <= 1 or len(keys) < 2 * n_jobs:
        return {k: forecast(arrays[k], horizon=horizon, season=season, profile=profile) for k in keys}
    chunk = math.ceil(len(keys) / (n_jobs * 8))
    parts = [[(k, arrays[k]) for k in keys[i : i + chunk]] for i in range(0, len(keys), chunk)]
    out: dict[str, ForecastResult] = {}
    same = [horizon] * len(parts), [season] * len(parts), [profile] * len(parts)
    fm.models_module()  # imported once here, so that forked workers start with it
    with ProcessPoolExecutor(max_workers=n_jobs) as pool:
        for done in pool.map(_chunk, parts, *same):
            out.update(done)
    return {k: out[k] for k in keys}


def _chunk(
    part: list[tuple[str, Floats]], horizon: int, season: int, profile: str
) -> dict[str, ForecastResult]:
    return {k: forecast(v, horizon=horizon, season=season, profile=profile) for k, v in part}


def _checked(
    values: Sequence[float] | Floats, horizon: int, season: int, profile: str, *, name: str = "values"
) -> Floats:
    if profile not in fm.PROFILES:
        raise Invalid("profile", f"must be one of {', '.join(fm.PROFILES)}")
    if horizon < 1:
        raise Invalid("horizon", "must be at least 1")
    if season < 1:
        raise Invalid("season", "must be at least 1 (1: no season)")
    try:
        y = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise Invalid(name, "must be numbers") from None
    if not np.all(np.isfinite(y)):
        raise Invalid(name, "must be finite numbers (no NaN or infinity)")
    return y


def min_train(season: int) -> int:
    """The fewest periods a candidate is trained on before a backtest window."""
    return max(MIN_TRAIN, MIN_TRAIN_SEASONS * season)


def _origins(n: int, horizon: int, season: int, windows: int) -> list[int]:
    """Window starts, oldest first, each window one horizon long and the last ending at ``n``."""
    least = min_train(season)
    fit = min(windows, (n - least) // horizon) if n > least else 0
    return [n - k * horizon for k in range(fit, 0, -1)]


def _score(
    c: fm.Candidate, y: Floats, origins: list[int], horizon: int, season: int
) -> tuple[float, Floats | None]:
    """Mean MASE over the windows and the errors (windows x steps), or inf and None."""
    scores, errs = [], []
    for o in origins:
        train, actual = y[:o], y[o : o + horizon]
        predicted = fm.run(c, train, horizon, season)
        if predicted is None:
            return math.inf, None
        scores.append(mase(actual, predicted, naive_scale(train, season)))
        errs.append(actual - predicted)
    return float(np.mean(scores)), np.asarray(errs)


def _bands(
    mean: Floats, errors: Floats, nonneg: bool
) -> dict[int, tuple[tuple[float, ...], tuple[float, ...]]]:
    """Normalised split-conformal bands: |error| / scale(step) pooled over windows and steps."""
    abs_err = np.abs(errors)
    scale = isotonic(abs_err.mean(axis=0))
    overall = float(abs_err.mean())
    if overall == 0:
        width = {level: np.zeros_like(mean) for level in LEVELS}
    else:
        scale = np.maximum(scale, overall * 1e-3)
        scores = np.sort((abs_err / scale).ravel())
        width = {level: _rank(scores, level) * scale for level in LEVELS}
    return {level: _band(mean, width[level], nonneg) for level in LEVELS}


def _rank(sorted_scores: Floats, level: int) -> float:
    """The conformal quantile: the ceil((n+1)·level)-th smallest score (the largest at most)."""
    n = sorted_scores.size
    k = min(n, math.ceil((n + 1) * level / 100))
    return float(sorted_scores[k - 1])


def _band(mean: Floats, width: Floats, nonneg: bool) -> tuple[tuple[float, ...], tuple[float, ...]]:
    lo, hi = mean - width, mean + width
    if nonneg:
        lo, hi = np.maximum(lo, 0.0), np.maximum(hi, 0.0)
    return _tuple(lo), _tuple(hi)


def _naive(
    y: Floats, horizon: int, demand_class: str, adi: float | None, cv2: float | None, nonneg: bool
) -> ForecastResult:
    """Too short to backtest: the last value, with bands from the one-step changes seen, widened
    as a random walk's (with the square root of the step)."""
    mean = np.full(horizon, float(y[-1]))
    if y.size < 3:
        return _flat(float(y[-1]), "naive", demand_class, horizon, {"adi": adi, "cv2": cv2})
    steps = np.sqrt(np.arange(1, horizon + 1, dtype=np.float64))
    errors = np.diff(y)[:, None] * steps[None, :]
    result = _flat(float(y[-1]), "naive", demand_class, horizon, {"adi": adi, "cv2": cv2})
    return replace(result, bands=_bands(mean, errors, nonneg), band_method="conformal")


def _flat(value: float, model: str, demand_class: str, horizon: int, extra: dict[str, Any]) -> ForecastResult:
    """A constant forecast with zero-width bands: nothing in the history says how wide."""
    mean = _tuple(np.full(horizon, value))
    return ForecastResult(
        model=model,
        params={},
        demand_class=demand_class,
        adi=extra.get("adi"),
        cv2=extra.get("cv2"),
        mean=mean,
        bands={level: (mean, mean) for level in LEVELS},
        band_method="none",
        library=fm.LIBRARY,
        backtest={},
    )


def _tuple(a: Floats) -> tuple[float, ...]:
    return tuple(float(v) for v in a)
