from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from supplyline.api.app import create_app
from supplyline.bench.export_bench import run_export_bench
from supplyline.bench.scoped_read_bench import _check, run_scoped_read_bench
from supplyline.bench.scoped_world import Entitled, ScopedWorld, Size
from supplyline.bootstrap import Services
from supplyline.settings import Settings
from tests.cli.conftest import Invoke


@pytest.mark.slow
def test_bench_import_json_is_exactly_one_object(invoke: Invoke) -> None:
    result = invoke("bench", "import", "--json")
    (line,) = result.output.splitlines()
    assert json.loads(line)["rows_per_s"] > 0


TINY = Size(shipments=120, carriers=3, trackers=12, assets=12, sites=4, products=3, interval_s=900)


@pytest.mark.slow
async def test_bench_scoped_read_compares_partner_and_admin(tmp_path: Path) -> None:
    def app(svc: Services) -> FastAPI:
        return create_app(svc, run_consumers=False)

    result = await run_scoped_read_bench(tmp_path, app, size=TINY, rounds=2, warmup=1, page=5)
    assert json.loads(json.dumps(result)) == result  # one plain JSON object
    assert {"partner_ms", "admin_ms", "ratio", "queries", "shipments", "readings", "backend"} <= set(result)
    assert set(result["queries"]) == {
        "shipments",
        "lots",
        "devices",
        "alarms",
        "events",
        "telemetry",
        "telemetry_latest",
    }
    assert result["ratio"] == pytest.approx(result["partner_ms"] / result["admin_ms"], rel=0.01)
    assert result["shipments"] == 120 and result["readings"] > 0 and result["backend"] == "sqlite"


@pytest.mark.slow
async def test_bench_export_compares_with_a_raw_write(tmp_path: Path) -> None:
    result = await run_export_bench(tmp_path, size=TINY)
    assert json.loads(json.dumps(result)) == result  # one plain JSON object
    assert result["rows"] == result["readings_ingested"] * 4 > 0  # four metrics a reading
    ratio = result["export_rows_per_s"] / result["raw_write_rows_per_s"]
    assert result["ratio"] == pytest.approx(ratio, rel=0.05, abs=0.002)
    assert result["export_rows_per_s"] > 0 and result["files"] == 5


def test_bench_scoped_read_refuses_a_partner_page_it_should_not_see() -> None:
    """The bench checks answers before timing them: a leaking filter stops it."""
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    world = ScopedWorld(
        Settings(), "", carrier_id="c1", entitled=Entitled(shipments={mine}), trip={}, moving=""
    )

    def page(*ids: str) -> dict[str, Any]:
        return {"items": [{"id": i, "carrier_organization_id": "c1"} for i in ids]}

    answers = {"admin": {"shipments": page(theirs)}, "partner": {"shipments": page(theirs)}}
    with pytest.raises(AssertionError, match="shipments it does not reach"):
        _check(world, answers, 1)


@pytest.mark.slow
def test_bench_trace_prints_the_issue_figures_as_one_object(invoke: Invoke) -> None:
    result = invoke(
        "bench", "trace", "--json", "--events", "5000", "--capture-events", "500", "--leaves", "2000"
    )
    (line,) = result.output.splitlines()
    figures = json.loads(line)
    for name in (
        "capture_events_per_s",
        "ledger_appends_per_s",
        "proof_ms_p99",
        "trace_p50_ms",
        "trace_p95_ms",
    ):
        assert figures[name] > 0, name
    assert figures["events"] >= 5000 and figures["details"]["ledger"]["leaves"] == 2000


def test_bench_forecast_prints_series_per_s_as_one_object(invoke: Invoke) -> None:
    args = ("--series", "20", "--days", "120", "--jobs", "1", "--requests", "20")
    result = invoke("bench", "forecast", "--json", *args)
    (line,) = result.output.splitlines()
    figures = json.loads(line)
    assert figures["series_per_s"] > 0 and figures["seconds"] > 0
    assert figures["series"] == 20 and figures["horizon"] == 28
    assert sum(figures["models"].values()) == 20
    assert figures["recommendations_per_s"] > 0 and figures["recommendations"]["requests"] == 20
