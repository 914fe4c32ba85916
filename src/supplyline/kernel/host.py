"""What a command asks of the machine it runs on: free ports and children that die with it.

``serve``, ``mock-erp`` and the demo check a port before they bind it, so a busy one gets a
sentence rather than a log line; the demo and the compactor start child processes that must
not outlive their parent.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def port_free(host: str, port: int) -> bool:
    """True if ``port`` on ``host`` can be bound now."""
    return _bind(host, port) is not None


def pick_port(host: str, preferred: int) -> int | None:
    """``preferred`` if it is free, else one the OS hands out (None if not even that)."""
    for port in (preferred, 0):
        bound = _bind(host, port)
        if bound is not None:
            return bound
    return None


def _bind(host: str, port: int) -> int | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return None
        return int(sock.getsockname()[1])


def die_with_parent() -> None:
    """A ``preexec_fn``: on Linux the child gets SIGTERM if its parent dies without stopping it."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
