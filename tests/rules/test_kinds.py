"""Every condition kind as a fleet operator meets it: rates of change in the unit they think in,
geofences around circles, polygons and sites, devices that go quiet, combinations of these, and
states that survive a restart and late data."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from supplyline.rules.conditions import Area, Compiled, compile_condition
from supplyline.rules.engine import State, Transition
from supplyline.rules.geo import distance_m, in_polygon
from supplyline.telemetry.metrics import CANONICAL_METRICS

MIN = 60_000
NOW = 1_795_339_017_000
LIVE = NOW - 10 * MIN  # readings older than this are a backlog
SITE = "5b0d6a43-86d5-4b8e-9c35-1f6a9e1c2d10"
DEPOT = (52.3700, 4.9000)  # a depot with a 500 m radius
AWAY = (52.4000, 4.9000)  # about 3.3 km north of it
# An L-shaped yard: the square (0..2, 0..2) degrees off (50, 10) without its (1..2, 1..2) corner.
YARD = [[50, 10], [50, 12], [51, 12], [51, 11], [52, 11], [52, 10]]


def rule(node: dict[str, Any], areas: dict[str, Area] | None = None) -> Compiled:
    return compile_condition(node, CANONICAL_METRICS, areas)


def above(value: float, metric: str = "temperature_c", **extra: Any) -> dict[str, Any]:
    return {"kind": "threshold", "metric": metric, "op": ">", "value": value, **extra}


def feed(c: Compiled, state: State, minutes: list[float], **cols: list[float | None]) -> list[Transition]:
    """One device's rows at minutes from NOW; None: the row lacks that metric."""
    ts = np.array([NOW + int(m * MIN) for m in minutes], dtype=np.int64)
    values = {
        k: np.array([math.nan if x is None else x for x in v], dtype=np.float64) for k, v in cols.items()
    }
    return c.step(state, ts, values, LIVE)


def track(c: Compiled, state: State, minutes: list[float], *points: tuple[float, float]) -> list[Transition]:
    return feed(c, state, minutes, lat=[p[0] for p in points], lon=[p[1] for p in points])


def kinds(found: list[Transition]) -> list[tuple[str, float]]:
    return [(t.kind, round((t.at_ms - NOW) / MIN, 3)) for t in found]


def restart(state: State) -> State:
    """What a restarted evaluator reads back: the state as stored JSON (strict, no NaN)."""
    return State.from_dict(json.loads(json.dumps(state.as_dict(), allow_nan=False)))


def test_the_comparison_kinds_raise_and_clear_through_compile_condition() -> None:
    c, state = rule(above(8, clear_at=7)), State()
    found = feed(c, state, [0, 1, 2, 3], temperature_c=[6, 9, 7.5, 6.5])
    assert kinds(found) == [("raised", 1), ("cleared", 3)]
    assert [(t.metric, t.value) for t in found] == [("temperature_c", 9), ("temperature_c", 6.5)]
    assert c.metrics == {"temperature_c"}
    budget = rule({**above(8), "kind": "cumulative", "budget_s": 10 * 60})
    state = State()
    # 12 minutes above in total: spent at minute 12 and never given back, even back in range.
    assert kinds(feed(budget, state, [0, 6, 8, 14, 20], temperature_c=[9, 7, 9, 4, 4])) == [("raised", 14)]
    assert feed(budget, state, [30], temperature_c=[3]) == [] and state.raised


def test_a_rate_of_change_in_fahrenheit_raises_on_a_fast_rise_across_batches() -> None:
    c = rule({"kind": "rate_of_change", "metric": "temperature_c", "max_per_min": 1.8, "unit": "F"})
    state = State()  # 1.8 F a minute is 1 C a minute: a rate has no offset
    assert feed(c, state, [0, 1, 2], temperature_c=[4, 4.9, 5.8]) == []  # 0.9 C/min
    # The first reading of the next batch is compared with the last of this one.
    found = feed(c, state, [3, 4], temperature_c=[7.0, 8.3])
    assert kinds(found) == [("raised", 3)] and found[0].value == 7.0
    state = restart(state)
    assert kinds(feed(c, state, [5, 6], temperature_c=[9.5, 8.0])) == []  # falling fast counts too
    assert kinds(feed(c, state, [10], temperature_c=[8.5])) == [("cleared", 10)]


def test_rows_without_the_metric_or_with_the_same_time_give_no_rate() -> None:
    c = rule({"kind": "rate_of_change", "metric": "temperature_c", "max_per_min": 1})
    state = State()
    # A jump between two readings of the same millisecond is no rate; the next one compares
    # with the later of them.
    temps: list[float | None] = [4, None, 4.5, 9, 9.4]
    assert (
        feed(c, state, [0, 0.5, 1, 1, 2], temperature_c=temps, humidity_pct=[50, 60, None, None, None]) == []
    )
    assert state.last_value == 9.4


def test_a_geofence_raises_on_entering_a_circle_and_clears_on_leaving() -> None:
    circle = {"lat": DEPOT[0], "lon": DEPOT[1], "radius_m": 500}
    c, state = rule({"kind": "geofence", "trigger": "enter", "circle": circle}), State()
    found = track(c, state, [0, 5, 10, 15], AWAY, DEPOT, DEPOT, AWAY)
    assert kinds(found) == [("raised", 5), ("cleared", 15)]
    assert found[0].metric == "distance_m" and found[0].value < 1
    assert found[1].value == pytest.approx(3336, rel=0.01)
    assert c.metrics == {"lat", "lon"}


def test_a_geofence_exit_needs_the_device_to_have_been_inside() -> None:
    c, state = rule({"kind": "geofence", "trigger": "exit", "polygon": YARD}), State()
    assert track(c, state, [0, 1], (55, 10), (51.5, 11.5)) == []  # outside, and in the notch
    state = restart(state)
    assert track(c, state, [2], (50.5, 11.5)) == []  # inside at last
    found = track(c, state, [3, 4, 5], (51.5, 11.5), (51.5, 10.5), (53, 10))
    assert kinds(found) == [("raised", 3), ("cleared", 4), ("raised", 5)]


def test_a_dwell_at_a_site_raises_once_inside_long_enough() -> None:
    areas = {SITE: Area(circle=(*DEPOT, 500.0), polygon=None)}
    c = rule({"kind": "geofence", "trigger": "dwell", "site_id": SITE, "dwell_s": 30 * 60}, areas)
    state = State()
    assert track(c, state, [0, 10, 20], AWAY, DEPOT, DEPOT) == []
    state = restart(state)
    assert kinds(track(c, state, [35, 40], DEPOT, DEPOT)) == [("raised", 40)]
    # A position without its longitude is no position; leaving clears.
    assert feed(c, state, [45], lat=[AWAY[0]], lon=[None]) == []
    assert kinds(track(c, state, [50], AWAY)) == [("cleared", 50)]


def test_a_geofence_on_a_site_without_an_area_is_refused() -> None:
    with pytest.raises(ValueError, match=SITE):
        rule({"kind": "geofence", "trigger": "enter", "site_id": SITE}, {})


def test_points_in_a_concave_polygon_by_ray_casting() -> None:
    lat = np.array([50.5, 51.5, 51.5, 52.5, 50.5, 50.0001])
    lon = np.array([11.5, 11.5, 10.5, 10.5, 9.5, 10.0001])
    assert in_polygon(lat, lon, np.array(YARD, dtype=np.float64)).tolist() == [
        True,
        False,  # the missing corner
        True,
        False,
        False,
        True,
    ]
    assert distance_m(np.array([0.0]), np.array([1.0]), 0, 0)[0] == pytest.approx(111_195, rel=1e-4)


def test_a_heartbeat_is_raised_by_silence_and_cleared_by_a_reading() -> None:
    c, state = rule({"kind": "heartbeat", "max_silence_s": 30 * 60}), State()
    assert c.metrics == frozenset()
    assert c.silence(state, NOW, LIVE) == []  # never heard from: nothing to miss yet
    assert feed(c, state, [0, 20], humidity_pct=[50, 51]) == []
    assert c.silence(state, NOW + 45 * MIN, LIVE) == []
    state = restart(state)
    found = c.silence(state, NOW + 51 * MIN, LIVE)
    assert [(t.kind, t.metric, t.value, t.late) for t in found] == [("raised", "silence_s", 31 * 60, False)]
    assert c.silence(state, NOW + 60 * MIN, LIVE) == []  # once
    found = feed(c, state, [62], battery_v=[3.6])  # any reading counts
    assert [(t.kind, t.value) for t in found] == [("cleared", 42 * 60)]


def test_a_gap_in_a_replayed_backlog_is_recorded_as_a_late_silence() -> None:
    c, state = rule({"kind": "heartbeat", "max_silence_s": 30 * 60}), State()
    found = feed(c, state, [-300, -290, -200, -195], temperature_c=[5, 5, 5, 5])
    assert [(k, at, t.late) for (k, at), t in zip(kinds(found), found, strict=True)] == [
        ("raised", -260, True),
        ("cleared", -200, True),
    ]
    assert not state.raised


def test_all_of_a_temperature_and_an_open_door_raises_only_together() -> None:
    c = rule({"kind": "all", "conditions": [above(8), above(0, "door_open")]})
    assert c.metrics == {"temperature_c", "door_open"}
    state = State()
    # Door and temperature arrive in different rows; each keeps its last known state.
    found = feed(c, state, [0, 1, 2, 3], temperature_c=[9, None, None, 7], door_open=[None, 0, 1, None])
    assert [(k, at, t.metric, t.value) for (k, at), t in zip(kinds(found), found, strict=True)] == [
        ("raised", 2, "door_open", 1),
        ("cleared", 3, "temperature_c", 7),
    ]


def test_any_of_a_silence_and_a_threshold() -> None:
    c = rule({"kind": "any", "conditions": [{"kind": "heartbeat", "max_silence_s": 600}, above(8)]})
    assert c.metrics == frozenset()  # a heartbeat child makes every row count
    state = State()
    assert feed(c, state, [0, 5], temperature_c=[5, 6]) == []
    assert [(t.kind, t.metric) for t in c.silence(state, NOW + 16 * MIN, LIVE)] == [("raised", "silence_s")]
    # A reading ends the silence, but it is above the limit: still satisfied, no transition.
    assert feed(c, state, [17], temperature_c=[9]) == []
    assert [(t.kind, t.metric) for t in feed(c, state, [18], temperature_c=[5])] == [
        ("cleared", "temperature_c")
    ]


def test_a_combination_resumes_after_a_restart() -> None:
    duration = {**above(8), "kind": "duration", "for_s": 15 * 60}
    c = rule(
        {
            "kind": "all",
            "conditions": [
                duration,
                {"kind": "any", "conditions": [above(0, "door_open"), above(80, "humidity_pct")]},
            ],
        }
    )
    state = State()
    assert feed(c, state, [0, 5], temperature_c=[9, 9], door_open=[1, None]) == []
    state = restart(state)
    assert len(state.children) == 2 and len(state.children[1].children) == 2
    found = feed(c, state, [16, 20], temperature_c=[9.5, None], door_open=[None, 0])
    assert [(k, at, t.metric) for (k, at), t in zip(kinds(found), found, strict=True)] == [
        ("raised", 16, "temperature_c"),
        ("cleared", 20, "door_open"),
    ]


def test_out_of_order_positions_are_on_the_record_without_moving_the_state() -> None:
    circle = {"lat": DEPOT[0], "lon": DEPOT[1], "radius_m": 500}
    c, state = rule({"kind": "geofence", "trigger": "enter", "circle": circle}), State()
    assert kinds(track(c, state, [10], DEPOT)) == [("raised", 10)]
    found = track(c, state, [2, 4, 11], DEPOT, AWAY, DEPOT)
    assert [(t.kind, (t.at_ms - NOW) / MIN, t.late) for t in found] == [
        ("raised", 2, True),
        ("cleared", 4, True),
    ]
    assert state.raised and state.holding and state.last_ts_ms == NOW + 11 * MIN


def test_a_backlog_rate_of_change_is_late_but_moves_the_state() -> None:
    c = rule({"kind": "rate_of_change", "metric": "temperature_c", "max_per_min": 1})
    state = State()
    found = feed(c, state, [-120, -119, -100], temperature_c=[4, 7, 7])
    assert [(t.kind, t.late) for t in found] == [("raised", True), ("cleared", True)]
    assert [(t.kind, t.late) for t in feed(c, state, [0, 1], temperature_c=[7, 9])] == [("raised", False)]


def test_a_state_stored_before_the_new_kinds_loads() -> None:
    old = {
        "holding": True,
        "since_ms": NOW,
        "raised": True,
        "last_ts_ms": NOW,
        "used_ms": 0,
        "last_beyond": False,
    }
    state = State.from_dict(old)
    assert state.satisfied and state.children == []
    c = rule({**above(8), "kind": "duration", "for_s": 60})
    assert kinds(feed(c, state, [1, 2], humidity_pct=[50, None], temperature_c=[None, 7])) == [("cleared", 2)]
