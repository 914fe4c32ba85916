"""Per-batch checks of metric names and plausible ranges, vectorised over columns.

A reading whose metric the device's profile does not know is refused (it would make a series
nothing can read); a value outside the plausible range is stored and flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from supplyline.telemetry.metrics import Metric
from supplyline.telemetry.storage.codec import Columns

Bool = npt.NDArray[np.bool_]


@dataclass
class CheckResult:
    refused: dict[int, str] = field(default_factory=dict)  # row -> reason
    # (row of the first flagged value, metric, value, reason, how many rows flagged) per device+metric
    flags: list[tuple[int, str, float, str, int]] = field(default_factory=list)
    flagged: Bool = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))  # rows with a flag


def check_columns(
    cols: Columns, profile_rows: dict[int, Bool], metric_sets: dict[int, dict[str, Metric]]
) -> CheckResult:
    """``profile_rows[p]`` selects the rows of profile ``p``, whose metrics are ``metric_sets[p]``."""
    result = CheckResult()
    flagged_any = np.zeros(len(cols), dtype=np.bool_)
    for name, values in cols.metrics.items():
        present = ~np.isnan(values)
        for p, rows in profile_rows.items():
            sel = rows & present
            if not sel.any():
                continue
            metric = metric_sets[p].get(name)
            if metric is None:
                for i in np.flatnonzero(sel).tolist():
                    result.refused.setdefault(
                        i, f"unknown metric: '{name}' is neither canonical nor declared by the device profile"
                    )
                continue
            bad, reason = _out_of_range(values, sel, metric)
            if bad is None or not bad.any():
                continue
            flagged_any |= bad
            _aggregate(cols, values, bad, name, reason, result)
    result.flagged = flagged_any
    return result


def _out_of_range(values: npt.NDArray[np.float64], sel: Bool, metric: Metric) -> tuple[Bool | None, str]:
    if metric.kind == "boolean":
        return sel & (values != 0.0) & (values != 1.0), "not a boolean: expected 1 or 0"
    lo = -math.inf if metric.min is None else metric.min
    hi = math.inf if metric.max is None else metric.max
    if lo == -math.inf and hi == math.inf:
        return None, ""
    below, above = sel & (values < lo), sel & (values > hi)
    if below.any() and not above.any():
        return below, f"below the plausible minimum of {lo:g} {metric.unit}"
    if above.any() and not below.any():
        return above, f"above the plausible maximum of {hi:g} {metric.unit}"
    return below | above, f"outside the plausible range {lo:g}..{hi:g} {metric.unit}"


def _aggregate(
    cols: Columns, values: npt.NDArray[np.float64], bad: Bool, name: str, reason: str, result: CheckResult
) -> None:
    rows = np.flatnonzero(bad)
    devices, first, counts = np.unique(cols.device_idx[rows], return_index=True, return_counts=True)
    for _, f, n in zip(devices.tolist(), first.tolist(), counts.tolist(), strict=True):
        row = int(rows[f])
        result.flags.append((row, name, float(values[row]), reason, int(n)))
