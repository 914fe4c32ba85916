"""MQTT ingestion: the bridge's shared subscription, acknowledged only after commit, and the
handling of each message (topic -> tenant and device -> ingest), or its dead letter; and the
device side, publishing signed telemetry (the simulator's and the MQTT benchmark's)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlparse

if TYPE_CHECKING:
    from supplyline.telemetry.mqtt.messages import TelemetryMessages


class Bridge(Protocol):
    """What a process running the bridge needs of it."""

    client_id: str

    @property
    def topic(self) -> str: ...

    async def start(self) -> None: ...

    async def run(self, stop: asyncio.Event) -> None: ...

    async def stop(self, drain_s: float = 5.0) -> None: ...


def build_bridge(
    messages: TelemetryMessages, url: str, *, group: str = "supplyline", client_id: str | None = None
) -> Bridge:
    """The bridge for ``url``; the MQTT client library is imported only when one is built."""
    from supplyline.telemetry.mqtt.bridge import build_bridge as build

    return build(messages, url, group=group, client_id=client_id)


# (topic, payload, signature): a signed telemetry message as the bridge takes it.
Signed = tuple[str, bytes, str]
Turn = Callable[[int], Awaitable[None]]


class BrokerRefused(Exception):
    """The broker refused the connection (CONNACK reason code): sending again will not help."""


def broker_address(url: str) -> tuple[str, int]:
    """(host, port) of a plain ``mqtt://host:port`` URL (1883 when it names no port)."""
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 1883


async def publish_all(url: str, messages: Sequence[Signed], client_id: str, turn: Turn | None = None) -> None:
    """Publish every message at QoS 1; returns once the broker has acknowledged all of them.

    ``await turn(sent)`` before each message lets the caller hold the publisher back. Raises
    OSError when the broker cannot be reached or drops the connection, BrokerRefused when it
    refuses the connection. The MQTT client library is imported only when this is called."""
    from supplyline.telemetry.mqtt.publish import publish_all as publish

    await publish(url, messages, client_id, turn)
