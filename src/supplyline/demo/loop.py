"""``supplyline demo --loop`` (what ``make demo`` runs): the whole cold-chain loop, told live.

``started`` runs the mock ERP and the API server (``supplyline serve`` with SUPPLYLINE_ERP_URL
on the mock) as child processes on the same data dir; ``tell`` waits until both answer, runs
the fleet simulator in this process and tells the story of the first complete loop as
``Story`` sees it through the API and the ERP. Then it keeps everything running until stopped;
with ``plan.once`` it returns after the loop, or raises DemoError with what was missing once
``plan.budget_s`` is spent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from supplyline.demo.children import Children, check_alive, children, supplyline_argv
from supplyline.demo.facts import ERP_LOG, ERP_STATE_FILE, SERVER_LOG, SHIPMENT, SPEED
from supplyline.demo.narrate import Narrator
from supplyline.demo.story import STEPS, DemoError, Story
from supplyline.sim import SimConfig, SimSummary, run_simulation

LOOP_BUDGET_S = 120.0
READY_WITHIN_S = 60.0
EXIT_AFTER_LOOP_ENV = "SUPPLYLINE_DEMO_EXIT_AFTER_LOOP"


@dataclass(frozen=True)
class LoopPlan:
    data_dir: Path
    host: str
    port: int
    erp_port: int
    token: str
    once: bool
    started: float  # time.monotonic() when the command began: the loop's time counts from there
    budget_s: float = LOOP_BUDGET_S  # a complete loop is due within this many seconds of it

    @property
    def api_url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def erp_url(self) -> str:
        return f"http://127.0.0.1:{self.erp_port}"


@contextlib.contextmanager
def started(plan: LoopPlan, say: Narrator) -> Iterator[Children]:
    """The mock ERP and the API server, running until the block ends (then stopped in order).

    Not async: PR_SET_PDEATHSIG follows the thread that forked, so they start from this one."""
    env = {**os.environ, "SUPPLYLINE_DATA_DIR": str(plan.data_dir)}
    with children() as kids:
        erp_state = str(plan.data_dir / ERP_STATE_FILE)
        erp = kids.start(
            "mock ERP",
            supplyline_argv("mock-erp", "--port", str(plan.erp_port), "--state-file", erp_state),
            plan.data_dir / ERP_LOG,
            env,
        )
        server_env = {**env, "SUPPLYLINE_ERP_URL": plan.erp_url, "SUPPLYLINE_ACCESS_LOG": "false"}
        server = kids.start(
            "API server",
            supplyline_argv("serve", "--host", plan.host, "--port", str(plan.port)),
            plan.data_dir / SERVER_LOG,
            server_env,
        )
        say.started(plan.erp_url, erp.proc.pid, plan.api_url, server.proc.pid, plan.data_dir)
        yield kids


async def tell(plan: LoopPlan, kids: Children, stop: asyncio.Event, say: Narrator) -> None:
    """Tell one complete loop, then serve until ``stop`` (with ``plan.once``: return)."""
    async with (
        httpx.AsyncClient(base_url=plan.api_url, timeout=10.0) as api,
        httpx.AsyncClient(base_url=plan.erp_url, timeout=5.0) as erp,
    ):
        if not await _ready(kids, api, erp, stop):
            say.stopped()
            return
        say.ready(time.monotonic() - plan.started)
        story = Story(api, erp, plan.token)
        for note in await story.prepare():
            say.aside(note)
        config = SimConfig(plan.api_url, plan.token, speed=SPEED, duration_s=None, fail=SHIPMENT)
        sim_stop = asyncio.Event()
        sim = asyncio.create_task(run_simulation(config, sim_stop, say.published, on_ready=say.simulating))
        try:
            await watch(plan, kids, story, sim, stop, say)
            if story.complete and not plan.once:
                say.serving()
                while not stop.is_set():
                    check_alive(kids)
                    _check_sim(sim)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 1.0)
        finally:
            sim_stop.set()
            with contextlib.suppress(Exception):
                await sim
    if stop.is_set():
        say.stopped()


async def _ready(kids: Children, api: httpx.AsyncClient, erp: httpx.AsyncClient, stop: asyncio.Event) -> bool:
    """True once both answer; False if stopped (Ctrl-C) before."""
    deadline = time.monotonic() + READY_WITHIN_S
    waiting = {"API server": (api, "/readyz"), "mock ERP": (erp, "/erp/v1/health")}
    while waiting:
        if stop.is_set():
            return False
        check_alive(kids)
        for name, (client, path) in list(waiting.items()):
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(path)).status_code == 200:
                    del waiting[name]
        if time.monotonic() > deadline:
            raise DemoError(f"the {' and the '.join(waiting)} did not answer within {READY_WITHIN_S:g} s")
        await asyncio.sleep(0.2)
    return True


async def watch(
    plan: LoopPlan,
    kids: Children,
    story: Story,
    sim: asyncio.Task[SimSummary],
    stop: asyncio.Event,
    say: Narrator,
) -> None:
    """Poll until the loop is complete, ``stop``, or (with ``plan.once``) the budget is spent."""
    deadline = plan.started + plan.budget_s
    warned, last_error = False, ""
    while not stop.is_set():
        try:
            for beat in await story.poll():
                say.beat(beat, len(STEPS))
        except DemoError as exc:
            last_error = str(exc)  # a busy moment of the server; the next poll tries again
        if story.complete:
            say.complete(story, plan.api_url, plan.erp_url, plan.token, time.monotonic() - plan.started)
            return
        check_alive(kids)
        _check_sim(sim)
        if time.monotonic() > deadline and not warned:
            reason = f"no complete loop within {plan.budget_s:g} s: {story.missing()}"
            if last_error:
                reason += f" (last error: {last_error})"
            if plan.once:
                raise DemoError(reason)
            say.late(reason)
            warned = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


def _check_sim(sim: asyncio.Task[SimSummary]) -> None:
    if sim.done():
        exc = sim.exception()
        raise DemoError(f"the simulator stopped: {exc}" if exc else "the simulator stopped")
