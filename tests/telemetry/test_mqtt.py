"""MQTT ingestion through the real Mosquitto: stored once, bad messages kept and replayable."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import orjson
import paho.mqtt.client as paho
import pytest
from cryptography.fernet import Fernet
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from supplyline.api import create_app
from supplyline.bootstrap import Services
from supplyline.telemetry.devices.credentials import sign
from supplyline.telemetry.mqtt.bridge import BridgeConfig, MqttBridge
from tests.conftest import Backend, TenantCtx, make_services, need_service, new_tenant
from tests.telemetry.fleet import Device, fleet, now_ms

URL = os.environ.get("SUPPLYLINE_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
Item = tuple[str, bytes, str | None]


def _uid() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def broker() -> str:
    need_service("Mosquitto", URL, 1883)
    return URL


@pytest.fixture
async def mine(services: Services) -> TenantCtx:
    """A tenant with a unique slug: topics of parallel runs never meet."""
    return await new_tenant(services, f"t{_uid()}")


@pytest.fixture
async def w(client: httpx.AsyncClient, mine: TenantCtx) -> dict[str, Any]:
    return await fleet(client, mine)


@pytest.fixture
async def bridge(services: Services, broker: str) -> AsyncIterator[MqttBridge]:
    await services.telemetry.start()
    config = BridgeConfig(url=broker, group=f"g{_uid()}", client_id=f"test-{_uid()}", session_expiry_s=5)
    b = MqttBridge(services.telemetry.messages, config)
    await b.start()
    yield b
    await b.stop()
    await services.telemetry.stop()


def topic(tenant: TenantCtx, code: str) -> str:
    return f"supplyline/v1/{tenant.slug}/{code}/telemetry"


def signed(tenant: TenantCtx, device: Device, body: Any, secret: str | None = None) -> Item:
    raw = orjson.dumps(body)
    return topic(tenant, device.code), raw, sign(secret or device.secret, raw)


def publish(url: str, items: list[Item], window: int = 500, pace_s: float = 0.0) -> None:
    """QoS 1 with a bounded window of unacknowledged publishes (paho loses past 65,535)."""
    parsed = urlparse(url)
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{_uid()}", protocol=paho.MQTTv5)
    c.connect(parsed.hostname or "127.0.0.1", parsed.port or 1883)
    c.loop_start()
    inflight: collections.deque[paho.MQTTMessageInfo] = collections.deque()
    try:
        for t, payload, signature in items:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            if signature:
                props.UserProperty = [("signature", signature)]
            inflight.append(c.publish(t, payload, qos=1, properties=props))
            if pace_s:
                time.sleep(pace_s)
            while len(inflight) >= window:
                inflight.popleft().wait_for_publish(10)
        for info in inflight:
            info.wait_for_publish(10)
            assert info.is_published()
    finally:
        c.disconnect()
        c.loop_stop()


def reading(code: str, seq: int, ts: int, temp: float = 4.5) -> dict[str, Any]:
    return {"device": code, "ts": ts, "seq": seq, "metrics": {"temperature_c": temp}}


async def points(client: httpx.AsyncClient, tenant: TenantCtx, code: str) -> list[list[Any]]:
    params = {"device": code, "metric": "temperature_c", "from": "2000-01-01T00:00:00Z", "limit": 100000}
    r = await client.get("/v1/telemetry", params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text
    series = r.json()["series"]
    return series[0]["points"] if series else []


async def eventually(check: Any, within: float = 10.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.1)


async def test_a_signed_qos1_reading_is_stored(
    client: httpx.AsyncClient, mine: TenantCtx, w: dict[str, Any], bridge: MqttBridge, broker: str
) -> None:
    tracker: Device = w["devices"]["tracker"]
    ts = now_ms()
    await asyncio.to_thread(publish, broker, [signed(mine, tracker, reading("trk-001", 1, ts, 5.25))])
    assert await eventually(lambda: points(client, mine, "trk-001")) == [[ts, 5.25]]


async def _dead_letters(client: httpx.AsyncClient, tenant: TenantCtx) -> list[dict[str, Any]]:
    r = await client.get("/v1/dead-letters", headers=tenant.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_bad_messages_are_dead_lettered_then_replayed(
    client: httpx.AsyncClient,
    services: Services,
    mine: TenantCtx,
    other_tenant: TenantCtx,
    w: dict[str, Any],
    bridge: MqttBridge,
    broker: str,
) -> None:
    tracker: Device = w["devices"]["tracker"]
    gw: Device = w["devices"]["gw"]
    ts = now_ms()
    bad_sig = signed(mine, tracker, reading("trk-001", 1, ts), secret="00" * 32)
    ghost = signed(mine, tracker, reading("ghost-9", 1, ts))
    ghost = (topic(mine, "ghost-9"), ghost[1], ghost[2])
    # The gateway may publish only for its own sensors: the tracker is not one of them (yet).
    foreign = signed(mine, gw, reading("trk-001", 7, ts, 6.5))
    await asyncio.to_thread(publish, broker, [bad_sig, ghost, foreign])

    async def three() -> list[dict[str, Any]]:
        found = await _dead_letters(client, mine)
        return found if len(found) == 3 else []

    letters = {
        d["topic"].split("/")[3] + ("-sig" if "signature" in d["reason"] else ""): d
        for d in await eventually(three)
    }
    assert set(letters) == {"trk-001-sig", "ghost-9", "gw-1"}, letters
    assert "signature does not match" in letters["trk-001-sig"]["reason"]
    assert "unknown device" in letters["ghost-9"]["reason"]
    assert "not authorised" in letters["gw-1"]["reason"]
    assert letters["gw-1"]["properties"]["signature"] == foreign[2]
    assert await points(client, mine, "trk-001") == []
    assert await _dead_letters(client, other_tenant) == []

    # Still refused: the dead letter stays, with the reason of this attempt.
    r = await client.post(f"/v1/dead-letters/{letters['gw-1']['id']}/replay", headers=mine.headers)
    assert r.status_code == 200 and r.json()["replayed_at"] is None, r.text
    # Put the tracker behind the gateway; the replay now stores the reading, once.
    r = await client.patch(
        f"/v1/devices/{tracker.id}",
        json={"gateway_id": gw.id},
        headers={**mine.headers, "If-Match": f'"{tracker.record.get("version", 1)}"'},
    )
    assert r.status_code == 200, r.text
    services.telemetry.invalidate()
    replay = f"/v1/dead-letters/{letters['gw-1']['id']}/replay"
    keyed = {**mine.headers, "Idempotency-Key": "replay-1"}
    r = await client.post(replay, headers=keyed)
    assert r.status_code == 200 and r.json()["replayed_at"] is not None, r.text
    assert await points(client, mine, "trk-001") == [[ts, 6.5]]
    again = await client.post(replay, headers=keyed)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == r.json()
    r = await client.post(replay, headers=mine.headers)
    assert r.status_code == 409
    r = await client.post(f"/v1/dead-letters/{letters['gw-1']['id']}/replay", headers=other_tenant.headers)
    assert r.status_code == 404


def _start_bridge(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    before = log.read_bytes().count(b"subscribed")
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "supplyline", "mqtt-bridge"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 15
    while log.read_bytes().count(b"subscribed") == before:
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    return proc


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "stopped"])
async def test_a_killed_or_stopped_bridge_loses_and_repeats_nothing(
    backend: Backend, tmp_path: Path, broker: str, stop: signal.Signals
) -> None:
    """SIGKILL (or a graceful stop) mid-stream, messages published while it is down; after a
    restart every QoS 1 message is stored exactly once."""
    key = Fernet.generate_key().decode()
    svc = make_services(backend, tmp_path, secret_key=key)
    app = create_app(svc, run_consumers=False)
    try:
        await _kill_and_restart(svc, app, backend, tmp_path, broker, key, stop)
    finally:
        await svc.close()


async def _kill_and_restart(
    svc: Services, app: Any, backend: Backend, tmp_path: Path, broker: str, key: str, stop: signal.Signals
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        tenant = await new_tenant(svc, f"k{_uid()}")
        w = await fleet(client, tenant)
        tracker: Device = w["devices"]["tracker"]
        env = {
            **os.environ,
            "SUPPLYLINE_DATABASE_URL": backend.url,
            **({"SUPPLYLINE_DATABASE_SCHEMA": backend.schema} if backend.schema else {}),
            "SUPPLYLINE_DATA_DIR": str(tmp_path / "bridge"),
            "SUPPLYLINE_SECRET_KEY": key,
            "SUPPLYLINE_MQTT_URL": broker,
            "SUPPLYLINE_MQTT_GROUP": f"g{_uid()}",
            "SUPPLYLINE_MQTT_CLIENT_ID": f"kill-{_uid()}",
        }
        log = tmp_path / "bridge.log"
        log.touch()
        proc = _start_bridge(env, log)
        n, start = 2000, now_ms() - 10_000_000
        items = [signed(tenant, tracker, reading("trk-001", i + 1, start + i * 1000)) for i in range(n)]
        publisher = asyncio.create_task(asyncio.to_thread(publish, broker, items, 200, 0.005))
        # Kill it once some, but not all, messages are stored.
        await eventually(lambda: _some(client, tenant, n), within=20)
        proc.send_signal(stop)
        proc.wait(15)
        # Mosquitto queues at most max_queued_messages (1,000 by default) for an offline session:
        # the publisher is paced (200 a second) so that the restart, which takes a couple of
        # seconds on a loaded 2-core machine, comes well before that.
        assert not publisher.done()
        proc = _start_bridge(env, log)
        await publisher
        try:
            stored = await eventually(lambda: _all(client, tenant, n), within=20)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
        got = await points(client, tenant, "trk-001")
        assert stored, f"{len(got)} of {n} stored\n{log.read_text()[-3000:]}"
        assert sorted(p[0] for p in got) == [start + i * 1000 for i in range(n)]


async def _some(client: httpx.AsyncClient, tenant: TenantCtx, n: int) -> bool:
    return 0 < len(await points(client, tenant, "trk-001")) < n


async def _all(client: httpx.AsyncClient, tenant: TenantCtx, n: int) -> bool:
    return len(await points(client, tenant, "trk-001")) >= n
