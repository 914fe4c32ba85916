"""The pure evaluation engine: a compiled condition meets a batch of one device's readings, with
its state carried from batch to batch; and the comparison kinds (threshold with hysteresis,
duration, cumulative budget). The other kinds are in ``rules.conditions``.

The state is plain data (``State.as_dict``) so it can be stored with the batch that changed it
and survive a restart. Readings are taken in time order. A reading older than the last one the
state has seen (out of order) does not move the state: it is evaluated on a fresh state and its
transitions are reported as late, for the record. A transition older than ``live_after_ms`` (a
gateway replaying hours of backlog) moves the state but is marked late, so that it is recorded
for compliance and not raised as if it were happening now.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from supplyline.rules.nodes import (
    F64,
    I64,
    Bools,
    Leaf,
    Node,
    Result,
    State,
    Timeline,
    Transition,
    carry,
    held_for,
)
from supplyline.telemetry import Metric, converter

__all__ = ["Comparison", "ComparisonNode", "Compiled", "State", "Transition"]

_OPS: dict[str, Callable[[F64, float], Bools]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


class Compiled:
    """A rule's condition, ready to evaluate: raised once when its root becomes satisfied,
    cleared when it stops (a cumulative budget, once spent, stays spent and never clears)."""

    def __init__(self, root: Node) -> None:
        self.root = root
        self.metrics: frozenset[str] = root.metrics  # empty: any reading is relevant

    def step(self, state: State, ts: I64, values: Mapping[str, F64], live_after_ms: int) -> list[Transition]:
        """Take one device's readings of a batch, in any order; NaN: a row lacks that metric.

        Rows with none of the condition's metrics are left out (a heartbeat takes every row).
        """
        rows = np.ones(len(ts), dtype=bool)
        if self.metrics:
            rows = np.zeros(len(ts), dtype=bool)
            for m in self.metrics & values.keys():
                rows |= ~np.isnan(values[m])
        order = np.flatnonzero(rows)[np.argsort(ts[rows], kind="stable")]
        ts = ts[order]
        cols = {m: values[m][order] for m in self.root.reads & values.keys()}
        out: list[Transition] = []
        if state.last_ts_ms is not None:
            old = ts < state.last_ts_ms
            if old.any():
                past = self._run(State(), ts[old], {m: v[old] for m, v in cols.items()}, live_after_ms)
                out += [Transition(t.kind, t.at_ms, t.value, True, t.metric) for t in past]
                ts, cols = ts[~old], {m: v[~old] for m, v in cols.items()}
        return out + self._run(state, ts, cols, live_after_ms)

    def silence(self, state: State, now_ms: int, live_after_ms: int) -> list[Transition]:
        """Evaluate at ``now_ms`` without a new reading: a heartbeat whose device has been quiet
        too long is raised (through all / any too); the other kinds keep their satisfaction.

        Reported at ``now_ms``, when the silence was found; late only if ``now_ms`` itself is
        older than ``live_after_ms``. Nothing happens before a first reading.
        """
        if state.last_ts_ms is None or now_ms <= state.last_ts_ms:
            return []
        line = Timeline(np.array([now_ms], dtype=np.int64), np.zeros(1, dtype=bool), {})
        return self._edges(state, line, self.root.series(state, line), live_after_ms)

    def _run(self, state: State, ts: I64, cols: Mapping[str, F64], live_after_ms: int) -> list[Transition]:
        if not len(ts):
            return []
        ticks = self.root.ticks(state, ts)
        if len(ticks):
            ticks = ticks[~np.isin(ticks, ts)]  # a reading at that moment speaks for itself
        if len(ticks):
            at = np.r_[ts, ticks]
            order = np.argsort(at, kind="stable")
            pad = np.full(len(ticks), np.nan)
            line = Timeline(
                at[order],
                np.r_[np.ones(len(ts), dtype=bool), np.zeros(len(ticks), dtype=bool)][order],
                {m: np.r_[v, pad][order] for m, v in cols.items()},
            )
        else:
            line = Timeline(ts, np.ones(len(ts), dtype=bool), cols)
        found = self._edges(state, line, self.root.series(state, line), live_after_ms)
        state.last_ts_ms = int(ts[-1])
        return found

    @staticmethod
    def _edges(state: State, line: Timeline, result: Result, live_after_ms: int) -> list[Transition]:
        """The root's flips, one transition each: a Python loop over edges, not readings."""
        sat = result.sat
        flips = np.flatnonzero(sat != np.r_[state.raised, sat[:-1]])
        out: list[Transition] = []
        for i in flips.tolist():
            metric, value = result.cause(i)
            at = int(line.ts[i])
            out.append(Transition("raised" if sat[i] else "cleared", at, value, at < live_after_ms, metric))
        state.raised = bool(sat[-1])
        return out


class ComparisonNode(Leaf):
    """threshold, duration or cumulative; limits in the metric's canonical unit.

    threshold: satisfied while the value is beyond the limit; with ``clear_at`` it stays
    satisfied until the value is back beyond that level (hysteresis), so it does not flap.
    duration: satisfied once the comparison has held for ``for_s`` without a break, judged at
    the metric's readings. cumulative: satisfied once the time beyond the limit, each reading's
    state held until the next one, adds up to more than ``budget_s``; a budget spent stays
    spent. Its scope (``over`` shipment or lot) is the evaluator's: it keys the state.
    """

    def __init__(self, node: Mapping[str, Any], metrics: Mapping[str, Metric]) -> None:
        self.kind: str = node["kind"]
        self.metric: str = node["metric"]
        self.label = self.metric
        self.metrics = self.reads = frozenset({self.metric})
        to_canonical = converter(node.get("unit"), self.metric, metrics)
        self.op = _OPS[node["op"]]
        self.limit = to_canonical(node["value"])
        clear_at = node.get("clear_at")
        self.clear_at = None if clear_at is None else to_canonical(clear_at)
        self.rising = node["op"] in (">", ">=")
        self.for_ms = int(node.get("for_s", 0)) * 1000
        self.budget_ms = int(node.get("budget_s", 0)) * 1000

    def own(self, state: State, ts: I64, cols: Mapping[str, F64]) -> tuple[Bools, F64]:
        values = cols[self.metric]
        if self.kind == "cumulative":
            return self._cumulative(state, ts, values), values
        return held_for(state, ts, self._holding(state.holding, values), self.for_ms), values

    def _holding(self, initial: bool, values: F64) -> Bools:
        """Whether the comparison holds after each reading, with hysteresis."""
        beyond = self.op(values, self.limit)
        if self.clear_at is None:
            return beyond
        back = values <= self.clear_at if self.rising else values >= self.clear_at
        return carry(np.where(beyond, 1, np.where(back, 0, -1)).astype(np.int8), initial)

    def _cumulative(self, state: State, ts: I64, values: F64) -> Bools:
        beyond = self.op(values, self.limit)
        if state.last_ts_ms is None:
            added = np.r_[0, np.diff(ts) * beyond[:-1]]
        else:
            added = np.diff(np.r_[state.last_ts_ms, ts]) * np.r_[state.last_beyond, beyond[:-1]]
        spent = state.used_ms + np.cumsum(added)
        over = spent > self.budget_ms if self.budget_ms else np.zeros(len(ts), dtype=bool)
        state.used_ms = int(spent[-1])
        state.last_beyond = state.holding = bool(beyond[-1])
        out: Bools = np.logical_or.accumulate(over | state.satisfied)
        return out


class Comparison(Compiled):
    """A compiled threshold, duration or cumulative condition on its own (the evaluator's
    original interface): ``step`` also takes the metric's column as a bare array."""

    def __init__(self, node: Mapping[str, Any], metrics: Mapping[str, Metric]) -> None:
        self.node = ComparisonNode(node, metrics)
        super().__init__(self.node)
        self.kind = self.node.kind
        self.metric = self.node.metric

    def step(
        self, state: State, ts: I64, values: Mapping[str, F64] | F64, live_after_ms: int
    ) -> list[Transition]:
        cols = {self.metric: values} if isinstance(values, np.ndarray) else values
        return super().step(state, ts, cols, live_after_ms)
