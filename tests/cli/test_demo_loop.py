"""``supplyline demo --loop``'s parts that need no two-minute run: ports, children that stop or
die, and the once-mode verdict when no loop completes in time (the loop itself is told against
the real consumers in tests/sim/test_story.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
import typer

from supplyline.cli import demo_loop
from supplyline.cli.app import app
from supplyline.cli.common import CliError
from supplyline.cli.demo_loop import Children, LoopPlan, _check_alive, _watch, pick_port, supplyline_argv
from supplyline.sim.story import Beat


def test_a_busy_port_is_replaced_by_a_free_one() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        other = pick_port("127.0.0.1", taken)
        assert other != taken
    assert pick_port("127.0.0.1", other) == other


def test_a_child_that_dies_is_reported_with_the_end_of_its_log(tmp_path: Path) -> None:
    kids = Children()
    try:
        argv = supplyline_argv("mock-erp", "--port", "0")
        child = kids.start("mock ERP", argv, tmp_path / "erp.log", dict(os.environ))
        child.proc.wait(timeout=60)
        with pytest.raises(CliError, match=r"the mock ERP stopped \(exit code 2\)") as caught:
            _check_alive(kids)
        assert "--port" in str(caught.value)  # typer's complaint, from the log
    finally:
        kids.stop()


def test_children_are_stopped_in_their_own_session_and_their_logs_closed(tmp_path: Path) -> None:
    kids = Children()
    sleeper = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]
    child = kids.start("sleeper", sleeper, tmp_path / "s.log", dict(os.environ))
    assert os.getsid(child.proc.pid) != os.getsid(0)  # Ctrl-C reaches the demo, which stops it
    started = time.monotonic()
    kids.stop()
    assert child.proc.returncode == -signal.SIGTERM and time.monotonic() - started < 10
    assert child.out.closed and kids.items == []


class Stalled:
    """A story in which nothing ever happens."""

    complete = False
    correlation_id = None

    async def poll(self) -> list[Beat]:
        return []

    def missing(self) -> str:
        return "no reading has crossed the rule's threshold yet (rule.condition_raised)"


def _plan(once: bool) -> LoopPlan:
    return LoopPlan(Path("."), "127.0.0.1", 8000, 8070, "sl_key", once, time.monotonic())


async def _never() -> None:
    await asyncio.Event().wait()


async def test_once_mode_fails_with_what_is_missing_when_the_budget_is_spent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(demo_loop, "LOOP_BUDGET_S", 0.3)
    sim = asyncio.create_task(_never())
    try:
        with pytest.raises(CliError, match=r"no complete loop within 0.3 s: no reading has crossed"):
            await _watch(_plan(True), Children(), Stalled(), sim, asyncio.Event(), time.monotonic())  # type: ignore[arg-type]
    finally:
        sim.cancel()


async def test_without_once_it_warns_and_keeps_watching_until_stopped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo_loop, "LOOP_BUDGET_S", 0.2)
    sim = asyncio.create_task(_never())
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(1.0, stop.set)
    try:
        await _watch(_plan(False), Children(), Stalled(), sim, stop, time.monotonic())  # type: ignore[arg-type]
    finally:
        sim.cancel()
    out = capsys.readouterr().out
    assert out.count("no complete loop within 0.2 s") == 1 and "still watching" in out


def test_demo_offers_the_loop_and_the_once_switch() -> None:
    group = typer.main.get_command(app)
    params = {p.name: p for p in group.commands["demo"].params}  # type: ignore[attr-defined]
    assert params["loop"].opts == ["--loop"] and params["loop"].secondary_opts == ["--no-loop"]
    assert params["once"].envvar == "SUPPLYLINE_DEMO_EXIT_AFTER_LOOP"
