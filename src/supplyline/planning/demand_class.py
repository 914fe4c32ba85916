"""Demand classification (Syntetos-Boylan) and the scaled error the backtests rank models by.

A series is classed by how often demand occurs (ADI, the mean interval between periods with
demand) and how much its sizes vary (CV², the squared coefficient of variation of the non-zero
sizes). Smooth and erratic demand suit level/trend/season models; intermittent and lumpy
demand suit the Croston family, which forecasts size and interval apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

# Syntetos, Boylan & Croston (2005): the cut-offs where Croston/SBA starts to beat exponential
# smoothing on squared error.
ADI_CUT = 1.32
CV2_CUT = 0.49
CV2_MAX = 1e12
# A trailing run of zeros more than this many times the longest earlier gap means obsolete.
OBSOLETE_GAP_FACTOR = 2
DEMAND_CLASSES = ("smooth", "erratic", "intermittent", "lumpy", "none")

Floats = npt.NDArray[np.float64]


def classify(values: Sequence[float] | Floats) -> tuple[str, float | None, float | None]:
    """``(demand_class, adi, cv2)``; a series without any demand is ``("none", None, None)``."""
    y = np.asarray(values, dtype=np.float64)
    sizes = y[y != 0]
    if sizes.size == 0:
        return "none", None, None
    adi = float(y.size / sizes.size)
    # On sizes scaled to at most 1 in magnitude: the same ratio, without the overflow (or
    # underflow) of squaring sizes near the float limits.
    z = sizes / np.max(np.abs(sizes))
    mean = float(np.mean(z))
    # Sizes that cancel out (returns as large as sales) vary without limit: capped to stay JSON.
    cv2 = min(float(np.var(z)) / (mean * mean), CV2_MAX) if mean != 0 else CV2_MAX
    frequent, steady = adi < ADI_CUT, cv2 < CV2_CUT
    if frequent:
        return ("smooth" if steady else "erratic"), adi, cv2
    return ("intermittent" if steady else "lumpy"), adi, cv2


def obsolete(values: Sequence[float] | Floats, season: int, *, gap_factor: int = OBSOLETE_GAP_FACTOR) -> bool:
    """Whether demand has stopped: the trailing run of zeros is longer than a season and than
    ``gap_factor`` times the longest gap between two earlier demands. Such a run is no longer
    the series' own intermittency, and every model that carries a level forecasts stock for a
    product nobody buys (Teunter, Syntetos & Babai 2011 on obsolescence)."""
    y = np.asarray(values, dtype=np.float64)
    demands = np.flatnonzero(y)
    if demands.size < 2:  # one demand says nothing about the gaps to expect
        return False
    trailing = y.size - 1 - int(demands[-1])
    longest = int(np.max(np.diff(demands))) - 1
    return trailing > max(season, gap_factor * longest)


def naive_scale(train: Floats, season: int) -> float:
    """The in-sample MAE of the seasonal naive forecast, the MASE denominator; the naive one
    where the training part is shorter than a season or seasonally flat, 1 where both are 0
    (a constant history: any error is then counted in the series' own units)."""
    for lag in (season, 1):
        if 1 <= lag < train.size:
            mae = float(np.mean(np.abs(train[lag:] - train[:-lag])))
            if mae > 0:
                return mae
    return 1.0


def mase(actual: Floats, predicted: Floats, scale: float) -> float:
    """Mean absolute error of one window over the training part's naive scale."""
    return float(np.mean(np.abs(actual - predicted)) / scale)


def seasonal_naive(train: Floats, horizon: int, season: int) -> Floats:
    """The last season repeated (the last value where the history is shorter than a season)."""
    if season < 1 or train.size < season:
        return np.full(horizon, train[-1] if train.size else 0.0)
    last = train[-season:]
    return np.asarray(np.resize(last, horizon), dtype=np.float64)


def isotonic(values: Floats) -> Floats:
    """The closest non-decreasing sequence (pool adjacent violators): error that grows with the
    horizon step, without the noise of a few windows making a later step narrower."""
    blocks: list[list[float]] = []  # [mean, weight]
    for v in values.tolist():
        blocks.append([v, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2 = blocks.pop()
            m1, w1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2])
    out: list[float] = []
    for mean, weight in blocks:
        out += [mean] * int(weight)
    return np.asarray(out, dtype=np.float64)
