"""MQTT ingestion: the bridge's shared subscription, acknowledged only after commit, and the
handling of each message (topic -> tenant and device -> ingest), or its dead letter."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

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
