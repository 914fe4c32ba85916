"""The product's MQTT publisher (gmqtt) against the real Mosquitto, checked by the reference
client (paho) subscribing: every message arrives once, in order, signed, past the broker's
window of unacknowledged messages; a broker that is away or drops the connection is an error,
never a hang."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from supplyline.telemetry import broker_address, publish_all, telemetry_topic
from tests.conftest import need_service
from tests.telemetry.test_mqtt import URL, _uid

Received = list[tuple[str, bytes, dict[str, str]]]


@pytest.fixture
def broker() -> str:
    need_service("Mosquitto", URL, 1883)
    return URL


@pytest.fixture
def subscriber(broker: str) -> Iterator[tuple[str, Received]]:
    """A paho subscriber on a tenant's topics of its own: (tenant slug, what it received)."""
    tenant, got = f"p{_uid()}", []
    subscribed = threading.Event()
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{_uid()}", protocol=paho.MQTTv5)
    c.on_subscribe = lambda *_: subscribed.set()

    def on_message(_c: object, _u: object, m: paho.MQTTMessage) -> None:
        props = dict(getattr(m.properties, "UserProperty", []))
        got.append((m.topic, m.payload, props))

    c.on_message = on_message
    c.connect(*broker_address(broker))
    c.loop_start()
    c.subscribe(f"supplyline/v1/{tenant}/+/telemetry", qos=1)
    assert subscribed.wait(10)
    yield tenant, got
    c.disconnect()
    c.loop_stop()


async def _until(check: Callable[[], bool], within: float = 10.0) -> None:
    for _ in range(int(within / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)


async def test_every_message_arrives_once_in_order_with_its_signature(
    broker: str, subscriber: tuple[str, Received]
) -> None:
    tenant, got = subscriber
    # Ten times Mosquitto's Receive Maximum (20): the publisher must wait for acknowledgements.
    sent = [(telemetry_topic(tenant, f"d{n % 3}"), f'{{"n":{n}}}'.encode(), f"sig-{n}") for n in range(200)]
    turns: list[int] = []

    async def turn(count: int) -> None:
        turns.append(count)

    await asyncio.wait_for(publish_all(broker, sent, f"pub-{_uid()}", turn), 30)
    assert turns == list(range(200))
    await _until(lambda: len(got) >= 200)
    assert [(t, p, props["signature"]) for t, p, props in got] == sent


async def test_a_broker_that_is_away_is_an_os_error_at_once() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OSError):
        await asyncio.wait_for(publish_all(f"mqtt://127.0.0.1:{port}", [], "pub-away"), 10)


async def test_a_dropped_connection_is_an_error_not_a_wait_for_ever(broker: str) -> None:
    # A wildcard in a PUBLISH topic is a protocol error: Mosquitto closes the connection.
    bad = [("supplyline/v1/+/d/telemetry", b"{}", "sig")]
    with pytest.raises(ConnectionResetError, match="closed the connection"):
        await asyncio.wait_for(publish_all(broker, bad, f"pub-{_uid()}"), 10)
