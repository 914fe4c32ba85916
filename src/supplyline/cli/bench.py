"""``supplyline bench``: throughput measurements, run by hand or by ``make bench``.

Timings belong here and never in unit tests, where a slow CI machine would make them flaky.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from fastapi import FastAPI
from rich.markup import escape
from rich.table import Table

from supplyline.api.app import create_app
from supplyline.bench.console_bench import Staged, run_console_bench
from supplyline.bench.export_bench import run_export_bench
from supplyline.bench.forecast_bench import run_forecast_bench
from supplyline.bench.import_bench import run_import_bench
from supplyline.bench.ingest_bench import run_ingest_bench
from supplyline.bench.mqtt_bench import run_mqtt_bench
from supplyline.bench.rules_bench import run_rules_bench
from supplyline.bench.scoped_read_bench import run_scoped_read_bench
from supplyline.bench.trace_bench import run_trace_bench
from supplyline.bootstrap import Services
from supplyline.cli.common import console, err_console, print_json
from supplyline.console import built_views
from supplyline.demo.scene import DEMO_DEVICES, stage_scene

app = typer.Typer(help="Benchmarks.", no_args_is_help=True)


JsonFlag = Annotated[bool, typer.Option("--json", help="Print exactly one JSON object.")]


def _run(title: str, bench: Callable[[Path], Coroutine[Any, Any, dict[str, Any]]], json_: bool) -> None:
    """Run one benchmark in a fresh temporary directory and print its figures."""
    with tempfile.TemporaryDirectory(prefix="supplyline-bench-") as tmp:
        if json_:
            result = asyncio.run(bench(Path(tmp)))
        else:
            with err_console.status(f"Running the {title.lower()}..."):
                result = asyncio.run(bench(Path(tmp)))
    if json_:
        print_json(result)
        return
    console.print(_table(title, result))


@app.command("export")
def export_bench(json_: JsonFlag = False) -> None:
    """The Parquet export of readings (rows/s) against pyarrow writing the same rows."""
    _run("Export benchmark", run_export_bench, json_)


@app.command("import")
def import_bench(json_: JsonFlag = False) -> None:
    """Time a bulk import into a fresh SQLite database in a temporary directory."""
    _run("Import benchmark", run_import_bench, json_)


@app.command("ingest")
def ingest_bench(
    json_: JsonFlag = False,
    rounds: Annotated[int, typer.Option(help="Batches per gateway (10 gateways x 1,000 readings).")] = 30,
) -> None:
    """HTTP ingestion through the real server on SQLite against raw executemany (same run)."""
    _run("Ingest benchmark", lambda tmp: run_ingest_bench(tmp, rounds=rounds), json_)


@app.command("rules")
def rules_bench(
    json_: JsonFlag = False,
    # A phase of 60 rounds (600,000 readings) is timed over several seconds, and five pairs
    # let the median ride out a burst of noise on a shared machine.
    rounds: Annotated[int, typer.Option(help="Timed batches per gateway and phase.")] = 60,
    repeats: Annotated[int, typer.Option(help="Pairs of phases (without, with rules); the median.")] = 5,
) -> None:
    """Ingestion with 1,000 active rules across 10,000 devices against none (same run)."""
    _run("Rules benchmark", lambda tmp: run_rules_bench(tmp, rounds=rounds, repeats=repeats), json_)


@app.command("mqtt")
def mqtt_bench(json_: JsonFlag = False) -> None:
    """MQTT ingestion through the real bridge and Mosquitto (SUPPLYLINE_BENCH_MQTT_URL) on SQLite."""
    _run("MQTT benchmark", lambda tmp: run_mqtt_bench(tmp), json_)


@app.command("trace")
def trace_bench(
    json_: JsonFlag = False,
    events: Annotated[
        int, typer.Option(min=1000, help="Stored EPCIS events the five-hop traces run over.")
    ] = 1_000_000,
    capture_events: Annotated[
        int, typer.Option(min=100, help="Events captured (validated, hashed, stored).")
    ] = 20_000,
    leaves: Annotated[
        int, typer.Option(min=1000, help="Leaves of the ledger the proofs are taken on.")
    ] = 1_000_000,
) -> None:
    """EPCIS capture, ledger appends and proofs, and lineage traces on SQLite (a few minutes)."""
    _run(
        "Trace benchmark",
        lambda tmp: run_trace_bench(tmp, events=events, capture_events=capture_events, leaves=leaves),
        json_,
    )


@app.command("forecast")
def forecast_bench(
    json_: JsonFlag = False,
    series: Annotated[int, typer.Option(min=1, help="Daily series forecast (bulk profile).")] = 10_000,
    days: Annotated[int, typer.Option(min=60, help="Days of history per series.")] = 730,
    jobs: Annotated[
        int | None, typer.Option(min=1, help="Processes (default: 2, or the cores if fewer).")
    ] = None,
    requests: Annotated[
        int, typer.Option(min=0, help="Replenishment recommendations asked through the API (0: none).")
    ] = 2000,
) -> None:
    """Forecasts with 80% and 95% bands, 28 days ahead, for many synthetic daily series, and
    replenishment recommendations per second through the API."""

    def app(svc: Services) -> FastAPI:
        return create_app(svc, run_consumers=False)

    _run(
        "Forecast benchmark",
        lambda tmp: run_forecast_bench(
            tmp, series=series, days=days, app=app, requests=requests, n_jobs=jobs
        ),
        json_,
    )


@app.command("scoped-read")
def scoped_read_bench(
    json_: JsonFlag = False,
    rounds: Annotated[int, typer.Option(help="Timed rounds per caller (admin and partner alternate).")] = 60,
) -> None:
    """List and telemetry reads as a carrier partner against the same reads as the tenant admin."""

    def app(svc: Services) -> FastAPI:
        return create_app(svc, run_consumers=False)

    _run("Scoped read benchmark", lambda tmp: run_scoped_read_bench(tmp, app, rounds=rounds), json_)


@app.command("console")
def console_bench(
    json_: JsonFlag = False,
    devices: Annotated[
        int, typer.Option(min=DEMO_DEVICES, help="Devices in the demo tenant (its own and a fleet).")
    ] = 10_000,
    rounds: Annotated[int, typer.Option(min=1, help="Timed loads of every view.")] = 30,
    warmup: Annotated[int, typer.Option(min=0, help="Untimed rounds first.")] = 2,
) -> None:
    """Load every console view as the demo's people (HTML and its /v1 calls) through the real
    server, on the demo tenant with a fleet of devices: p50/p95 per view against 300 ms."""
    views = built_views()
    if not views:
        err_console.print("The console is not built: run `make console` first.")
        raise typer.Exit(1)
    _run(
        "Console benchmark",
        lambda tmp: run_console_bench(tmp, _stage, views, devices=devices, rounds=rounds, warmup=warmup),
        json_,
    )


async def _stage(svc: Services, data_dir: Path, devices: int) -> Staged:
    """The demo tenant after its excursion, with a fleet making ``devices`` in all."""
    scene = await stage_scene(svc, data_dir, extra_devices=devices - DEMO_DEVICES)
    return Staged(
        tenant=scene.info.slug,
        logins={role: (p.email, p.password) for role, p in scene.logins.items()},
        params={
            "planning": {"product": scene.ids["product"], "site": scene.ids["site"]},
            "shipment": {"id": scene.ids["shipment"]},
            "lineage": {"lot": scene.ids["lot"]},
        },
        devices=scene.devices,
        alarms=scene.alarms,
    )


def _table(title: str, result: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("measure", style="bold")
    table.add_column("value", justify="right")
    for key, value in _flat(result):
        table.add_row(escape(key), escape(_fmt(value)))
    return table


def _flat(result: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested figures (per query) as dotted rows: ``queries.events.ratio``."""
    rows: list[tuple[str, Any]] = []
    for key, value in result.items():
        if isinstance(value, dict):
            rows += _flat(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
