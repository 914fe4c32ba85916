"""The vocabulary of compiled conditions: the stored state of a node, the transitions a rule
reports, the timeline a batch is evaluated on and what each node makes of it.

Every node answers one question per point of the timeline: is it satisfied there? A node
without a value at a point (a row lacking its metric, a moment inserted for a heartbeat) keeps
its last known satisfaction, which its state carries from batch to batch. The root of a rule
turns that series into raised and cleared transitions (``engine.Compiled``).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
NAN = math.nan


@dataclass
class State:
    """One node's memory for one (rule, device), stored as JSON with the batch that changed it.

    Fields a kind does not use keep their defaults. Dicts written before a field existed load
    with its default, so states stored by an older release resume where they stopped.
    """

    holding: bool = False  # the comparison holds / the device is inside, after the last reading
    since_ms: int | None = None  # when it started holding (duration, dwell)
    raised: bool = False  # root only: a raised transition has been reported and not cleared
    last_ts_ms: int | None = None  # the newest reading taken into the state
    used_ms: int = 0  # cumulative: time beyond the limit so far
    last_beyond: bool = False  # cumulative: whether the newest reading was beyond
    over: str | None = None  # cumulative: the shipment (or its lots) the budget is counted for
    satisfied: bool = False  # the node was satisfied at its last reading (carried to other rows)
    last_value: float | None = None  # rate of change: the newest reading, canonical unit
    entered: bool = False  # geofence exit: the device has been inside at least once
    children: list[State] = field(default_factory=list)  # all / any: one state per child

    def as_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies every value, and this runs per changed state.
        out = {name: getattr(self, name) for name in _SCALARS}
        out["children"] = [c.as_dict() for c in self.children]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> State:
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        kept = {k: v for k, v in data.items() if k in known and k != "children"}
        # Before combinations existed only the root was stored, and it was satisfied exactly
        # when it had raised (a duration short of its time had not).
        kept.setdefault("satisfied", bool(data.get("raised", False)))
        children = [cls.from_dict(c) for c in data.get("children") or ()]
        return cls(**kept, children=children)


_SCALARS = [f.name for f in fields(State) if f.name != "children"]


@dataclass(frozen=True)
class Transition:
    """A rule's condition started (raised) or stopped (cleared) being satisfied.

    ``value`` and ``metric`` name what caused it: the reading of the metric for comparisons and
    rates of change, ``distance_m`` from the area's centre for a geofence, ``silence_s`` for a
    heartbeat, and for all / any those of the child whose change flipped the combination. The
    value is NaN only where no cause can be named (a state stored inconsistently).
    """

    kind: Literal["raised", "cleared"]
    at_ms: int
    value: float
    late: bool  # for the record (backlog or out of order), not an alarm of now
    metric: str | None = None


@dataclass(frozen=True)
class Timeline:
    """One device's points of a batch in time order: its readings (``real``) and the moments
    nodes asked for (a heartbeat's silence running out), with NaN where a point has no value."""

    ts: I64
    real: Bools
    values: Mapping[str, F64]

    def column(self, metric: str) -> F64:
        found = self.values.get(metric)
        return np.full(len(self.ts), NAN) if found is None else found


@dataclass(frozen=True)
class Result:
    """What a node made of a timeline: satisfied at each point, before it (``prev``), and the
    cause to report when the root flips at a point."""

    prev: bool
    sat: Bools
    value: F64 | None = None  # leaves: the value to report at each point
    metric: str | None = None
    children: tuple[Result, ...] = ()

    def cause(self, i: int) -> tuple[str | None, float]:
        """The metric and value behind a flip at point ``i``: a leaf's own, or that of the first
        child that flipped the same way there."""
        if not self.children:
            return self.metric, NAN if self.value is None else float(self.value[i])
        for child in self.children:
            before = bool(child.sat[i - 1]) if i else child.prev
            if bool(child.sat[i]) != before and child.sat[i] == self.sat[i]:
                return child.cause(i)
        return None, NAN


class Node(ABC):
    """A compiled condition node. ``metrics`` are the columns that make a row relevant to it
    (empty: every row counts, as for a heartbeat); ``reads`` the columns it looks at."""

    metrics: frozenset[str]
    reads: frozenset[str]

    def ticks(self, state: State, ts: I64) -> I64:
        """Moments without a reading this node must be evaluated at, given the batch's readings."""
        return np.empty(0, dtype=np.int64)

    @abstractmethod
    def series(self, state: State, line: Timeline) -> Result:
        """Satisfied at each point of ``line`` (readings newer than the state's); moves the state."""


class Leaf(Node):
    """A node over its own readings: evaluated where it has a value, carried elsewhere."""

    label: str  # the metric named in transitions

    def present(self, line: Timeline) -> Bools:
        """The points where this node has a value."""
        (metric,) = self.reads
        return line.real & ~np.isnan(line.column(metric))

    @abstractmethod
    def own(self, state: State, ts: I64, cols: Mapping[str, F64]) -> tuple[Bools, F64]:
        """Satisfied at each of its readings (at least one), and the value to report there.
        ``state.last_ts_ms`` is still the reading before the first one."""

    def series(self, state: State, line: Timeline) -> Result:
        prev = state.satisfied
        idx = np.flatnonzero(self.present(line))
        value = np.full(len(line.ts), NAN)
        if not len(idx):
            return Result(prev, np.full(len(line.ts), prev), value, self.label)
        ts = line.ts[idx]
        sat, own_value = self.own(state, ts, {m: line.column(m)[idx] for m in self.reads})
        value[idx] = own_value
        if len(idx) == len(line.ts):
            full = sat
        else:
            marks = np.full(len(line.ts), -1, dtype=np.int8)
            marks[idx] = sat
            full = carry(marks, prev)
        state.last_ts_ms = int(ts[-1])
        state.satisfied = bool(full[-1])
        return Result(prev, full, value, self.label)


def carry(marks: npt.NDArray[np.int8], initial: bool) -> Bools:
    """1 / 0 where known, -1 where not: each unknown takes the last known before it, or
    ``initial``."""
    idx = np.where(marks >= 0, np.arange(len(marks)), -1)
    last = np.maximum.accumulate(idx)
    out: Bools = np.where(last >= 0, marks[np.maximum(last, 0)] == 1, initial)
    return out


def held_for(state: State, ts: I64, holding: Bools, for_ms: int) -> Bools:
    """Satisfied where ``holding`` has held without a break for ``for_ms`` (0: at once), runs
    continuing from the state's; updates ``state.holding`` and ``state.since_ms``."""
    idx = np.arange(len(ts))
    starts = holding & ~np.r_[state.holding, holding[:-1]]
    start = np.maximum.accumulate(np.where(starts, idx, -1))
    carried = state.since_ms if state.holding and state.since_ms is not None else int(ts[0])
    since = np.where(start >= 0, ts[np.maximum(start, 0)], carried)
    state.holding = bool(holding[-1])
    state.since_ms = int(since[-1]) if state.holding else None
    out: Bools = holding & (ts - since >= for_ms)
    return out
