"""When the bridge answers a message: after its batch is stored, in arrival order, and never on a
connection other than the one that delivered it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from supplyline.telemetry.mqtt.bridge import PUBACK_SUCCESS, BridgeConfig, MqttBridge, StaleDelivery
from supplyline.telemetry.mqtt.messages import Message


class _Messages:
    """Stands in for the ingestion behind the bridge: each batch waits until released."""

    def __init__(self) -> None:
        self.batches: list[tuple[list[str], asyncio.Future[None]]] = []

    async def handle_many(self, msgs: Sequence[Message]) -> list[str | None]:
        release = asyncio.get_running_loop().create_future()
        self.batches.append(([m.topic for m in msgs], release))
        await release
        return [None] * len(msgs)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.fixture
async def bridge() -> MqttBridge:
    b = MqttBridge(_Messages(), BridgeConfig(url="mqtt://127.0.0.1:1", batch=2, in_flight=2))  # type: ignore[arg-type]
    b._failed = asyncio.get_running_loop().create_future()
    b._workers = [asyncio.create_task(b._pump())]
    return b


async def test_answers_wait_for_the_store_and_keep_arrival_order(bridge: MqttBridge) -> None:
    answers = [asyncio.create_task(bridge._on_message(None, f"t/{i}", b"{}", 1, {})) for i in range(4)]
    await _settle()
    handled: _Messages = bridge.messages  # type: ignore[assignment]
    assert [topics for topics, _ in handled.batches] == [["t/0", "t/1"], ["t/2", "t/3"]]
    assert not any(a.done() for a in answers)
    handled.batches[1][1].set_result(None)  # the later batch is stored first
    await _settle()
    assert not any(a.done() for a in answers), "answered before an earlier message"
    handled.batches[0][1].set_result(None)
    await _settle()
    assert [a.result() for a in answers] == [PUBACK_SUCCESS] * 4
    for task in bridge._workers:
        task.cancel()


async def test_a_new_connection_never_answers_the_last_ones_messages(bridge: MqttBridge) -> None:
    bridge._on_connect(None, False, 0, {})
    old = asyncio.create_task(bridge._on_message(None, "t/old", b"{}", 1, {}))
    await _settle()
    bridge._on_connect(None, True, 0, {})  # reconnected: the broker will redeliver t/old
    new = asyncio.create_task(bridge._on_message(None, "t/new", b"{}", 1, {}))
    await _settle()
    handled: _Messages = bridge.messages  # type: ignore[assignment]
    for _, release in handled.batches:
        release.set_result(None)
    await _settle()
    with pytest.raises(StaleDelivery):
        await old
    assert await new == PUBACK_SUCCESS
    for task in bridge._workers:
        task.cancel()
