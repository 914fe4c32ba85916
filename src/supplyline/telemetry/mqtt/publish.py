"""The device side of the MQTT bridge: publish signed telemetry at QoS 1 with gmqtt.

The simulator (``supplyline simulate --transport mqtt``) and ``supplyline bench mqtt`` publish
through this one function (``telemetry.publish_all``, which imports it only when called), so
the product speaks MQTT with one library, gmqtt, as the bridge does. It publishes on one
connection, keeps no more messages unacknowledged than the broker's Receive Maximum allows
(gmqtt refuses a packet id past it) and returns once the broker has acknowledged every
message. gmqtt does not tell a publisher a PUBACK's reason code: a message the broker
acknowledges counts as published; what the platform refuses is a dead letter.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Sequence
from typing import Any

import gmqtt
from gmqtt.mqtt.handler import MQTTConnectError
from gmqtt.storage import PersistentStorage

from supplyline.telemetry.mqtt import BrokerRefused, Signed, Turn, broker_address
from supplyline.telemetry.mqtt.messages import SIGNATURE_PROPERTY

NO_RECEIVE_MAXIMUM = 65_535  # MQTT 5: a broker that names none takes this many in flight


class _Unacknowledged(PersistentStorage):  # type: ignore[misc]  # gmqtt ships no type hints
    """gmqtt's store of QoS 1 packets awaiting their PUBACK: what leaves it frees a slot."""

    def __init__(self) -> None:
        super().__init__()
        self.mine: set[int] = set()
        self.slots = asyncio.Semaphore(1)

    def push_message(self, mid: int, raw_package: bytes) -> None:
        super().push_message(mid, raw_package)
        self.mine.add(mid)

    def remove_message_by_mid(self, mid: int) -> None:
        super().remove_message_by_mid(mid)
        if mid in self.mine:
            self.mine.discard(mid)
            self.slots.release()


class _OneConnection(gmqtt.Client):  # type: ignore[misc]
    """A client that never reconnects on its own (gmqtt would, in the background, after the
    call has given up): a lost connection fails the call, and the caller decides what next."""

    async def reconnect(self, delay: bool = False) -> None:
        return None


async def publish_all(url: str, messages: Sequence[Signed], client_id: str, turn: Turn | None = None) -> None:
    """Publish every message at QoS 1; returns once the broker has acknowledged all of them.

    ``await turn(sent)`` before each message lets the caller hold the publisher back (the
    benchmark keeps it a bounded distance ahead of what the bridge has stored). Raises OSError
    when the broker cannot be reached or drops the connection, BrokerRefused when it refuses
    the connection."""
    host, port = broker_address(url)
    store = _Unacknowledged()
    connack: dict[str, Any] = {}
    lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    client = _OneConnection(client_id, persistent_storage=store)
    client.on_connect = lambda _c, _flags, _rc, props: connack.update(props)

    def on_disconnect(*_: Any) -> None:
        if not lost.done():
            lost.set_exception(ConnectionResetError(f"the MQTT broker at {url} closed the connection"))

    client.on_disconnect = on_disconnect
    try:
        try:
            await client.connect(host, port)
        except MQTTConnectError as exc:
            raise BrokerRefused(f"the MQTT broker at {url} refused the connection: {exc}") from None
        # gmqtt hands out packet ids below the Receive Maximum, one fewer than it allows.
        allowed = (connack.get("receive_maximum") or [NO_RECEIVE_MAXIMUM])[0]
        store.slots = asyncio.Semaphore(max(allowed - 1, 1))
        for sent, (topic, payload, signature) in enumerate(messages):
            if turn is not None:
                await turn(sent)
            if store.slots.locked():  # only then is it worth racing the wait against a lost connection
                await _first(store.slots.acquire(), lost)
            else:
                await store.slots.acquire()
            if lost.done():
                lost.result()
            client.publish(topic, payload, qos=1, user_property=[(SIGNATURE_PROPERTY, signature)])
        await _first(store.wait_empty(), lost)
    finally:
        client.on_disconnect = lambda *_: None
        with contextlib.suppress(OSError):
            await client.disconnect()
        if not lost.done():
            lost.cancel()
        elif not lost.cancelled():
            lost.exception()  # retrieved: asyncio would log it as never retrieved otherwise


async def _first(step: Awaitable[Any], lost: asyncio.Future[None]) -> None:
    """Wait for ``step`` unless the connection is lost first (then raise why)."""
    task = asyncio.ensure_future(step)
    try:
        await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not task.done():
            task.cancel()
    if lost.done() and not task.done():
        lost.result()
