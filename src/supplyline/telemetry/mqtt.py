"""The MQTT bridge: a shared subscription on the broker, acknowledged only after commit.

paho's network loop runs in its own thread and hands each message to the event loop. QoS 1
messages are acknowledged (in the order they arrived, as MQTT requires) only once they are
committed or kept as dead letters. The session is persistent (clean_start=False, a fixed client
id, a session expiry), so after a crash the broker redelivers whatever was not acknowledged and
per-device sequence numbers drop what had already been stored.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from supplyline.telemetry.deadletters import TOPIC_FILTER, Message, TelemetryMessages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BridgeConfig:
    url: str
    group: str = "supplyline"
    client_id: str | None = None
    session_expiry_s: int = 3600
    receive_maximum: int = 1000  # the broker sends at most this many unacknowledged messages
    workers: int = 32


class _Pending:
    __slots__ = ("done", "mid", "qos")

    def __init__(self, mid: int, qos: int) -> None:
        self.mid, self.qos, self.done = mid, qos, False


class MqttBridge:
    def __init__(self, messages: TelemetryMessages, config: BridgeConfig) -> None:
        self.messages = messages
        self.config = config
        self.client_id = config.client_id or f"supplyline-bridge-{socket.gethostname()}"
        self._queue: asyncio.Queue[tuple[_Pending, Message]] = asyncio.Queue()
        self._order: collections.deque[_Pending] = collections.deque()
        self._client: paho.Client | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._failed: asyncio.Future[None] | None = None
        self._connected = asyncio.Event()

    @property
    def topic(self) -> str:
        return f"$share/{self.config.group}/{TOPIC_FILTER}"

    async def start(self) -> None:
        """Connect and subscribe; returns once the subscription is in place."""
        loop = asyncio.get_running_loop()
        self._failed = loop.create_future()
        url = urlparse(self.config.url)
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=paho.MQTTv5)
        client.manual_ack_set(True)
        if url.username:
            client.username_pw_set(url.username, url.password)
        if url.scheme in ("mqtts", "ssl"):
            client.tls_set()

        def on_connect(c: paho.Client, _u: object, _f: object, rc: ReasonCode, _p: object) -> None:
            if rc.is_failure:
                loop.call_soon_threadsafe(self._fail, ConnectionError(f"MQTT connect refused: {rc}"))
                return
            c.subscribe(self.topic, qos=1)

        def on_subscribe(_c: paho.Client, _u: object, _m: int, codes: list[ReasonCode], _p: object) -> None:
            loop.call_soon_threadsafe(self._connected.set)

        def on_message(_c: paho.Client, _u: object, m: paho.MQTTMessage) -> None:
            props = {k: v for k, v in getattr(m.properties, "UserProperty", None) or []}
            msg = Message(m.topic, bytes(m.payload), props)
            loop.call_soon_threadsafe(self._received, m.mid, m.qos, msg)

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_message = on_message
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.config.session_expiry_s
        props.ReceiveMaximum = self.config.receive_maximum
        port = url.port or (8883 if url.scheme in ("mqtts", "ssl") else 1883)
        client.connect(url.hostname or "127.0.0.1", port, clean_start=False, properties=props)
        self._client = client
        self._workers = [asyncio.create_task(self._work()) for _ in range(self.config.workers)]
        client.loop_start()
        waiter = asyncio.ensure_future(self._connected.wait())
        futures: list[asyncio.Future[Any]] = [waiter, self._failed]
        await asyncio.wait(futures, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if self._failed.done():
            waiter.cancel()
            await self.stop()
            self._failed.result()
        if not self._connected.is_set():
            waiter.cancel()
            await self.stop()
            raise ConnectionError(f"no subscription at {self.config.url} within 10 s")

    def _received(self, mid: int, qos: int, msg: Message) -> None:
        pending = _Pending(mid, qos)
        if qos > 0:
            self._order.append(pending)
        self._queue.put_nowait((pending, msg))

    def _fail(self, exc: BaseException) -> None:
        if self._failed is not None and not self._failed.done():
            self._failed.set_exception(exc)

    async def _work(self) -> None:
        while True:
            pending, msg = await self._queue.get()
            try:
                reason = await self.messages.handle(msg)
            except Exception as exc:
                # Transient (database down...): no ack; the broker redelivers after a restart.
                log.exception("MQTT message on %s not handled; it stays unacknowledged", msg.topic)
                self._fail(exc)
                return
            if reason is not None:
                log.warning("MQTT message on %s dead-lettered: %s", msg.topic, reason)
            pending.done = True
            self._ack_ready()

    def _ack_ready(self) -> None:
        """Acknowledge finished messages in arrival order (MQTT wants PUBACKs in order)."""
        if self._failed is not None and self._failed.done():
            return
        while self._order and self._order[0].done:
            p = self._order.popleft()
            if self._client is not None:
                self._client.ack(p.mid, p.qos)

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set; raises what made the bridge fail (then nothing more is acked)."""
        assert self._failed is not None, "start() first"
        stopper = asyncio.ensure_future(stop.wait())
        try:
            futures: list[asyncio.Future[Any]] = [stopper, self._failed]
            await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if self._failed.done():
            await self.stop()
            self._failed.result()

    async def stop(self, drain_s: float = 5.0) -> None:
        """Finish the messages being handled and acknowledge them, then disconnect."""
        client = self._client
        if client is None:
            return
        client.unsubscribe(self.topic)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_s
        while (self._order or not self._queue.empty()) and loop.time() < deadline:
            if self._failed is not None and self._failed.done():
                break
            await asyncio.sleep(0.02)
        self._client = None
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers.clear()
        client.disconnect()
        await asyncio.to_thread(client.loop_stop)


def build_bridge(
    messages: TelemetryMessages, url: str, *, group: str = "supplyline", client_id: str | None = None
) -> MqttBridge:
    return MqttBridge(messages, BridgeConfig(url=url, group=group, client_id=client_id))
