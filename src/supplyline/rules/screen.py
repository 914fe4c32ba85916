"""The vectorised candidate screen: which (rule, device) pairs of a batch could change state,
worked out for every reading at once so that only those are stepped exactly.

For each rule code, every device of the batch has the index of the rule that applies to it
(the most specific scope wins, ``rules.context``). Kinds stepped one by one (rate of change,
geofence, heartbeat, all/any) take every device they apply to. Comparisons (threshold,
hysteresis, duration, cumulative) can change only for a device with a value beyond a limit,
or whose state is not the default: each reading is first held against its device's envelope
(the tightest limits of its winning comparisons, per metric), and the few outside it, with the
devices that have a state, are screened per (reading, code) against each code's winning rule.
The screen is conservative: when unsure, a pair is stepped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from supplyline.rules.compiled import CUMULATIVE, DURATION, HYSTERESIS, OTHER, THRESHOLD, RuleSet
from supplyline.rules.devices import NONE_YET, Devices
from supplyline.rules.engine import State
from supplyline.rules.state import RuleStates
from supplyline.telemetry import Columns

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Batch:
    """One tenant's readings of a group commit, as the screen and the stepping read them."""

    cols: Columns
    applies: npt.NDArray[np.int32]  # (batch device, code) -> winning rule index, -1: none
    rows: npt.NDArray[np.intp]  # batch device -> its row in ``Devices``
    order: I64  # the readings sorted by batch device ...
    bounds: I64  # ... and each device's slice of them (searchsorted)
    oldest: I64  # per batch device: its oldest reading of the batch
    newest: dict[str, I64]  # per metric and batch device: its newest reading before the batch


def envelope(rs: RuleSet, rules: npt.NDArray[np.int32]) -> tuple[F64, F64]:
    """Per device (its winning rule per code in ``rules``) and metric: the highest lower limit
    and the lowest upper limit of its comparisons, each as the first value beyond it (a strict
    "> 8" is beyond from the next float above 8), so that "value >= high" and "value <= low"
    never miss a reading beyond."""
    rising, limit = rs.rising[rules], rs.limit[rules]
    first = np.where(rs.strict[rules], np.nextafter(limit, np.where(rising, np.inf, -np.inf)), limit)
    compared = (rules >= 0) & (rs.screen[rules] != OTHER)
    low = np.empty((len(rules), len(rs.metrics)))
    high = np.empty((len(rules), len(rs.metrics)))
    for mi in range(len(rs.metrics)):
        mine = compared & (rs.metric_of[rules] == mi)
        high[:, mi] = np.where(mine & rising, first, np.inf).min(axis=1, initial=np.inf)
        low[:, mi] = np.where(mine & ~rising, first, -np.inf).max(axis=1, initial=-np.inf)
    return low, high


def candidates(
    rs: RuleSet, states: RuleStates, devs: Devices, batch: Batch, low: F64, high: F64
) -> list[tuple[int, int]]:
    """(rule index, batch device index) pairs to step exactly, code by code; ``low`` and
    ``high``: the envelopes by device row (see ``envelope``)."""
    cols, applies = batch.cols, batch.applies
    stated = _stated_in_batch(rs, states, devs, batch)
    found: list[tuple[int, int, int]] = []  # (code, device, rule), then sorted
    other = (applies >= 0) & (rs.screen[applies] == OTHER)
    if other.any():
        # Which of these rules the batch gives something to: judged once per rule.
        stepped = np.zeros(len(rs.screen), bool)
        for r in np.unique(applies[other]).tolist():
            compiled = rs.compiled[r]
            stepped[r] = compiled is not None and (
                not compiled.metrics or bool(compiled.metrics & cols.metrics.keys())
            )
        for d, c in np.argwhere(other & stepped[applies]).tolist():
            found.append((c, d, int(applies[d, c])))
    present = [i for i, m in enumerate(rs.metrics) if m in cols.metrics]
    if present and len(cols):
        row_of = batch.rows[cols.device_idx]
        near = np.zeros(len(cols), bool)
        for mi in present:
            value = cols.metrics[rs.metrics[mi]]
            near |= (value >= high[row_of, mi]) | (value <= low[row_of, mi])
        devices = set(np.unique(cols.device_idx[near]).tolist())
        devices.update(d for ds in stated.values() for d in ds)
        if devices:
            sel = np.flatnonzero(np.isin(cols.device_idx, np.fromiter(devices, np.int64, len(devices))))
            found += _comparisons(rs, states, batch, sel, stated)
    found.sort()
    return [(r, d) for _, d, r in found]


def _stated_in_batch(rs: RuleSet, states: RuleStates, devs: Devices, batch: Batch) -> dict[int, set[int]]:
    """code -> batch devices whose winning rule for it has a state: they may clear, or be
    running a duration, without a value beyond the limit in this batch."""
    out: dict[int, set[int]] = {}
    for d in np.flatnonzero(devs.stated[batch.rows]).tolist():
        for rule_id in states.rules_of(devs.ids[batch.rows[d]]):
            ri = rs.position.get(rule_id)
            if ri is not None and batch.applies[d, rs.code_of[ri]] == ri:
                out.setdefault(rs.code_of[ri], set()).add(d)
    return out


def _comparisons(
    rs: RuleSet, states: RuleStates, batch: Batch, sel: npt.NDArray[np.intp], stated: dict[int, set[int]]
) -> list[tuple[int, int, int]]:
    """The exact screen of the readings ``sel``."""
    cols, applies = batch.cols, batch.applies
    n_dev, n_codes = applies.shape
    n = len(sel)
    nan = np.full(n, np.nan)
    # Every rule's metric as a column; the last column (index -1: no metric) is all NaN.
    table = np.column_stack([cols.metrics[m][sel] if m in cols.metrics else nan for m in rs.metrics] + [nan])
    device_idx = cols.device_idx[sel]
    rule = applies[device_idx]  # (reading, code) -> winning rule, -1: none
    value = np.take_along_axis(table, rs.metric_of[rule], axis=1)
    limit, rising, strict = rs.limit[rule], rs.rising[rule], rs.strict[rule]
    beyond = np.where(
        rising,
        np.where(strict, value > limit, value >= limit),
        np.where(strict, value < limit, value <= limit),
    )
    valid = ~np.isnan(value)
    clear = rs.clear_at[rule]
    back = np.where(rising, value <= clear, value >= clear)  # NaN clear_at: never back
    # (code, device) pairs as one number, code-major: flags per pair by counting.
    key = (np.arange(n_codes) * n_dev)[None, :] + device_idx[:, None]
    size = n_codes * n_dev
    any_beyond = np.bincount(key[beyond], minlength=size) > 0
    any_within = np.bincount(key[valid & ~beyond], minlength=size) > 0
    any_back = np.bincount(key[back], minlength=size) > 0
    keys = set(np.flatnonzero(any_beyond).tolist())
    if stated:
        any_valid = any_within | any_beyond
        keys.update(k for c, ds in stated.items() for d in ds if any_valid[k := c * n_dev + d])
    out: list[tuple[int, int, int]] = []
    for k in keys:
        c, d = divmod(k, n_dev)
        ri = int(applies[d, c])
        device: uuid.UUID = cols.devices[d]
        state = states.get(rs.rules[ri]["id"], device)
        flags = (bool(any_beyond[k]), bool(any_within[k]), bool(any_back[k]))
        seen = int(batch.newest[rs.metrics[rs.metric_of[ri]]][d])
        if may_change(int(rs.screen[ri]), state, *flags, int(batch.oldest[d]), seen):
            out.append((c, d, ri))
    return out


def may_change(
    kind: int, state: State | None, beyond: bool, within: bool, back: bool, oldest: int, seen: int
) -> bool:
    """Whether stepping this device's readings could change its state (beyond its newest time).

    ``seen``: the device's newest earlier reading of the metric. Conservative: True when unsure.
    A reading older than that is out of order and always stepped (it is recorded as late)."""
    if state is None:
        return beyond  # fresh: nothing holds, nothing is running
    if oldest < max(seen, state.last_ts_ms if state.last_ts_ms is not None else NONE_YET):
        return True
    if kind == THRESHOLD:
        return beyond if not state.holding else within
    if kind == HYSTERESIS:
        return beyond if not state.holding else back
    if kind == DURATION:
        if not state.holding:
            return beyond
        return within or not state.satisfied
    if kind == CUMULATIVE:
        return not state.satisfied and (beyond or state.last_beyond)
    return True
