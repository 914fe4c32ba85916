"""Comparison conditions over batches of readings: hysteresis, durations across batches and a
restart, cumulative budgets over several excursions, late and out-of-order data."""

from __future__ import annotations

from typing import Any

import numpy as np

from supplyline.rules.engine import Comparison, State, Transition
from supplyline.telemetry.metrics import CANONICAL_METRICS

MIN = 60_000
NOW = 1_795_339_017_000
LIVE = NOW - 10 * MIN  # readings older than this are a backlog


def compiled(**node: Any) -> Comparison:
    return Comparison({"metric": "temperature_c", "op": ">", **node}, CANONICAL_METRICS)


def feed(rule: Comparison, state: State, minutes: list[float], temps: list[float]) -> list[Transition]:
    ts = np.array([NOW + int(m * MIN) for m in minutes], dtype=np.int64)
    return rule.step(state, ts, np.array(temps, dtype=np.float64), LIVE)


def kinds(found: list[Transition]) -> list[tuple[str, float]]:
    return [(t.kind, (t.at_ms - NOW) / MIN) for t in found]


def test_hysteresis_raises_once_and_clears_only_below_the_clear_level() -> None:
    rule, state = compiled(kind="threshold", value=8, clear_at=7), State()
    found = feed(rule, state, [0, 1, 2, 3, 4, 5], [6, 8.5, 7.8, 8.2, 7.5, 6.9])
    assert kinds(found) == [("raised", 1), ("cleared", 5)]
    assert not state.holding and not state.raised


def test_a_threshold_in_fahrenheit_compares_canonical_values() -> None:
    rule = compiled(kind="threshold", value=46.4, unit="F")  # 8 C
    assert kinds(feed(rule, State(), [0, 1], [7.9, 8.1])) == [("raised", 1)]


def test_a_duration_survives_batches_and_a_restart() -> None:
    rule, state = compiled(kind="duration", value=8, for_s=15 * 60), State()
    assert feed(rule, state, [0, 5], [9, 9]) == []
    # The state is stored with the batch; a restarted evaluator reads it back.
    state = State.from_dict(state.as_dict())
    assert feed(rule, state, [10], [9.5]) == []
    assert kinds(feed(rule, state, [15, 16], [9.1, 9.2])) == [("raised", 15)]
    assert kinds(feed(rule, state, [20], [7])) == [("cleared", 20)]
    # A new excursion starts the clock again.
    assert feed(rule, state, [21, 30], [9, 9]) == []


def test_a_short_excursion_does_not_raise_a_duration() -> None:
    rule = compiled(kind="duration", value=8, for_s=15 * 60)
    assert feed(rule, State(), [0, 5, 10, 14, 16], [9, 9, 9, 7, 9]) == []


def test_a_cumulative_budget_adds_up_several_excursions() -> None:
    rule, state = compiled(kind="cumulative", value=8, budget_s=60 * 60), State()
    # 25 minutes above, 10 below, 25 above: 50 minutes so far.
    assert feed(rule, state, [0, 25, 35, 60], [9, 7, 9, 7]) == []
    assert state.used_ms == 50 * MIN
    # 15 more minutes above: the budget is spent at the reading after the 60th minute above.
    assert kinds(feed(rule, state, [70, 80, 85], [9, 9, 9])) == [("raised", 85)]
    assert feed(rule, state, [90, 95], [9, 7]) == []  # raised once per key


def test_a_replayed_backlog_is_recorded_as_late_not_raised_as_now() -> None:
    rule, state = compiled(kind="threshold", value=8), State()
    hours_ago = [-360 + m for m in (0, 5, 10)]  # six hours of buffered readings
    found = feed(rule, state, [*hours_ago, -1], [9, 9, 6, 6])
    assert [(t.kind, t.late) for t in found] == [("raised", True), ("cleared", True)]
    assert not state.holding
    live = feed(rule, state, [0], [9])
    assert [(t.kind, t.late) for t in live] == [("raised", False)]


def test_out_of_order_readings_do_not_move_the_state_but_are_on_the_record() -> None:
    rule, state = compiled(kind="threshold", value=8), State()
    feed(rule, state, [10], [6])
    found = feed(rule, state, [2, 3, 11], [9, 6, 6])  # two arrive after minute 10 was taken
    assert [(t.kind, (t.at_ms - NOW) / MIN, t.late) for t in found] == [
        ("raised", 2, True),
        ("cleared", 3, True),
    ]
    assert not state.holding and state.last_ts_ms == NOW + 11 * MIN


def test_readings_without_the_metric_are_ignored() -> None:
    rule, state = compiled(kind="threshold", value=8), State()
    assert kinds(feed(rule, state, [0, 1], [float("nan"), 9])) == [("raised", 1)]
