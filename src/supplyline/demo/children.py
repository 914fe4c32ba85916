"""The demo's child processes: ``python -m supplyline ...`` commands (the API server, the mock
ERP) in a session of their own, so that Ctrl-C reaches the demo, which stops them in order;
on Linux they also get SIGTERM if the demo dies without stopping them, so none is left behind.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from supplyline.demo.story import DemoError
from supplyline.kernel.host import die_with_parent


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
            preexec_fn=die_with_parent,
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


def check_alive(kids: Children) -> None:
    """Raise, with the end of its log, if a child has stopped."""
    dead = kids.dead()
    if dead is not None:
        code = dead.proc.returncode
        raise DemoError(f"the {dead.name} stopped (exit code {code}); the end of {dead.log}:\n{dead.tail()}")
