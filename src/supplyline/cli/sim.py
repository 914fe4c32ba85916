"""``supplyline simulate`` (the gateway and fleet simulator) and ``supplyline mock-erp``.

The simulator is a client of the platform like any device fleet: it needs the API's URL and a
tenant API key (operator or admin, to issue device credentials). Without ``--api-key`` it takes
the demo tenant's key that ``supplyline demo`` saved in the data dir.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from supplyline.cli.common import CliError, base_url, console, fail, load_settings, run, stop_on_signals
from supplyline.cli.serve import ensure_port
from supplyline.demo import saved_credentials
from supplyline.settings import Settings
from supplyline.sim import (
    MOCK_ERP_PORT,
    ErpState,
    Note,
    Published,
    SimConfig,
    SimSummary,
    SimulationError,
    create_mock_erp,
    run_simulation,
    sim_clock,
)


class Transport(StrEnum):
    http = "http"
    mqtt = "mqtt"


class ScenarioName(StrEnum):  # the names of sim.plan.SCENARIOS (a test keeps them in step)
    cold_chain = "cold-chain"
    steady = "steady"


def _note_line(n: Note) -> str:
    return f"[dim]{sim_clock(n.t)}[/] [bold]{escape(n.unit)}[/]: {escape(n.text)}"


def _message_line(p: Published) -> str:
    shown = []
    for r in p.readings[-3:]:
        values = " ".join(
            f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in r["metrics"].items()
        )
        shown.append(f"{r['device']} {values}")
    n = len(p.readings)
    state = "" if p.delivered else "[red]not delivered[/] "
    return (
        f"[dim]{sim_clock(p.sim_s)}[/] {escape(p.sender)} {p.transport} {n} reading{'s' * (n != 1)} "
        f"{state}({escape(p.detail)}): {escape('; '.join(shown))}"
    )


def _show_plan(s: SimSummary, config: SimConfig) -> None:
    how = "until Ctrl-C" if config.duration_s is None else f"for {config.duration_s:g} s"
    console.print(
        f"Simulating {len(s.units)} unit(s) ({escape(', '.join(s.units))}) through {len(s.senders)} "
        f"sender(s) over {config.transport} at {config.speed:g}x {how} "
        f"(scenario {config.scenario}, seed {config.seed}).",
        highlight=False,
    )
    if s.failing is not None and s.fails_at_s is not None:
        console.print(
            f"The compressor of [bold]{escape(s.failing)}[/] fails at {sim_clock(s.fails_at_s)} simulated "
            f"({s.fails_at_s / config.speed:.0f} s from now).",
            highlight=False,
        )
    for code, why in s.skipped.items():
        console.print(f"  not simulated: {escape(code)} ({escape(why)})", highlight=False)


def simulate(
    api_url: Annotated[
        str | None,
        typer.Option(
            envvar="SUPPLYLINE_API_URL",
            help="The platform's base URL. Default: 'supplyline serve' here (SUPPLYLINE_HOST/PORT).",
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="SUPPLYLINE_API_KEY",
            help="A tenant API key (operator or admin). Default: the demo tenant's saved key.",
        ),
    ] = None,
    transport: Annotated[Transport, typer.Option(help="How devices publish.")] = Transport.http,
    mqtt_url: Annotated[
        str, typer.Option(envvar="SUPPLYLINE_MQTT_URL", help="The broker, with --transport mqtt.")
    ] = "mqtt://127.0.0.1:1883",
    tenant: Annotated[
        str | None,
        typer.Option(help="The tenant's slug, for MQTT topics. Default: the demo tenant's, with its key."),
    ] = None,
    speed: Annotated[float, typer.Option(min=0.001, help="Simulated seconds per wall second.")] = 60.0,
    duration: Annotated[float, typer.Option(min=0, help="Wall seconds to run; 0 runs until Ctrl-C.")] = 120.0,
    interval: Annotated[float, typer.Option(min=0.01, help="Wall seconds between two reports.")] = 1.0,
    seed: Annotated[int, typer.Option(help="The same seed tells the same story.")] = 7,
    scenario: Annotated[ScenarioName, typer.Option(help="What happens.")] = ScenarioName.cold_chain,
    fail_unit: Annotated[
        str | None,
        typer.Option(
            "--fail",
            help="Asset, device or shipment code whose reefer compressor fails (default: chosen).",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print a line per message.")] = False,
) -> None:
    """Simulate gateways and a fleet: trucks on their routes, reefers, cold rooms, doors, a failing
    compressor; publish signed readings to the platform over HTTP or MQTT."""
    if api_key is None:
        # The demo tenant's key and slug, if `supplyline demo` ran with this data dir.
        saved = saved_credentials(Settings().data_dir)
        if not saved:
            fail(
                "pass --api-key (or set SUPPLYLINE_API_KEY); 'supplyline demo' prints the demo tenant's key."
            )
        api_key, tenant = saved["api_key"], tenant or saved.get("tenant")
    config = SimConfig(
        api_url=api_url or base_url(load_settings()),
        api_key=api_key,
        transport=transport.value,
        mqtt_url=mqtt_url,
        tenant=tenant,
        speed=speed,
        duration_s=duration or None,
        interval_s=interval,
        seed=seed,
        scenario=scenario.value,
        fail=fail_unit,
    )

    def on_publish(p: Published) -> None:
        for n in p.notes:
            console.print(_note_line(n), highlight=False)
        if verbose:
            console.print(_message_line(p), highlight=False, soft_wrap=True)

    async def main() -> SimSummary:
        stop = stop_on_signals()
        try:
            return await run_simulation(config, stop, on_publish, on_ready=lambda s: _show_plan(s, config))
        except SimulationError as exc:
            raise CliError(str(exc)) from None

    s = run(main)
    counts = (
        f"{s.accepted} accepted, {s.duplicate} duplicate, {s.rejected} rejected; "
        if transport == "http"
        else ""
    )
    console.print(
        f"Simulated {sim_clock(s.sim_s)} in {s.ticks} ticks: {s.delivered}/{s.messages} messages delivered, "
        f"{s.readings} readings ({counts}{s.dropped} dropped).",
        highlight=False,
    )
    if s.messages and not s.delivered:
        fail(f"nothing was delivered; the last error: {s.last_error}")


def _erp_line(m: dict[str, Any]) -> str:
    body = m["message"]
    if m["type"] == "exception":
        shipment = (body.get("shipment") or {}).get("number", "-")
        what = f"shipment {shipment}, {len(body['lots'])} lot(s), {body['severity']}: {body['reason']}"
    elif m["type"] == "hold":
        lot = body["lot"]
        what = f"hold {lot['lot_code']} ({lot['sku']}) {body['quantity']:g} {body['unit']}: {body['reason']}"
    else:
        what = f"release {body['lot']['lot_code']}, approved by {body['approved_by']}"
    return f"[bold]{m['ack']}[/] {escape(what)}"


def mock_erp(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = MOCK_ERP_PORT,
    state_file: Annotated[
        Path | None, typer.Option(help="Keep the ERP's state in this JSON file across restarts.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="SUPPLYLINE_MOCK_ERP_TOKEN", help="Require Authorization: Bearer <token>."),
    ] = None,
) -> None:
    """Serve a small mock ERP that takes exception, hold and release messages at /erp/v1/messages."""
    import uvicorn  # only this command needs it

    ensure_port(host, port)
    try:
        state = ErpState.load(state_file) if state_file is not None else ErpState()
    except (OSError, ValueError, TypeError) as exc:
        fail(f"cannot read the ERP state in {state_file}: {exc}")
    app = create_mock_erp(
        state,
        state_file=state_file,
        token=token,
        on_message=lambda m: console.print(_erp_line(m), highlight=False, soft_wrap=True),
    )
    shown = f"[{host}]" if ":" in host else host
    console.print(
        f"Mock ERP at [bold]http://{shown}:{port}/erp/v1[/] (messages, allocations, health, _control); "
        "Ctrl-C stops it.",
        highlight=False,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
