"""``supplyline demo``: the demo tenant, and with ``--loop`` one cold-chain loop told live.

A thin layer over ``supplyline.demo``: options, ports and the schema here; the seeding, the
child processes, the story and what the terminal shows there.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from supplyline.cli.common import (
    CliError,
    base_url,
    console,
    fail,
    load_settings,
    open_services,
    run,
    stop_on_signals,
)
from supplyline.cli.serve import HostOpt, PortOpt, ensure_port, prepare_database, start_server
from supplyline.demo import (
    EXIT_AFTER_LOOP_ENV,
    LOOP_BUDGET_S,
    Children,
    DemoError,
    DemoInfo,
    DemoLogin,
    LoopPlan,
    Narrator,
    credentials_path,
    ready_logins,
    ready_tenant,
    started,
    tell,
)
from supplyline.kernel.host import pick_port
from supplyline.settings import Settings
from supplyline.sim import MOCK_ERP_PORT

LoopOpt = Annotated[
    bool,
    typer.Option(
        "--loop/--no-loop",
        help="Also run the mock ERP and the fleet simulator, and tell the story of one complete "
        "cold-chain loop as it happens (what 'make demo' runs).",
    ),
]
OnceOpt = Annotated[
    bool,
    typer.Option(
        "--once",
        envvar=EXIT_AFTER_LOOP_ENV,
        help="With --loop: exit 0 after the first complete loop, or 1 with the reason after "
        f"{LOOP_BUDGET_S:g} s without one.",
    ),
]
ErpPortOpt = Annotated[
    int, typer.Option(min=1, max=65535, help="With --loop: the mock ERP's port (another if busy).")
]


def demo(
    host: HostOpt = None,
    port: PortOpt = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Seed and print the key, then exit.")] = False,
    loop: LoopOpt = False,
    once: OnceOpt = False,
    erp_port: ErpPortOpt = MOCK_ERP_PORT,
) -> None:
    """Set up a local database, seed a demo tenant (once), and serve the API with its key."""
    began = time.monotonic()
    settings = load_settings()
    loop = loop and not no_serve
    host = host or settings.host
    # The story needs a server, not this port: --loop takes another one if it is busy.
    port = port or (_free_port(host, settings.port) if loop else settings.port)
    if not no_serve:
        ensure_port(host, port)
    upgraded = prepare_database(settings)
    if upgraded:
        console.print(upgraded, highlight=False)
    info, token, logins = run(lambda: _tenant(settings))
    say = Narrator(console)
    url = base_url(settings.model_copy(update={"host": host, "port": port}))
    if loop:
        say.seeded(info, settings.data_dir)
        say.console_logins(url, logins)
        plan = LoopPlan(settings.data_dir, host, port, _free_port("127.0.0.1", erp_port), token, once, began)
        with started(plan, say) as kids:
            run(lambda: _tell(plan, kids, say))
        return
    say.tenant(info, token, url, credentials_path(settings.data_dir))
    say.console_logins(url, logins)
    if not no_serve:
        start_server(settings, host, port)


def _free_port(host: str, preferred: int) -> int:
    port = pick_port(host, preferred)
    if port is None:
        fail(f"no free port to listen on {host}")
    return port


async def _tenant(settings: Settings) -> tuple[DemoInfo, str, list[DemoLogin]]:
    async with open_services(settings) as services:
        try:
            info, token = await ready_tenant(services, settings.data_dir)
            return info, token, await ready_logins(services, info, settings.data_dir)
        except DemoError as exc:
            raise CliError(str(exc)) from None


async def _tell(plan: LoopPlan, kids: Children, say: Narrator) -> None:
    try:
        await tell(plan, kids, stop_on_signals(), say)
    except DemoError as exc:
        raise CliError(str(exc)) from None
