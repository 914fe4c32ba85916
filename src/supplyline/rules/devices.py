"""Devices as the rule evaluator meets them: a dense row each, and each one's newest reading
time per metric, so that a batch works on arrays indexed by row rather than per device."""

from __future__ import annotations

import operator
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
import numpy.typing as npt

from supplyline.telemetry import Columns

I64 = npt.NDArray[np.int64]
_UUID_INT = operator.attrgetter("int")
NONE_YET = np.iinfo(np.int64).min  # no reading of that metric seen yet


@dataclass
class Devices:
    """A tenant's devices as the evaluator met them, each with a row (a small dense number)
    for its life: arrays indexed by row replace per-device lookups in every batch.

    ``newest`` keeps, per metric, the time of each device's newest reading with a value: a
    reading older than that is out of order for the rules on that metric, whether or not their
    state for the device was ever worth keeping.
    """

    row: dict[int, int] = field(default_factory=dict)  # keyed by the UUID's int: cheap hash
    ids: list[uuid.UUID] = field(default_factory=list)
    newest: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)
    # Rows that have (or had) a rule state: a batch looks up states for these devices only.
    stated: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))

    def rows_of(self, devices: Sequence[uuid.UUID]) -> npt.NDArray[np.intp]:
        """Each device's row; a device met for the first time gets the next one."""
        known = self.row
        # map() over C callables: no Python frame per device (this runs for every reading batch)
        rows = np.fromiter(map(known.get, map(_UUID_INT, devices), repeat(-1)), np.intp, len(devices))
        missing = np.flatnonzero(rows < 0)
        if len(missing):
            for i in missing.tolist():
                device = devices[i]
                rows[i] = known.setdefault(device.int, len(self.ids))
                if rows[i] == len(self.ids):
                    self.ids.append(device)
            grow = len(self.ids) - len(self.stated)
            for metric, times in self.newest.items():
                self.newest[metric] = np.r_[times, np.full(grow, NONE_YET)]
            self.stated = np.r_[self.stated, np.zeros(grow, bool)]
        return rows

    def before(self, metric: str, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
        times = self.newest.get(metric)
        return times[rows] if times is not None else np.full(len(rows), NONE_YET)

    def record(self, cols: Columns, rows: npt.NDArray[np.intp], order: I64, bounds: I64) -> None:
        """Move each device's newest reading time on, metric by metric, from a batch."""
        if not len(rows):
            return
        for metric, values in cols.metrics.items():
            times = self.newest.get(metric)
            if times is None:
                times = self.newest[metric] = np.full(len(self.ids), NONE_YET)
            stamped = np.where(np.isnan(values), NONE_YET, cols.ts_ms)[order]
            times[rows] = np.maximum(times[rows], per_device(np.maximum, stamped, bounds, NONE_YET))


def per_device(reduce: np.ufunc, values: I64, bounds: I64, empty: int) -> I64:
    """``reduce`` over each device's readings (sorted by device, ``bounds`` as from
    searchsorted); ``empty`` for a device left without readings (all were duplicates)."""
    starts = bounds[:-1]
    has = starts < bounds[1:]
    out = np.full(len(starts), empty, np.int64)
    if has.any():
        out[has] = reduce.reduceat(values, starts[has])
    return out
