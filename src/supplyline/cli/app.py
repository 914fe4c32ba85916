"""The ``supplyline`` command: one typer app assembled from a module per area.

Every command reads ``Settings()`` (SUPPLYLINE_* variables), talks to the same use cases the
API calls, and reports mistakes as a sentence with exit code 1.
"""

from __future__ import annotations

import typer

from supplyline import __version__
from supplyline.cli import (
    admin,
    bench,
    compactor,
    db,
    demo,
    epcis,
    events,
    export,
    forecast,
    governance,
    imports,
    kpi,
    ledger,
    mqtt,
    plan,
    screens,
    serve,
    sim,
    trace,
)

app = typer.Typer(
    name="supplyline",
    help="Supply-chain IoT platform: serve the API, migrate the database, administer tenants.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    # A bug's traceback must never print local variables: they can hold API keys.
    pretty_exceptions_show_locals=False,
)
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("import")(imports.import_file)
app.command("mqtt-bridge")(mqtt.mqtt_bridge)
app.command("compactor")(compactor.compactor)
app.command("workers")(compactor.workers)
app.command("simulate")(sim.simulate)
app.command("mock-erp")(sim.mock_erp)
app.command("kpi")(kpi.kpi)
app.add_typer(db.app, name="db")
app.add_typer(admin.app, name="admin")
app.add_typer(events.app, name="events")
app.add_typer(export.app, name="export")
app.add_typer(ledger.app, name="ledger")
app.add_typer(epcis.app, name="epcis")
app.add_typer(trace.app, name="trace")
app.add_typer(governance.app, name="governance")
app.add_typer(bench.app, name="bench")
app.add_typer(screens.app, name="console")
app.add_typer(plan.app, name="plan")
app.add_typer(forecast.app, name="forecast")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"supplyline {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Supply-chain IoT platform. Configure with SUPPLYLINE_* environment variables."""


def main() -> None:
    """Console-script entry point (``supplyline``) and ``python -m supplyline``."""
    app()
