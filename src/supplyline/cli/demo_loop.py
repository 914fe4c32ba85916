"""``supplyline demo --loop`` (what ``make demo`` runs): the whole cold-chain loop, told live.

It starts the mock ERP and the API server (``supplyline serve`` with SUPPLYLINE_ERP_URL on the
mock) as child processes on the same data dir, waits until both answer, then runs the fleet
simulator in this process and tells the story of the first complete loop as ``sim.story.Story``
sees it through the API and the ERP. Then it keeps everything running until Ctrl-C; with
``--once`` (or SUPPLYLINE_DEMO_EXIT_AFTER_LOOP=1) it exits 0 after the loop, or 1 with what was
missing after ``LOOP_BUDGET_S``. The children get their own session (Ctrl-C reaches this
process, which stops them in order) and, on Linux, SIGTERM if this process dies without
stopping them, so none is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from supplyline.cli.common import CliError, console, run, stop_on_signals
from supplyline.cli.compactor import _die_with_parent
from supplyline.sim import Published, SimConfig, SimSummary, SimulationError, run_simulation
from supplyline.sim.story import Beat, Story

LOOP_BUDGET_S = 120.0
READY_WITHIN_S = 60.0
EXIT_AFTER_LOOP_ENV = "SUPPLYLINE_DEMO_EXIT_AFTER_LOOP"
SHIPMENT = "SHP-1001"
COLOURS = ("cyan", "magenta", "red", "yellow", "green", "blue")


@dataclass(frozen=True)
class LoopPlan:
    data_dir: Path
    host: str
    port: int
    erp_port: int
    token: str
    once: bool
    started: float  # time.monotonic() when the command began: the loop's time counts from there

    @property
    def api_url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def erp_url(self) -> str:
        return f"http://127.0.0.1:{self.erp_port}"


def pick_port(host: str, preferred: int) -> int:
    """``preferred`` if it is free, else one the OS hands out."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in (preferred, 0):
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise CliError(f"no free port to listen on {host}")


# ---- child processes -------------------------------------------------------------------------


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    out: IO[bytes]

    def tail(self, lines: int = 8) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Children:
    """``python -m supplyline ...`` children, stopped in reverse order of starting."""

    def __init__(self) -> None:
        self.items: list[Child] = []

    def start(self, name: str, argv: list[str], log: Path, env: dict[str, str]) -> Child:
        out = log.open("wb")
        # Popen from the main thread: PR_SET_PDEATHSIG follows the thread that forked.
        proc = subprocess.Popen(  # noqa: S603 - our own command lines (see supplyline_argv)
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        child = Child(name, proc, log, out)
        self.items.append(child)
        return child

    def dead(self) -> Child | None:
        return next((c for c in self.items if c.proc.poll() is not None), None)

    def stop(self) -> None:
        for child in reversed(self.items):
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
                try:
                    child.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.proc.kill()
                    child.proc.wait()
            child.out.close()
        self.items.clear()


def supplyline_argv(*args: str) -> list[str]:
    """``python -m supplyline ...`` with this interpreter (the venv's, as `make demo` runs)."""
    return [sys.executable, "-m", "supplyline", *args]


@contextlib.contextmanager
def children() -> Iterator[Children]:
    kids = Children()
    try:
        yield kids
    finally:
        kids.stop()


def run_loop(plan: LoopPlan) -> None:
    """Start the ERP and the server, tell the story, serve until Ctrl-C (or exit with --once)."""
    env = {**os.environ, "SUPPLYLINE_DATA_DIR": str(plan.data_dir)}
    with children() as kids:
        erp = kids.start(
            "mock ERP",
            supplyline_argv(
                "mock-erp", "--port", str(plan.erp_port), "--state-file", str(plan.data_dir / "mock-erp.json")
            ),
            plan.data_dir / "demo-mock-erp.log",
            env,
        )
        server_env = {**env, "SUPPLYLINE_ERP_URL": plan.erp_url, "SUPPLYLINE_ACCESS_LOG": "false"}
        server = kids.start(
            "API server",
            supplyline_argv("serve", "--host", plan.host, "--port", str(plan.port)),
            plan.data_dir / "demo-server.log",
            server_env,
        )
        console.print(
            f"Started the mock ERP at {plan.erp_url}/erp/v1 (pid {erp.proc.pid}) and the API server at "
            f"{plan.api_url} (pid {server.proc.pid}, ERP messages to the mock); logs in "
            f"{escape(str(plan.data_dir))}/demo-*.log.",
            highlight=False,
        )
        run(lambda: _tell(plan, kids, plan.started))


async def _ready(kids: Children, api: httpx.AsyncClient, erp: httpx.AsyncClient, stop: asyncio.Event) -> bool:
    """True once both answer; False if stopped (Ctrl-C) before."""
    deadline = time.monotonic() + READY_WITHIN_S
    waiting = {"API server": (api, "/readyz"), "mock ERP": (erp, "/erp/v1/health")}
    while waiting:
        if stop.is_set():
            return False
        _check_alive(kids)
        for name, (client, path) in list(waiting.items()):
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(path)).status_code == 200:
                    del waiting[name]
        if time.monotonic() > deadline:
            raise CliError(f"the {' and the '.join(waiting)} did not answer within {READY_WITHIN_S:g} s")
        await asyncio.sleep(0.2)
    return True


def _check_alive(kids: Children) -> None:
    dead = kids.dead()
    if dead is not None:
        code = dead.proc.returncode
        raise CliError(f"the {dead.name} stopped (exit code {code}); the end of {dead.log}:\n{dead.tail()}")


async def _tell(plan: LoopPlan, kids: Children, started: float) -> None:
    stop = stop_on_signals()
    async with (
        httpx.AsyncClient(base_url=plan.api_url, timeout=10.0) as api,
        httpx.AsyncClient(base_url=plan.erp_url, timeout=5.0) as erp,
    ):
        if not await _ready(kids, api, erp, stop):
            console.print("Stopped.")
            return
        console.print(f"Both answer ({time.monotonic() - started:.1f} s after start).", highlight=False)
        story = Story(api, erp, plan.token, shipment=SHIPMENT)
        try:
            for note in await story.prepare():
                console.print(f"[dim]{escape(note)}[/]", highlight=False)
        except SimulationError as exc:
            raise CliError(str(exc)) from None
        config = SimConfig(api_url=plan.api_url, api_key=plan.token, duration_s=None, fail=SHIPMENT)
        sim_stop = asyncio.Event()
        sim = asyncio.create_task(run_simulation(config, sim_stop, _show_notes, on_ready=_show_plan))
        try:
            await _watch(plan, kids, story, sim, stop, started)
            if story.complete and not plan.once:
                console.print(
                    "Serving, with the fleet still publishing; Ctrl-C stops the simulator, the server and "
                    "the mock ERP.",
                    highlight=False,
                )
                while not stop.is_set():
                    _check_alive(kids)
                    _check_sim(sim)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 1.0)
        finally:
            sim_stop.set()
            with contextlib.suppress(Exception):
                await sim
    if stop.is_set():
        console.print("Stopped.")


async def _watch(
    plan: LoopPlan,
    kids: Children,
    story: Story,
    sim: asyncio.Task[SimSummary],
    stop: asyncio.Event,
    t0: float,
) -> None:
    """Poll until the loop is complete, Ctrl-C, or (with --once) the budget is spent."""
    deadline = t0 + LOOP_BUDGET_S
    warned, last_error = False, ""
    while not stop.is_set():
        try:
            for beat in await story.poll():
                _show_beat(beat)
        except SimulationError as exc:
            last_error = str(exc)  # a busy moment of the server; the next poll tries again
        if story.complete:
            _show_end(plan, story, time.monotonic() - t0)
            return
        _check_alive(kids)
        _check_sim(sim)
        if time.monotonic() > deadline and not warned:
            reason = f"no complete loop within {LOOP_BUDGET_S:g} s: {story.missing()}"
            if last_error:
                reason += f" (last error: {last_error})"
            if plan.once:
                raise CliError(reason)
            console.print(f"[yellow]{escape(reason)}[/]; still watching.", highlight=False)
            warned = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


def _check_sim(sim: asyncio.Task[SimSummary]) -> None:
    if sim.done():
        exc = sim.exception()
        raise CliError(f"the simulator stopped: {exc}" if exc else "the simulator stopped")


# ---- what the terminal shows -----------------------------------------------------------------


def _clock(sim_s: float) -> str:
    s = round(sim_s)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _show_plan(s: SimSummary) -> None:
    console.print(
        f"Simulating {escape(', '.join(s.units))} at 60x (a simulated minute per second).", highlight=False
    )
    if s.failing is not None and s.fails_at_s is not None:
        console.print(
            f"The compressor of [bold]{escape(s.failing)}[/] fails at {_clock(s.fails_at_s)} simulated "
            f"(in {s.fails_at_s / 60:.0f} s); its trailer then warms past 8 C.",
            highlight=False,
        )


def _show_notes(p: Published) -> None:
    for n in p.notes:
        console.print(f"[dim]  {_clock(n.t)} sim  {escape(n.unit)}: {escape(n.text)}[/]", highlight=False)


def _show_beat(beat: Beat) -> None:
    colour = COLOURS[(beat.step - 1) % len(COLOURS)]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, text in beat.rows:
        grid.add_row(escape(label), escape(text))
    title = f"[bold {colour}]{beat.step}/6 {escape(beat.title)}[/]"
    console.print(
        Panel(grid, title=title, title_align="left", subtitle=f"+{beat.at_s:.1f} s", border_style=colour)
    )


def _show_end(plan: LoopPlan, story: Story, elapsed: float) -> None:
    cid = story.correlation_id or ""
    auth = f"-H 'Authorization: Bearer {plan.token}'"
    lines = [
        f"curl -s {auth} '{plan.api_url}/v1/events?correlation_id={cid}'",
        f"curl -s {auth} '{plan.api_url}/v1/alarms?active=true'",
        f"curl -s {auth} '{plan.api_url}/v1/holds?status=active'",
        f"curl -s {auth} '{plan.api_url}/v1/ledger/verify'",
        f"curl -s {auth} '{plan.api_url}/v1/deliveries'",
        f"curl -s '{plan.erp_url}/erp/v1/allocations'",
    ]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("API", f"{plan.api_url}/v1  (docs: {plan.api_url}/docs)")
    grid.add_row("API key", plan.token)
    grid.add_row("Mock ERP", f"{plan.erp_url}/erp/v1")
    grid.add_row("Correlation", cid)
    console.print(
        Panel.fit(grid, title=f"[bold green]A complete loop, {elapsed:.1f} s after start[/]"),
        soft_wrap=True,
    )
    console.print("See it in the API:", style="bold")
    for line in lines:
        console.print(f"  {line}", soft_wrap=True, highlight=False, markup=False)
