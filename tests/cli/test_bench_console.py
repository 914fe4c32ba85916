"""``supplyline bench console``: its figures' shape at a tiny size (timings belong to the bench,
never to a test's assertions)."""

from __future__ import annotations

import json

import pytest

from supplyline.console import built_views
from tests.cli.conftest import Invoke
from tests.console.conftest import STATIC, need


@pytest.mark.slow
def test_bench_console_prints_every_built_view_against_the_target(invoke: Invoke) -> None:
    need("The built console", STATIC / "app" / "login.html", "console")
    result = invoke("bench", "console", "--json", "--devices", "50", "--rounds", "2", "--warmup", "1")
    (line,) = result.output.splitlines()
    figures = json.loads(line)

    assert figures["target_ms"] == 300 and isinstance(figures["ok"], bool)
    assert figures["devices"] == 50 and figures["alarms"] > 0 and figures["rounds"] == 2
    views = figures["views"]
    assert set(views) == set(built_views()) >= {"alarms", "shipments", "inventory", "planning"}
    for name, view in views.items():
        assert 0 < view["p50_ms"] <= view["p95_ms"] <= view["max_ms"], name
        assert view["requests"] >= 2 and view["p95_over_healthz"] > 0, name
    assert views["alarms"]["path"] == "/" and views["planning"]["role"] == "planner"
    assert figures["max_p95_ms"] == max(v["p95_ms"] for v in views.values())
    assert figures["views"][figures["slowest_view"]]["p95_ms"] == figures["max_p95_ms"]
    assert figures["ok"] == (figures["max_p95_ms"] < figures["target_ms"])
    # Every endpoint a known view loads is timed on its own too.
    assert {"page html", "auth/me", "alarms", "shipments", "inventory-positions", "forecasts"} <= set(
        figures["calls"]
    )
