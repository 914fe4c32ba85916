"""``supplyline serve`` and ``supplyline demo``: check the schema, then run the API under uvicorn.

The server is started with the app factory (``supplyline.api.app:serve_app``), which reads the
same SUPPLYLINE_* environment as this process, so the CLI and the server agree on settings.
"""

from __future__ import annotations

import gc
import socket
import time
from typing import Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from supplyline.cli.common import (
    CliError,
    base_url,
    check_schema,
    configure_logging,
    console,
    embedded,
    fail,
    load_settings,
    open_services,
    run,
)
from supplyline.cli.compactor import compactor_process, workers_process
from supplyline.cli.demo_loop import EXIT_AFTER_LOOP_ENV, LOOP_BUDGET_S, LoopPlan, pick_port, run_loop
from supplyline.demo import CREDENTIALS_FILE, DemoInfo, demo_api_key, seed_demo
from supplyline.settings import Settings

APP_FACTORY = "supplyline.api.app:serve_app"


def _port_free(host: str, port: int) -> bool:
    """Ask the OS before uvicorn does, so a busy port gets a sentence rather than a log line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def ensure_port(host: str, port: int) -> None:
    if not _port_free(host, port):
        fail(f"cannot listen on {host}:{port}: the address is in use; set SUPPLYLINE_PORT or pass --port.")


def start_server(settings: Settings, host: str, port: int) -> None:
    """Run uvicorn in the foreground until Ctrl-C or SIGTERM."""
    import uvicorn  # imported here: only these two commands need it

    # uvicorn configures only its own loggers.
    configure_logging(settings)
    # Ingestion allocates many short-lived objects per batch; with the default thresholds the
    # cyclic collector runs every 700 allocations and rescans everything loaded at start-up.
    # Freezing start-up objects and collecting young objects less often halves its cost.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)

    with compactor_process(settings), workers_process(settings):
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=host,
            port=port,
            log_level=settings.log_level.lower(),
            access_log=settings.access_log,
            proxy_headers=False,
        )


def prepare_database(settings: Settings) -> str | None:
    """Schema at head or refuse; only the embedded SQLite default is upgraded on its own."""

    async def main() -> str | None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        async with open_services(settings) as services:
            return await check_schema(services, auto_upgrade=embedded(settings))

    return run(main)


HostOpt = Annotated[str | None, typer.Option(help="Interface to bind (default: SUPPLYLINE_HOST).")]
PortOpt = Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default: SUPPLYLINE_PORT).")]


def serve(host: HostOpt = None, port: PortOpt = None) -> None:
    """Serve the HTTP API (and run the event consumers) until interrupted."""
    settings = load_settings()
    host, port = host or settings.host, port or settings.port
    ensure_port(host, port)
    upgraded = prepare_database(settings)
    if upgraded:
        console.print(upgraded, highlight=False)
    url = base_url(settings.model_copy(update={"host": host, "port": port}))
    console.print(f"Serving supplyline at [bold]{url}[/] (API docs at {url}/docs); Ctrl-C stops it.")
    start_server(settings, host, port)


def demo(
    host: HostOpt = None,
    port: PortOpt = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Seed and print the key, then exit.")] = False,
    loop: Annotated[
        bool,
        typer.Option(
            "--loop/--no-loop",
            help="Also run the mock ERP and the fleet simulator, and tell the story of one complete "
            "cold-chain loop as it happens (what 'make demo' runs).",
        ),
    ] = False,
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            envvar=EXIT_AFTER_LOOP_ENV,
            help="With --loop: exit 0 after the first complete loop, or 1 with the reason after "
            f"{LOOP_BUDGET_S:g} s without one.",
        ),
    ] = False,
    erp_port: Annotated[
        int, typer.Option(min=1, max=65535, help="With --loop: the mock ERP's port (another if busy).")
    ] = 8070,
) -> None:
    """Set up a local database, seed a demo tenant (once), and serve the API with its key."""
    started = time.monotonic()
    settings = load_settings()
    loop = loop and not no_serve
    host = host or settings.host
    # The story needs a server, not this port: --loop takes another one if it is busy.
    port = port or (pick_port(host, settings.port) if loop else settings.port)
    if not no_serve:
        ensure_port(host, port)
    upgraded = prepare_database(settings)
    if upgraded:
        console.print(upgraded, highlight=False)
    credentials = settings.data_dir / CREDENTIALS_FILE

    async def main() -> tuple[DemoInfo, str]:
        async with open_services(settings) as services:
            info = await seed_demo(services)
            try:
                return info, await demo_api_key(services, info, credentials)
            except OSError as exc:
                raise CliError(f"cannot save the demo credentials in {credentials}: {exc}") from None

    info, token = run(main)
    url = base_url(settings.model_copy(update={"host": host, "port": port}))
    if loop:
        what = "Seeded" if info.created else "Reusing"
        console.print(
            f"{what} the demo tenant {escape(info.name)} ({info.slug}, {sum(info.counts.values())} records) "
            f"in {escape(str(settings.data_dir))}.",
            highlight=False,
        )
        plan = LoopPlan(settings.data_dir, host, port, pick_port("127.0.0.1", erp_port), token, once, started)
        run_loop(plan)
        return
    _show_demo(info, token, url, str(credentials))
    if not no_serve:
        start_server(settings, host, port)


def _show_demo(info: DemoInfo, token: str, url: str, credentials: str) -> None:
    what = "Seeded" if info.created else "Reusing"
    records = sum(info.counts.values())
    grid = Table.grid(padding=(0, 2))
    grid.add_row("Tenant", escape(f"{info.name} ({info.slug}), {records} records"))
    grid.add_row("API", f"{url}/v1  (docs: {url}/docs)")
    grid.add_row("API key", f"[bold]{token}[/]")
    grid.add_row("Saved in", escape(credentials))
    console.print(Panel.fit(grid, title=f"{what} the demo tenant"), soft_wrap=True)
    console.print("Try it:", style="bold")
    console.print(
        f"  curl -s -H 'Authorization: Bearer {token}' '{url}/v1/shipments'",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
