"""Ports a command may bind: a busy one is said to be busy, and the demo takes another."""

from __future__ import annotations

import socket

from supplyline.kernel.host import pick_port, port_free


def test_a_busy_port_is_refused_and_replaced_by_a_free_one() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert not port_free("127.0.0.1", taken)
        other = pick_port("127.0.0.1", taken)
        assert other is not None and other != taken
    assert port_free("127.0.0.1", other)
    assert pick_port("127.0.0.1", other) == other
