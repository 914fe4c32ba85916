"""The candidate models per profile and demand class, and the one way a model is run.

``accurate`` searches model forms (AutoETS, AutoTheta, AutoARIMA; the whole Croston family) for
one series a planner looks at; ``bulk`` keeps to models that fit in well under a millisecond, so
that ten thousand daily series are forecast in seconds. A new candidate is one entry here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import numpy as np

from supplyline.planning.demand_class import Floats

LIBRARY = f"statsforecast {version('statsforecast')}"
PROFILES = ("accurate", "bulk")
# Windows of the rolling-origin backtest by profile: enough scored points to rank the candidates
# and to calibrate two band levels, within each profile's time.
WINDOWS = {"accurate": 4, "bulk": 2}
# Model state larger than this (fitted values, residuals, states) is not a parameter.
_MAX_PARAM_ARRAY = 24


def models_module() -> Any:
    """``statsforecast.models``, imported on first use: the import takes about two seconds
    (pandas, scipy, statsmodels), which every command and the API would otherwise pay at start."""
    import statsforecast.models

    return statsforecast.models


@dataclass(frozen=True)
class Candidate:
    """A named model builder; ``build(season)`` gives a fresh, unfitted statsforecast model."""

    name: str
    build: Callable[[int], Any]


def _arima(season: int) -> Any:
    # The stepwise search with the approximation and small orders: about 0.3 s on 250 monthly
    # points against 2 s for the full search, with forecasts within 1% on elec_equip and wineind.
    return models_module().AutoARIMA(
        season_length=season, approximation=True, max_p=2, max_q=2, max_P=1, max_Q=1, nmodels=30
    )


_SMOOTH_ACCURATE = (
    Candidate("AutoETS", lambda m: models_module().AutoETS(season_length=m)),
    Candidate("AutoTheta", lambda m: models_module().AutoTheta(season_length=m)),
    Candidate("AutoARIMA", _arima),
)
_INTERMITTENT_ACCURATE = (
    Candidate("CrostonClassic", lambda m: models_module().CrostonClassic()),
    Candidate("CrostonOptimized", lambda m: models_module().CrostonOptimized()),
    Candidate("CrostonSBA", lambda m: models_module().CrostonSBA()),
    Candidate("ADIDA", lambda m: models_module().ADIDA()),
    Candidate("IMAPA", lambda m: models_module().IMAPA()),
    Candidate("TSB", lambda m: models_module().TSB(alpha_d=0.1, alpha_p=0.1)),
    # A faster probability update lets the forecast fall after a run of zeros (TSB's point:
    # obsolescence); on the PBS series these won 10 of 12 windows and cut MASE 0.377 -> 0.344.
    Candidate("TSB(0.1,0.3)", lambda m: models_module().TSB(alpha_d=0.1, alpha_p=0.3)),
    Candidate("TSB(0.2,0.5)", lambda m: models_module().TSB(alpha_d=0.2, alpha_p=0.5)),
)
_SMOOTH_BULK = (
    Candidate(
        "SeasonalESOptimized",
        lambda m: models_module().SeasonalExponentialSmoothingOptimized(season_length=m),
    ),
    Candidate(
        "SeasonalWindowAverage",
        lambda m: models_module().SeasonalWindowAverage(season_length=m, window_size=4),
    ),
)
_INTERMITTENT_BULK = (
    Candidate("CrostonSBA", lambda m: models_module().CrostonSBA()),
    Candidate("IMAPA", lambda m: models_module().IMAPA()),
    Candidate("TSB", lambda m: models_module().TSB(alpha_d=0.1, alpha_p=0.1)),
)
CANDIDATES: dict[str, dict[str, tuple[Candidate, ...]]] = {
    "accurate": {
        "smooth": _SMOOTH_ACCURATE,
        "erratic": _SMOOTH_ACCURATE,
        "intermittent": _INTERMITTENT_ACCURATE,
        "lumpy": _INTERMITTENT_ACCURATE,
    },
    "bulk": {
        "smooth": _SMOOTH_BULK,
        "erratic": _SMOOTH_BULK,
        "intermittent": _INTERMITTENT_BULK,
        "lumpy": _INTERMITTENT_BULK,
    },
}


def run(candidate: Candidate, train: Floats, horizon: int, season: int) -> Floats | None:
    """The candidate's point forecast, or None where it cannot fit this history (too short for
    its season, say) or gives a non-finite value: a candidate that fails is not chosen. Uses the
    library's ``forecast`` (no fitted state kept), the fast path the backtest windows need."""
    model = candidate.build(season)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            mean = np.asarray(model.forecast(y=train, h=horizon)["mean"], dtype=np.float64)
    except Exception:  # the library raises many kinds on a history it cannot fit
        return None
    return mean if mean.shape == (horizon,) and np.all(np.isfinite(mean)) else None


def fit(candidate: Candidate, train: Floats, horizon: int, season: int) -> tuple[Floats, Any] | None:
    """``(mean, fitted model)``; None as for ``run``. Library warnings (convergence notes) are
    silenced here: the backtest, not the optimiser's message, judges a fit."""
    model = candidate.build(season)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            model.fit(y=train)
            mean = np.asarray(model.predict(h=horizon)["mean"], dtype=np.float64)
    except Exception:  # the library raises many kinds on a history it cannot fit
        return None
    if mean.shape != (horizon,) or not np.all(np.isfinite(mean)):
        return None
    return mean, model


def params_of(model: Any) -> dict[str, Any]:
    """The fitted model's parameters as JSON: scalars, short arrays and small mappings of its
    ``model_`` state (coefficients, smoothing weights, the chosen ETS or ARIMA form)."""
    state = getattr(model, "model_", None)
    out: dict[str, Any] = {}
    if isinstance(state, dict):
        for key, value in state.items():
            clean = _jsonable(value)
            if clean is not _SKIP:
                out[str(key)] = clean
    for attr in ("season_length", "alpha_d", "alpha_p", "window_size"):
        if hasattr(model, attr) and attr not in out:
            out[attr] = _jsonable(getattr(model, attr))
    return out


_SKIP = object()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if np.isfinite(f) else None
    if isinstance(value, dict):
        items = {str(k): _jsonable(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not _SKIP} if len(items) <= _MAX_PARAM_ARRAY else _SKIP
    if isinstance(value, list | tuple | np.ndarray):
        flat = np.asarray(value, dtype=object).ravel()
        if flat.size > _MAX_PARAM_ARRAY:
            return _SKIP
        cleaned = [_jsonable(v) for v in flat.tolist()]
        return _SKIP if any(v is _SKIP for v in cleaned) else cleaned
    return _SKIP
