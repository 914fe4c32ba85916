"""``supplyline serve``: check the schema, then run the API under uvicorn (``demo`` does too).

The server is started with the app factory (``supplyline.console:serve_app``: the API and the
console), which reads the same SUPPLYLINE_* environment as this process, so the CLI and the
server agree on settings.
"""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from supplyline.cli.common import (
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
from supplyline.kernel.host import port_free
from supplyline.settings import Settings

APP_FACTORY = "supplyline.console:serve_app"


def ensure_port(host: str, port: int) -> None:
    """Ask the OS before uvicorn does, so a busy port gets a sentence rather than a log line."""
    if not port_free(host, port):
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
    console.print(
        f"Serving supplyline at [bold]{url}[/] (the console at {url}/, API docs at {url}/docs); "
        "Ctrl-C stops it."
    )
    start_server(settings, host, port)
