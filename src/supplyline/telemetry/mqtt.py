"""The MQTT bridge: a shared subscription on the broker, acknowledged only after commit.

paho's network I/O runs on the event loop (``mqtt_loop``) and drops each message into an inbox;
the bridge takes whatever has gathered there as one batch (one ingestion call, one commit), so
the per-message cost is a signature check and a decode, not a transaction. QoS 1 messages are acknowledged (in
the order they arrived, as MQTT requires) only once they are committed or kept as dead letters.
The session is persistent (clean_start=False, a fixed client id, a session expiry), so after
a crash the broker redelivers whatever was not acknowledged and per-device
sequence numbers drop what had already been stored.
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
from supplyline.telemetry.mqtt_loop import PahoOnLoop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BridgeConfig:
    url: str
    group: str = "supplyline"
    client_id: str | None = None
    session_expiry_s: int = 3600
    # The broker sends at most this many unacknowledged messages; beyond it, it queues up to its
    # max_queued_messages (1,000 by default) and then drops QoS 1 messages for the session. A
    # large window lets a burst wait here (acknowledged once committed) rather than be dropped.
    receive_maximum: int = 10_000
    batch: int = 1000  # messages handled in one go at most
    in_flight: int = 3  # batches being handled at once: one is parsed while another commits


class _Pending:
    __slots__ = ("done", "mid", "qos")

    def __init__(self, mid: int, qos: int) -> None:
        self.mid, self.qos, self.done = mid, qos, False


class _Client(paho.Client):
    """paho's client without the per-message match of the topic against per-filter callbacks.

    The bridge registers none (only ``on_message``), yet paho walks its topic tree for every
    message: an eighth of the bridge's time at 5,000 messages/s. Everything runs on the event
    loop's thread (``mqtt_loop``), so the callback locks it also takes are not needed.
    """

    def _handle_on_message(self, message: paho.MQTTMessage) -> None:
        on_message = self.on_message
        if on_message is not None:
            on_message(self, self._userdata, message)


class MqttBridge:
    def __init__(self, messages: TelemetryMessages, config: BridgeConfig) -> None:
        self.messages = messages
        self.config = config
        self.client_id = config.client_id or f"supplyline-bridge-{socket.gethostname()}"
        self._inbox: collections.deque[tuple[int, int, Message]] = collections.deque()
        self._driver: PahoOnLoop | None = None
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(config.in_flight)
        self._order: collections.deque[_Pending] = collections.deque()
        self._client: paho.Client | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._batches: set[asyncio.Task[None]] = set()
        self._failed: asyncio.Future[None] | None = None
        self._connected = asyncio.Event()

    @property
    def topic(self) -> str:
        return f"$share/{self.config.group}/{TOPIC_FILTER}"

    async def start(self) -> None:
        """Connect and subscribe; returns once the subscription is in place."""
        self._failed = asyncio.get_running_loop().create_future()
        url = urlparse(self.config.url)
        client = _Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=paho.MQTTv5)
        client.manual_ack_set(True)
        if url.username:
            client.username_pw_set(url.username, url.password)
        if url.scheme in ("mqtts", "ssl"):
            client.tls_set()

        driver = self._driver = PahoOnLoop(client)

        def on_connect(c: paho.Client, _u: object, _f: object, rc: ReasonCode, _p: object) -> None:
            if rc.is_failure:
                self._fail(ConnectionError(f"MQTT connect refused: {rc}"))
                return
            c.subscribe(self.topic, qos=1)

        def on_subscribe(_c: paho.Client, _u: object, _m: int, codes: list[ReasonCode], _p: object) -> None:
            self._connected.set()

        def on_message(_c: paho.Client, _u: object, m: paho.MQTTMessage) -> None:
            props = {k: v for k, v in getattr(m.properties, "UserProperty", None) or []}
            self._inbox.append((m.mid, m.qos, Message(m.topic, bytes(m.payload), props)))
            driver.received += 1
            self._wake.set()

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_message = on_message
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.config.session_expiry_s
        props.ReceiveMaximum = self.config.receive_maximum
        port = url.port or (8883 if url.scheme in ("mqtts", "ssl") else 1883)
        client.connect(url.hostname or "127.0.0.1", port, clean_start=False, properties=props)
        self._client = client
        self._workers = [asyncio.create_task(self._pump(), name="mqtt-bridge")]
        driver.start()
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

    def _fail(self, exc: BaseException) -> None:
        if self._failed is not None and not self._failed.done():
            self._failed.set_exception(exc)

    async def _pump(self) -> None:
        """Take what has arrived as batches; handle up to ``in_flight`` batches at once."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._inbox:
                await self._slots.acquire()
                batch: list[tuple[_Pending, Message]] = []
                while self._inbox and len(batch) < self.config.batch:
                    mid, qos, msg = self._inbox.popleft()
                    pending = _Pending(mid, qos)
                    if qos > 0:
                        self._order.append(pending)
                    batch.append((pending, msg))
                task = asyncio.create_task(self._handle(batch))
                self._batches.add(task)
                task.add_done_callback(self._batches.discard)

    async def _handle(self, batch: list[tuple[_Pending, Message]]) -> None:
        try:
            reasons = await self.messages.handle_many([msg for _, msg in batch])
        except Exception as exc:
            # Transient (database down...): no ack; the broker redelivers after a restart.
            log.exception("%d MQTT messages not handled; they stay unacknowledged", len(batch))
            self._fail(exc)
            return
        finally:
            self._slots.release()
        for (pending, msg), reason in zip(batch, reasons, strict=True):
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
        while (self._order or self._inbox or self._batches) and loop.time() < deadline:
            if self._failed is not None and self._failed.done():
                break
            await asyncio.sleep(0.02)
        self._client = None
        for task in [*self._workers, *self._batches]:
            task.cancel()
        await asyncio.gather(*self._workers, *self._batches, return_exceptions=True)
        self._workers.clear()
        if self._driver is not None:
            await self._driver.stop()


def build_bridge(
    messages: TelemetryMessages, url: str, *, group: str = "supplyline", client_id: str | None = None
) -> MqttBridge:
    return MqttBridge(messages, BridgeConfig(url=url, group=group, client_id=client_id))
