"""The MQTT bridge: a shared subscription on the broker, acknowledged only after commit.

gmqtt (asyncio-native, several times cheaper per message than a threaded client here) hands
each message to the bridge, which queues it and answers its PUBACK only once the message is
committed or kept as a dead letter. What gathers in the queue is handled as one batch (one
ingestion call, one commit), so the per-message cost is a signature check and a decode, not a
transaction. Acknowledgements are released in the order the messages arrived, as MQTT requires.

The session is persistent (clean start off, a fixed client id, a session expiry), so after a
crash the broker redelivers whatever was not acknowledged and per-device sequence numbers drop
what had already been stored. Messages of a connection that was lost are never acknowledged on
the next one (packet ids belong to a connection): the broker redelivers them instead.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import gmqtt
from gmqtt.mqtt.handler import MQTTConnectError

from supplyline.telemetry.mqtt.messages import THROTTLED, TOPIC_FILTER, Message, TelemetryMessages

log = logging.getLogger(__name__)
PUBACK_SUCCESS = 0


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


class StaleDelivery(Exception):
    """A message of a lost connection: its PUBACK must not go out on the new one."""


class _Pending:
    __slots__ = ("acked", "done", "generation")

    def __init__(self, generation: int, acked: asyncio.Future[None]) -> None:
        self.generation, self.acked, self.done = generation, acked, False


class MqttBridge:
    def __init__(self, messages: TelemetryMessages, config: BridgeConfig) -> None:
        self.messages = messages
        self.config = config
        self.client_id = config.client_id or f"supplyline-bridge-{socket.gethostname()}"
        self._inbox: collections.deque[tuple[_Pending, Message]] = collections.deque()
        self._order: collections.deque[_Pending] = collections.deque()
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(config.in_flight)
        self._generation = 0  # connections made so far
        self._client: gmqtt.Client | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._batches: set[asyncio.Task[None]] = set()
        self._failed: asyncio.Future[None] | None = None
        self._subscribed = asyncio.Event()

    @property
    def topic(self) -> str:
        return f"$share/{self.config.group}/{TOPIC_FILTER}"

    async def start(self) -> None:
        """Connect and subscribe; returns once the subscription is in place."""
        loop = asyncio.get_running_loop()
        self._failed = loop.create_future()
        _ignore_stale_deliveries(loop)
        url = urlparse(self.config.url)
        client = gmqtt.Client(
            self.client_id,
            clean_session=False,
            optimistic_acknowledgement=False,
            session_expiry_interval=self.config.session_expiry_s,
            receive_maximum=self.config.receive_maximum,
        )
        if url.username:
            client.set_auth_credentials(url.username, url.password)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self._client = client
        self._workers = [asyncio.create_task(self._pump(), name="mqtt-bridge")]
        tls = url.scheme in ("mqtts", "ssl")
        try:
            await asyncio.wait_for(
                client.connect(url.hostname or "127.0.0.1", url.port or (8883 if tls else 1883), ssl=tls),
                timeout=10,
            )
            client.subscribe(self.topic, qos=1)
            await asyncio.wait_for(self._subscribed.wait(), timeout=10)
        except (TimeoutError, MQTTConnectError) as exc:
            await self._close()
            raise ConnectionError(
                f"no MQTT subscription at {self.config.url}: {exc or 'timed out'}"
            ) from None
        except BaseException:
            await self._close()
            raise

    # ---- gmqtt callbacks -----------------------------------------------------------------------

    def _on_connect(self, _client: Any, _session_present: Any, _rc: Any, _props: Any) -> None:
        # A new connection: what the last one delivered and we have not acknowledged, the broker
        # redelivers; its acknowledgements must not be sent on this one.
        self._generation += 1
        stale = [p for p in self._order if p.generation != self._generation]
        self._order = collections.deque(p for p in self._order if p.generation == self._generation)
        for p in stale:
            if not p.acked.done():
                p.acked.set_exception(StaleDelivery())

    def _on_subscribe(self, _client: Any, _mid: Any, _qos: Any, _props: Any) -> None:
        self._subscribed.set()

    async def _on_message(self, _client: Any, topic: str, payload: bytes, qos: int, props: Any) -> int:
        """Queue the message; the answer (its PUBACK) waits until it is committed or kept."""
        pending = _Pending(self._generation, asyncio.get_running_loop().create_future())
        user = props.get("user_property") or ()
        self._inbox.append((pending, Message(topic, payload, dict(user))))
        if qos > 0:
            self._order.append(pending)
        self._wake.set()
        await pending.acked  # raises StaleDelivery when the connection was lost meanwhile
        return PUBACK_SUCCESS

    # ---- batches -------------------------------------------------------------------------------

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
                batch = [self._inbox.popleft() for _ in range(min(len(self._inbox), self.config.batch))]
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
        throttled = 0
        for (pending, msg), reason in zip(batch, reasons, strict=True):
            if reason is not None and reason.startswith(THROTTLED):
                throttled += 1
            elif reason is not None:
                log.warning("MQTT message on %s dead-lettered: %s", msg.topic, reason)
            pending.done = True
        if throttled:
            # Once a batch, not once a message: a tenant over its quota would flood the log.
            log.warning("%d MQTT messages over a readings/s quota dead-lettered", throttled)
        self._ack_ready()

    def _ack_ready(self) -> None:
        """Release acknowledgements in arrival order (MQTT wants PUBACKs in order)."""
        if self._failed is not None and self._failed.done():
            return
        while self._order and self._order[0].done:
            pending = self._order.popleft()
            if not pending.acked.done():
                pending.acked.set_result(None)

    # ---- running and stopping ------------------------------------------------------------------

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
        """Finish the messages being handled and acknowledge them, then disconnect.

        The subscription stays with the persistent session: the broker keeps what is published
        meanwhile for the bridge's return (unsubscribing would have it dropped)."""
        client = self._client
        if client is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_s
        while (self._order or self._inbox or self._batches) and loop.time() < deadline:
            if self._failed is not None and self._failed.done():
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0)  # let the released acknowledgements go out
        await self._close()

    async def _close(self) -> None:
        client, self._client = self._client, None
        for task in [*self._workers, *self._batches]:
            task.cancel()
        await asyncio.gather(*self._workers, *self._batches, return_exceptions=True)
        self._workers.clear()
        if client is not None:
            await client.disconnect()
        # Whatever is still waiting is never acknowledged: the broker redelivers it.
        for pending in self._order:
            if not pending.acked.done():
                pending.acked.set_exception(StaleDelivery())
        self._order.clear()


def _ignore_stale_deliveries(loop: asyncio.AbstractEventLoop) -> None:
    """gmqtt sends a PUBACK when the message handler returns and, when it raises, logs the
    error instead; a StaleDelivery is a deliberate non-answer, not an error worth a traceback."""
    previous = loop.get_exception_handler()
    if getattr(previous, "ignores_stale_deliveries", False):
        return

    def handler(lp: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, StaleDelivery) or isinstance(exc.__context__ if exc else None, StaleDelivery):
            return
        if previous is not None:
            previous(lp, context)
        else:
            lp.default_exception_handler(context)

    handler.ignores_stale_deliveries = True  # type: ignore[attr-defined]
    loop.set_exception_handler(handler)


def build_bridge(
    messages: TelemetryMessages, url: str, *, group: str = "supplyline", client_id: str | None = None
) -> MqttBridge:
    return MqttBridge(messages, BridgeConfig(url=url, group=group, client_id=client_id))
