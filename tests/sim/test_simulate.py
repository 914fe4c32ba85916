"""The simulator against the real app in-process: it finds the fleet through the API, issues
credentials, and its signed readings are stored, over HTTP and over MQTT (Mosquitto)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from supplyline.bootstrap import Services
from supplyline.demo import seed_demo
from supplyline.sim import Published, SimConfig, SimulationError, run_simulation
from supplyline.sim.publish import MqttPublisher, Outgoing
from supplyline.telemetry.mqtt.bridge import BridgeConfig, MqttBridge
from tests.conftest import TenantCtx, need_service
from tests.sim.conftest import closed_port, points, small_world, uid

MQTT_URL = os.environ.get("SUPPLYLINE_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


@pytest.fixture
async def live(services: Services) -> AsyncIterator[None]:
    """Telemetry started before the first request, as ``serve`` starts it."""
    await services.telemetry.start(compact=False)
    yield
    await services.telemetry.stop()


def config(key: str, **kw: Any) -> SimConfig:
    return SimConfig(**{"api_url": "http://test", "api_key": key, "interval_s": 0.02, "max_ticks": 3, **kw})


async def simulate(client: httpx.AsyncClient, cfg: SimConfig) -> tuple[Any, list[Published]]:
    sent: list[Published] = []
    summary = await run_simulation(cfg, asyncio.Event(), sent.append, http=client)
    return summary, sent


async def test_http_readings_of_trucks_and_rooms_are_stored(
    client: httpx.AsyncClient, mine: TenantCtx, live: None
) -> None:
    await small_world(client, mine)
    before = int(time.time() * 1000)
    summary, sent = await simulate(client, config(mine.token))
    assert summary.units == ["ROOM-1", "TRL-9"] and summary.failing == "TRL-9"
    assert sorted(summary.senders) == ["gw-gva", "trk-9"]  # the room's sensor goes through its gateway
    assert summary.delivered == summary.messages == 6 and summary.accepted == summary.readings == 6
    assert all(p.delivered for p in sent)
    truck = await points(client, mine, "trk-9")
    room = await points(client, mine, "cr-sensor-1")
    assert len(truck) == len(room) == 3
    assert all(before <= ts <= int(time.time() * 1000) for ts, _ in truck)  # stamped live, not simulated
    assert all(2.0 < v < 8.0 for _, v in truck + room)
    lats = [v for _, v in await points(client, mine, "trk-9", "lat")]
    assert len(lats) == 3 and lats[0] < lats[1] < lats[2]  # north-east, towards Geneva
    assert await points(client, mine, "cr-sensor-1", "lat") == []  # rooms do not move


async def test_a_second_run_rotates_credentials_and_is_not_taken_for_duplicates(
    client: httpx.AsyncClient, mine: TenantCtx, live: None
) -> None:
    w = await small_world(client, mine)
    await simulate(client, config(mine.token, max_ticks=2))
    summary, _ = await simulate(client, config(mine.token, max_ticks=2))
    assert summary.accepted == 4 and summary.duplicate == 0
    assert len(await points(client, mine, "trk-9")) == 4
    r = await client.get(f"/v1/devices/{w['tracker']['id']}/credentials", headers=mine.headers)
    assert len(r.json()["items"]) == 2  # one per run; the first still in its overlap window


async def test_the_demo_tenant_is_simulated(
    client: httpx.AsyncClient, services: Services, live: None
) -> None:
    info = await seed_demo(services)
    assert info.first_key is not None
    summary, sent = await simulate(client, config(info.first_key, max_ticks=2))
    assert summary.units == ["TRL-101", "TRL-102"] and summary.failing == "TRL-101"
    assert summary.accepted == 4 and summary.rejected == 0
    assert {r["device"] for p in sent for r in p.readings} == {"ct200-001", "ct200-002"}


async def test_a_refused_key_or_an_unknown_unit_is_said_in_a_sentence(
    client: httpx.AsyncClient, mine: TenantCtx
) -> None:
    await small_world(client, mine)
    with pytest.raises(SimulationError, match="refused the key"):
        await simulate(client, config("sl_aaaaaaaaaaaa_" + "b" * 43))
    with pytest.raises(SimulationError, match=r"no simulated unit.*'TRL-404'"):
        await simulate(client, config(mine.token, fail="TRL-404"))
    with pytest.raises(SimulationError, match="--tenant"):
        await simulate(client, config(mine.token, transport="mqtt"))


# ---- MQTT ---------------------------------------------------------------------------------------


@pytest.fixture
def broker() -> str:
    need_service("Mosquitto", MQTT_URL, 1883)
    return MQTT_URL


@pytest.fixture
async def bridge(services: Services, broker: str, live: None) -> AsyncIterator[MqttBridge]:
    cfg = BridgeConfig(url=broker, group=f"g{uid()}", client_id=f"sim-test-{uid()}", session_expiry_s=5)
    b = MqttBridge(services.telemetry.messages, cfg)
    await b.start()
    yield b
    await b.stop()


async def test_mqtt_readings_reach_the_bridge_and_are_stored(
    client: httpx.AsyncClient, mine: TenantCtx, bridge: MqttBridge, broker: str
) -> None:
    await small_world(client, mine)
    summary, sent = await simulate(
        client, config(mine.token, transport="mqtt", mqtt_url=broker, tenant=mine.slug)
    )
    assert summary.delivered == summary.messages == 6
    assert {p.transport for p in sent} == {"mqtt"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        truck, room = await points(client, mine, "trk-9"), await points(client, mine, "cr-sensor-1")
        if len(truck) == len(room) == 3:
            break
        await asyncio.sleep(0.05)
    assert len(truck) == len(room) == 3
    r = await client.get("/v1/dead-letters", headers=mine.headers)
    assert r.json()["items"] == []


async def test_mqtt_messages_the_broker_did_not_take_are_kept_to_send_again() -> None:
    away = f"mqtt://127.0.0.1:{closed_port()}"
    publisher = MqttPublisher(away, "t")
    (outcome,) = await publisher.publish([Outgoing("trk-9", b'{"readings": []}', "sig")])
    assert not outcome.delivered and outcome.retry
    assert outcome.detail.startswith("not published")
