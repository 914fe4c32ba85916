"""Every condition kind, compiled from its stored JSON into a tree the engine evaluates.

``compile_condition`` turns a rule's condition (``model.Condition`` as JSON) into a
``Compiled``: ``step`` takes one device's readings of a batch, ``silence`` is called
periodically to find devices that went quiet. Each node is satisfied or not at each point of
the batch's timeline; the rule raises once when its root becomes satisfied and clears when it
stops. Batches are evaluated with numpy; Python loops run over transitions, not readings.

Kinds beyond the comparisons (``engine.ComparisonNode``):

- rate_of_change: |dv/dt| between consecutive readings of the metric (the previous one carried
  in the state across batches) above ``max_per_min``. ``unit`` converts the limit by scale
  only: a rate has no offset, so 1.8 F/min is 1 C/min. Readings with the same timestamp give
  no rate and keep the previous satisfaction.
- geofence: positions are rows with both ``lat`` and ``lon``. enter: satisfied while inside
  (raised on entering, cleared on leaving); exit: satisfied while outside after having been
  inside at least once (a device that never arrived has not left); dwell: satisfied once
  inside without a break for ``dwell_s``. A circle's boundary counts as inside. Transitions
  report ``distance_m``, from the circle's centre or the polygon's vertex mean.
- heartbeat: satisfied while no reading has come for ``max_silence_s``. Any row counts as a
  reading. ``silence`` raises it; the next reading clears it. A gap inside a batch (a backlog
  with a hole in it) is recorded as raised when the silence ran out and cleared at the reading
  that ended it. Transitions report ``silence_s``: the silence when found or ended. A reading
  delayed in transit can clear a silence at a time before it was raised: that is what happened.
- all / any: the children's satisfaction combined on the batch's timeline, a child without a
  value at a point keeping its last known satisfaction. A transition reports the metric and
  value of the child whose change flipped the combination.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from supplyline.rules.engine import ComparisonNode, Compiled
from supplyline.rules.geo import distance_m, in_polygon
from supplyline.rules.nodes import (
    F64,
    I64,
    NAN,
    Bools,
    Leaf,
    Node,
    Result,
    State,
    Timeline,
    carry,
    held_for,
)
from supplyline.telemetry import Metric, converter

__all__ = ["Area", "Compiled", "compile_condition"]
_NONE = np.iinfo(np.int64).min  # no reading yet


@dataclass(frozen=True)
class Area:
    """A geofence area, resolved by the evaluator: a site becomes a circle around its location."""

    circle: tuple[float, float, float] | None  # lat, lon, radius_m
    polygon: tuple[tuple[float, float], ...] | None  # (lat, lon) vertices


def compile_condition(
    node: Mapping[str, Any], metrics: Mapping[str, Metric], areas: Mapping[str, Area] | None = None
) -> Compiled:
    """The condition ready to evaluate; ``areas`` maps the site ids geofences name to their area.

    Raises ValueError for an unknown kind, a site without an area, a rate of a boolean; unknown
    metrics and units raise as ``telemetry.metrics.converter`` does.
    """
    return Compiled(_compile(node, metrics, areas or {}))


def _compile(node: Mapping[str, Any], metrics: Mapping[str, Metric], areas: Mapping[str, Area]) -> Node:
    kind = node.get("kind")
    if kind in ("threshold", "duration", "cumulative"):
        return ComparisonNode(node, metrics)
    if kind == "rate_of_change":
        return RateOfChange(node, metrics)
    if kind == "geofence":
        return Geofence(node, _area(node, areas))
    if kind == "heartbeat":
        return Heartbeat(int(node["max_silence_s"]))
    if kind in ("all", "any"):
        return Combination(kind == "all", [_compile(c, metrics, areas) for c in node["conditions"]])
    raise ValueError(f"unknown condition kind {kind!r}")


def _area(node: Mapping[str, Any], areas: Mapping[str, Area]) -> Area:
    if node.get("site_id") is not None:
        site = str(node["site_id"])
        if site not in areas:
            raise ValueError(f"geofence names site {site}, but no area was given for it")
        return areas[site]
    if node.get("circle") is not None:
        c = node["circle"]
        return Area(circle=(float(c["lat"]), float(c["lon"]), float(c["radius_m"])), polygon=None)
    if node.get("polygon") is not None:
        return Area(circle=None, polygon=tuple((float(a), float(b)) for a, b in node["polygon"]))
    raise ValueError("a geofence names an area: site_id, circle or polygon")


class RateOfChange(Leaf):
    def __init__(self, node: Mapping[str, Any], metrics: Mapping[str, Metric]) -> None:
        self.metric: str = node["metric"]
        self.label = self.metric
        self.metrics = self.reads = frozenset({self.metric})
        to_canonical = converter(node.get("unit"), self.metric, metrics)
        if metrics[self.metric].kind == "boolean":
            raise ValueError(f"'{self.metric}' is a boolean; it has no rate of change")
        # A span of 1000 units keeps the 9-decimal rounding of converted values out of the scale.
        scale = (to_canonical(1000.0) - to_canonical(0.0)) / 1000.0
        self.max_per_ms = float(node["max_per_min"]) * scale / 60_000

    def own(self, state: State, ts: I64, cols: Mapping[str, F64]) -> tuple[Bools, F64]:
        values = cols[self.metric]
        first = state.last_ts_ms is None or state.last_value is None
        times = ts if first else np.r_[state.last_ts_ms, ts]
        vals = values if first else np.r_[state.last_value, values]
        dt = np.diff(times)
        fast = np.abs(np.diff(vals)) > self.max_per_ms * dt
        marks = np.where(dt > 0, fast, -1).astype(np.int8)
        if first:
            marks = np.r_[np.int8(-1), marks]
        state.last_value = float(values[-1])
        return carry(marks, state.satisfied), values


class Geofence(Leaf):
    def __init__(self, node: Mapping[str, Any], area: Area) -> None:
        self.trigger: str = node["trigger"]
        self.dwell_ms = int(node.get("dwell_s") or 0) * 1000
        self.label = "distance_m"
        self.metrics = self.reads = frozenset({"lat", "lon"})
        if (area.circle is None) == (area.polygon is None):
            raise ValueError("an area is a circle or a polygon, exactly one")
        self.radius_m: float | None = None
        self.vertices: F64 | None = None
        if area.circle is not None:
            lat, lon, self.radius_m = area.circle
            self.centre = (lat, lon)
        elif area.polygon is not None:
            if len(set(area.polygon)) < 3:
                raise ValueError("a polygon needs at least 3 distinct vertices")
            self.vertices = np.array(area.polygon, dtype=np.float64)
            lat, lon = self.vertices.mean(axis=0)
            self.centre = (float(lat), float(lon))

    def present(self, line: Timeline) -> Bools:
        return line.real & ~np.isnan(line.column("lat")) & ~np.isnan(line.column("lon"))

    def own(self, state: State, ts: I64, cols: Mapping[str, F64]) -> tuple[Bools, F64]:
        lat, lon = cols["lat"], cols["lon"]
        dist = distance_m(lat, lon, *self.centre)
        if self.radius_m is not None:
            inside = dist <= self.radius_m
        else:
            assert self.vertices is not None
            inside = in_polygon(lat, lon, self.vertices)
        if self.trigger == "dwell":
            return held_for(state, ts, inside, self.dwell_ms), dist
        state.holding = bool(inside[-1])
        if self.trigger == "enter":
            return inside, dist
        entered = np.logical_or.accumulate(inside | state.entered)
        state.entered = bool(entered[-1])
        out: Bools = ~inside & entered
        return out, dist


class Heartbeat(Node):
    def __init__(self, max_silence_s: int) -> None:
        self.max_ms = max_silence_s * 1000
        self.metrics = self.reads = frozenset()

    def ticks(self, state: State, ts: I64) -> I64:
        """The moment the silence ran out, within each gap of the batch longer than allowed."""
        times = ts if state.last_ts_ms is None else np.r_[state.last_ts_ms, ts]
        out: I64 = times[:-1][np.diff(times) > self.max_ms] + self.max_ms
        return out

    def series(self, state: State, line: Timeline) -> Result:
        prev = state.satisfied
        start = _NONE if state.last_ts_ms is None else state.last_ts_ms
        # The newest reading strictly before each point (for a reading: the one before it).
        before = np.maximum.accumulate(np.r_[start, np.where(line.real, line.ts, _NONE)])[:-1]
        known = before > _NONE
        gap = line.ts - np.where(known, before, line.ts)
        sat = ~line.real & known & (gap >= self.max_ms)
        if line.real.any():
            state.last_ts_ms = int(line.ts[line.real].max())
        state.satisfied = bool(sat[-1])
        return Result(prev, sat, np.where(known, gap / 1000, NAN), "silence_s")


class Combination(Node):
    """all / any of 2-10 children; each child's state is kept in ``state.children``."""

    def __init__(self, every: bool, children: Sequence[Node]) -> None:
        self.every = every
        self.children = tuple(children)
        self.reads = frozenset[str]().union(*(c.reads for c in children))
        # A child that takes every row (a heartbeat) makes every row relevant to the whole.
        empty = any(not c.metrics for c in children)
        self.metrics = frozenset() if empty else frozenset[str]().union(*(c.metrics for c in children))

    def _states(self, state: State) -> list[State]:
        while len(state.children) < len(self.children):
            state.children.append(State())
        return state.children

    def ticks(self, state: State, ts: I64) -> I64:
        parts = [c.ticks(s, ts) for c, s in zip(self.children, self._states(state), strict=False)]
        out: I64 = np.unique(np.concatenate(parts))
        return out

    def series(self, state: State, line: Timeline) -> Result:
        kids = zip(self.children, self._states(state), strict=False)
        results = tuple(c.series(s, line) for c, s in kids)
        stack = np.vstack([r.sat for r in results])
        sat: Bools = np.all(stack, axis=0) if self.every else np.any(stack, axis=0)
        prevs = [r.prev for r in results]
        prev = all(prevs) if self.every else any(prevs)
        state.satisfied = bool(sat[-1])
        return Result(prev, sat, children=results)
