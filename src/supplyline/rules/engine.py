"""Comparison conditions (threshold with hysteresis, duration, cumulative budget) over a batch
of one key's readings, with the state carried from batch to batch.

The state is plain data (``State.as_dict``) so it can be stored with the batch that changed it
and survive a restart. Readings are taken in time order. A reading older than the last one the
state has seen (out of order) does not move the state: its excursions are reported as late,
for the record. A transition of a reading older than ``live_after_ms`` (a gateway replaying
hours of backlog) moves the state but is marked late, so that it is recorded for compliance
and not raised as if it were happening now.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from supplyline.telemetry.metrics import Metric, converter

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
_OPS: dict[str, Callable[[F64, float], Bools]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass
class State:
    holding: bool = False  # the condition holds after the last reading
    since_ms: int | None = None  # when it started holding
    raised: bool = False  # a raised transition has been reported and not cleared
    last_ts_ms: int | None = None  # the newest reading taken into the state
    used_ms: int = 0  # cumulative: time beyond the limit so far
    last_beyond: bool = False  # cumulative: whether the newest reading was beyond

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> State:
        return cls(**data) if data else cls()


@dataclass(frozen=True)
class Transition:
    kind: Literal["raised", "cleared"]
    at_ms: int
    value: float
    late: bool  # for the record (backlog or out of order), not an alarm of now


class Comparison:
    """A compiled threshold, duration or cumulative node; limits in the metric's canonical unit."""

    def __init__(self, node: Mapping[str, Any], metrics: Mapping[str, Metric]) -> None:
        self.kind: str = node["kind"]
        self.metric: str = node["metric"]
        to_canonical = converter(node.get("unit"), self.metric, metrics)
        self.op = _OPS[node["op"]]
        self.limit = to_canonical(node["value"])
        clear_at = node.get("clear_at")
        self.clear_at = None if clear_at is None else to_canonical(clear_at)
        self.rising = node["op"] in (">", ">=")
        self.for_ms = int(node.get("for_s", 0)) * 1000
        self.budget_ms = int(node.get("budget_s", 0)) * 1000

    def step(self, state: State, ts: I64, values: F64, live_after_ms: int) -> list[Transition]:
        """Take a batch (any order; NaN means the reading has no value for this metric)."""
        keep = ~np.isnan(values)
        ts, values = ts[keep], values[keep]
        order = np.argsort(ts, kind="stable")
        ts, values = ts[order], values[order]
        out: list[Transition] = []
        if state.last_ts_ms is not None:
            old = ts < state.last_ts_ms
            if old.any():
                out += [
                    Transition(t.kind, t.at_ms, t.value, True)
                    for t in self._run(State(), ts[old], values[old], live_after_ms)
                ]
                ts, values = ts[~old], values[~old]
        return out + self._run(state, ts, values, live_after_ms)

    def _run(self, state: State, ts: I64, values: F64, live_after_ms: int) -> list[Transition]:
        if not len(ts):
            return []
        if self.kind == "cumulative":
            found = self._cumulative(state, ts, values)
        else:
            holding = self._holding(state.holding, values)
            found = self._durations(state, ts, values, holding)
        state.last_ts_ms = int(ts[-1])
        return [Transition(k, at, v, at < live_after_ms) for k, at, v in found]

    def _holding(self, initial: bool, values: F64) -> Bools:
        """Whether the condition holds after each reading, with hysteresis."""
        beyond = self.op(values, self.limit)
        if self.clear_at is None:
            return beyond
        back = values <= self.clear_at if self.rising else values >= self.clear_at
        marks = np.where(beyond, 1, np.where(back, 0, -1))
        idx = np.where(marks >= 0, np.arange(len(marks)), -1)
        last = np.maximum.accumulate(idx)
        return np.where(last >= 0, marks[np.maximum(last, 0)] == 1, initial)

    def _durations(
        self, state: State, ts: I64, values: F64, holding: Bools
    ) -> list[tuple[Literal["raised", "cleared"], int, float]]:
        """Threshold (for_ms 0) and duration: raised once held for for_ms, cleared when it stops."""
        found: list[tuple[Literal["raised", "cleared"], int, float]] = []
        n = len(ts)
        if not holding[0] and state.holding and state.raised:
            found.append(("cleared", int(ts[0]), float(values[0])))
        edges = np.flatnonzero(np.diff(holding.astype(np.int8))) + 1
        bounds = [0, *edges.tolist(), n]
        since, raised = None, False
        for a, b in pairwise(bounds):
            if not holding[a]:
                continue
            continued = a == 0 and state.holding
            since = state.since_ms if continued and state.since_ms is not None else int(ts[a])
            raised = state.raised if continued else False
            if not raised:
                crossing = self._crossing(ts, values, since, a, b)
                found += crossing
                raised = bool(crossing)
            if b < n and raised:
                found.append(("cleared", int(ts[b]), float(values[b])))
        state.holding = bool(holding[-1])
        state.since_ms = since if state.holding else None
        state.raised = raised if state.holding else False
        return found

    def _crossing(
        self, ts: I64, values: F64, since: int, lo: int, hi: int
    ) -> list[tuple[Literal["raised", "cleared"], int, float]]:
        """The first reading in [lo, hi) at least for_ms after ``since``, as a raise."""
        if lo >= hi:
            return []
        hit = np.flatnonzero(ts[lo:hi] - since >= self.for_ms)
        if not len(hit):
            return []
        i = lo + int(hit[0])
        return [("raised", int(ts[i]), float(values[i]))]

    def _cumulative(
        self, state: State, ts: I64, values: F64
    ) -> list[tuple[Literal["raised", "cleared"], int, float]]:
        """Time beyond the limit, each reading's state held until the next one, added up; raised
        once when the budget is spent (a budget is not given back)."""
        beyond = self.op(values, self.limit)
        times = ts if state.last_ts_ms is None else np.r_[state.last_ts_ms, ts]
        held = beyond[:-1] if state.last_ts_ms is None else np.r_[state.last_beyond, beyond[:-1]]
        spent = state.used_ms + np.cumsum(np.diff(times) * held)
        state.last_beyond = bool(beyond[-1])
        found: list[tuple[Literal["raised", "cleared"], int, float]] = []
        if not state.raised and self.budget_ms:
            over = np.flatnonzero(spent > self.budget_ms)
            if len(over):
                # spent[k] is the time up to reading k (+1 when the first pair is from the state).
                i = int(over[0]) + (0 if state.last_ts_ms is not None else 1)
                found.append(("raised", int(ts[i]), float(values[i])))
                state.raised = True
        state.used_ms = int(spent[-1]) if len(spent) else state.used_ms
        state.holding = bool(beyond[-1])
        return found
