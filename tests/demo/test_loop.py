"""``supplyline demo --loop``'s parts that need no two-minute run: children that stop or die,
and the once-mode verdict when no loop completes in time (the loop itself is told against the
real consumers in tests/demo/test_story.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from supplyline.demo import Beat, Children, DemoError, LoopPlan, Narrator
from supplyline.demo.children import check_alive, supplyline_argv
from supplyline.demo.loop import watch


def test_a_child_that_dies_is_reported_with_the_end_of_its_log(tmp_path: Path) -> None:
    kids = Children()
    try:
        argv = supplyline_argv("mock-erp", "--port", "0")
        child = kids.start("mock ERP", argv, tmp_path / "erp.log", dict(os.environ))
        child.proc.wait(timeout=60)
        with pytest.raises(DemoError, match=r"the mock ERP stopped \(exit code 2\)") as caught:
            check_alive(kids)
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


def _plan(once: bool, budget_s: float) -> LoopPlan:
    return LoopPlan(Path("."), "127.0.0.1", 8000, 8070, "sl_key", once, time.monotonic(), budget_s)


def _say() -> Narrator:
    return Narrator(Console())  # writes to sys.stdout when it prints, where capsys looks


async def _never() -> None:
    await asyncio.Event().wait()


async def test_once_mode_fails_with_what_is_missing_when_the_budget_is_spent() -> None:
    sim = asyncio.create_task(_never())
    try:
        with pytest.raises(DemoError, match=r"no complete loop within 0.3 s: no reading has crossed"):
            await watch(_plan(True, 0.3), Children(), Stalled(), sim, asyncio.Event(), _say())  # type: ignore[arg-type]
    finally:
        sim.cancel()


async def test_without_once_it_warns_and_keeps_watching_until_stopped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim = asyncio.create_task(_never())
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(1.0, stop.set)
    try:
        await watch(_plan(False, 0.2), Children(), Stalled(), sim, stop, _say())  # type: ignore[arg-type]
    finally:
        sim.cancel()
    out = capsys.readouterr().out
    assert out.count("no complete loop within 0.2 s") == 1 and "still watching" in out
