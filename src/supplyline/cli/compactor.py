"""``supplyline compactor``: telemetry compaction, silence detection and retention, on its own.

Compaction folds landing rows into per-device chunks: per device, not per reading, and in
Python, so inside the server it takes the event loop from requests (a third of the CPU of a
burst of batch ingestion). As a process of its own it has the second core. ``serve`` and
``mqtt-bridge`` start one as their child unless SUPPLYLINE_COMPACTOR says otherwise; with
several servers on PostgreSQL, one compactor at a time works (an advisory lock).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import sys
from collections.abc import Iterator

from supplyline.cli.common import configure_logging, load_settings, open_services, run, stop_on_signals
from supplyline.kernel.host import die_with_parent
from supplyline.settings import Settings

log = logging.getLogger(__name__)


def compactor() -> None:
    """Compact telemetry, flag silent devices and purge past retention until interrupted."""
    settings = load_settings()
    configure_logging(settings)

    async def main() -> None:
        stop = stop_on_signals()
        async with open_services(settings) as services:
            await services.telemetry.compactor.run(stop)

    run(main)


def workers() -> None:
    """Run the event consumers, the outbox and alarm escalation until interrupted."""
    settings = load_settings()
    configure_logging(settings)

    async def main() -> None:
        stop = stop_on_signals()
        async with open_services(settings) as services:
            await services.run_workers(stop)

    run(main)


@contextlib.contextmanager
def compactor_process(settings: Settings) -> Iterator[None]:
    """Run ``supplyline compactor`` beside the caller when SUPPLYLINE_COMPACTOR=process."""
    with child_process("compactor", settings.compactor == "process" and settings.run_consumers):
        yield


@contextlib.contextmanager
def workers_process(settings: Settings) -> Iterator[None]:
    """Run ``supplyline workers`` beside ``serve`` when SUPPLYLINE_WORKERS=process."""
    with child_process("workers", settings.workers == "process" and settings.run_consumers):
        yield


@contextlib.contextmanager
def child_process(command: str, enabled: bool) -> Iterator[None]:
    """``supplyline <command>`` as a child that dies with its parent, stopped on the way out."""
    if not enabled:
        yield
        return
    # Same interpreter, same environment: the child reads the same SUPPLYLINE_* settings.
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and a fixed command name
        [sys.executable, "-m", "supplyline", command], preexec_fn=die_with_parent
    )
    try:
        yield
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within 30 s; killing it", command)
            child.kill()
