"""The headline loop end to end, with real components: a signed reading published through
Mosquitto, stored, ``shipment.temperature_exceeded`` in the log, the shipment's lot on hold
and out of sellable stock, a checkpoint that ``supplyline ledger verify`` accepts, and the
mock ERP (its own HTTP server) holding the allocation. On PostgreSQL (and SQLite)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from supplyline.api import create_app
from supplyline.bootstrap import Services
from supplyline.db.migrate import stamp
from supplyline.sim.mock_erp import ErpState
from supplyline.telemetry.mqtt.bridge import BridgeConfig, MqttBridge
from tests.conftest import Backend, TenantCtx, make_services, need_service, new_tenant
from tests.factories import post
from tests.telemetry.fleet import Device, fleet, now_ms
from tests.telemetry.test_mqtt import URL, _uid, eventually, publish, reading, signed


@pytest.fixture
async def loop_services(
    backend: Backend, tmp_path: Path, erp: tuple[str, ErpState]
) -> AsyncIterator[Services]:
    need_service("Mosquitto", URL, 1883)
    svc = make_services(backend, tmp_path, admin_token="platform-secret", erp_url=erp[0])
    stop = asyncio.Event()
    await svc.telemetry.start()
    background = asyncio.create_task(svc.run_background(stop))
    config = BridgeConfig(url=URL, group=f"g{_uid()}", client_id=f"e2e-{_uid()}", session_expiry_s=5)
    bridge = MqttBridge(svc.telemetry.messages, config)
    await bridge.start()
    yield svc
    await bridge.stop()
    stop.set()
    svc.events.notifier.notify()
    await background
    await svc.close()


@pytest.fixture
async def api(loop_services: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(loop_services, run_consumers=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def _world(api: httpx.AsyncClient, tenant: TenantCtx) -> dict[str, Any]:
    w = await fleet(api, tenant)
    h = tenant.headers
    w["position"] = await post(
        api,
        h,
        "inventory-positions",
        {
            "site_id": w["dc"]["id"],
            "product_id": w["product"]["id"],
            "lot_id": w["lot"]["id"],
            "on_hand": 800,
            "allocated": 200,
            "unit": "each",
        },
    )
    w["shipment"] = await post(
        api,
        h,
        "shipments",
        {
            "number": "SHP-E2E",
            "status": "in_transit",
            "origin_site_id": w["dc"]["id"],
            "destination_site_id": w["store"]["id"],
            "lots": [{"lot_id": w["lot"]["id"], "quantity": 200, "unit": "each"}],
            "devices": [{"device_id": w["tracker"]["id"], "assigned_at": "2026-01-01T00:00:00Z"}],
        },
    )
    await post(
        api,
        h,
        "rules",
        {
            "code": "cold-chain-max",
            "name": "Vaccines above 8 C",
            "severity": "critical",
            "condition": {"kind": "threshold", "metric": "temperature_c", "op": ">", "value": 8},
            "actions": [{"type": "raise_alarm"}, {"type": "hold_lots"}],
        },
    )
    return w


async def _get(api: httpx.AsyncClient, tenant: TenantCtx, path: str, **params: Any) -> Any:
    r = await api.get(path, params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()


def _ledger_verify(backend: Backend, data_dir: Path, slug: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPPLYLINE_DATABASE_URL": backend.url, "SUPPLYLINE_DATA_DIR": str(data_dir)}
    if backend.schema:
        env["SUPPLYLINE_DATABASE_SCHEMA"] = backend.schema
    return subprocess.run(
        [sys.executable, "-m", "supplyline", "ledger", "verify", "--tenant", slug],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_a_reading_over_mqtt_holds_the_lot_records_a_checkpoint_and_reaches_the_erp(
    api: httpx.AsyncClient,
    loop_services: Services,
    backend: Backend,
    tmp_path: Path,
    erp: tuple[str, ErpState],
) -> None:
    tenant = await new_tenant(loop_services, f"t{_uid()}")
    w = await _world(api, tenant)
    tracker: Device = w["devices"]["tracker"]
    ts = now_ms()
    # 1. A signed reading is published through Mosquitto.
    await asyncio.to_thread(publish, URL, [signed(tenant, tracker, reading("trk-001", 1, ts, 9.6))])

    # 2. It is normalised and stored.
    async def stored() -> Any:
        q = {"device": "trk-001", "metric": "temperature_c", "from": "2000-01-01T00:00:00Z"}
        series = (await _get(api, tenant, "/v1/telemetry", **q))["series"]
        return series and series[0]["points"]

    assert await eventually(stored) == [[ts, 9.6]]

    # 3. shipment.temperature_exceeded is in the event log.
    async def exceeded() -> Any:
        found = await _get(api, tenant, "/v1/events", type="supplyline.shipment.temperature_exceeded.v1")
        return found["items"]

    (event,) = await eventually(exceeded)
    assert event["subject"] == f"shipments/{w['shipment']['id']}" and event["data"]["value"] == 9.6

    # 4. The rule put the shipment's lot on hold for inspection (an alarm with it).
    async def held() -> Any:
        return (await _get(api, tenant, "/v1/holds", status="active"))["items"]

    (hold,) = await eventually(held)
    assert hold["lot_id"] == w["lot"]["id"] and hold["correlation_id"] == event["correlationid"]
    (alarm,) = (await _get(api, tenant, "/v1/alarms", shipment_id=w["shipment"]["id"]))["items"]
    assert alarm["status"] == "active_unack"

    # 5. Held quantity moved out of sellable inventory.
    position = await _get(api, tenant, f"/v1/inventory-positions/{w['position']['id']}")
    assert (position["held"], position["sellable"]) == (800, 0)
    assert (await _get(api, tenant, f"/v1/lots/{w['lot']['id']}"))["status"] == "quarantined"

    # 6. A hashed, chained checkpoint records the exception and the hold; the ledger verifies.
    async def checkpointed() -> Any:
        items = (await _get(api, tenant, "/v1/ledger/checkpoints"))["items"]
        return len(items) >= 2 and items

    kinds = {c["event_type"] for c in await eventually(checkpointed)}
    assert {"supplyline.shipment.temperature_exceeded.v1", "supplyline.lot.held.v1"} <= kinds
    await stamp(loop_services.engine)  # the test schema comes from the metadata; the CLI checks
    verified = await asyncio.to_thread(_ledger_verify, backend, tmp_path / "data", tenant.slug)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # 7. The ERP received the exception and the hold, and holds the allocation.
    url, _ = erp

    async def erp_held() -> Any:
        async with httpx.AsyncClient() as c:
            allocations = (await c.get(f"{url}/erp/v1/allocations")).json()
        return [a for a in allocations["items"] if a["status"] == "held"]

    (allocation,) = await eventually(erp_held, within=20)
    assert allocation["lot_code"] == "L2026-11"
    async with httpx.AsyncClient() as c:
        received = (await c.get(f"{url}/erp/v1/messages")).json()["items"]
    assert [m["type"] for m in received] == ["exception", "hold"]
    assert received[0]["message"]["shipment"]["number"] == "SHP-E2E" and received[0]["ack"]
    delivered = await _get(api, tenant, "/v1/deliveries", status="delivered")
    assert len(delivered["items"]) == 2


async def test_an_erp_that_is_down_leaves_messages_pending_until_it_is_back(
    api: httpx.AsyncClient, loop_services: Services, erp: tuple[str, ErpState]
) -> None:
    _, state = erp
    state.down = True
    tenant = await new_tenant(loop_services, f"t{_uid()}")
    w = await _world(api, tenant)
    await asyncio.to_thread(
        publish, URL, [signed(tenant, w["devices"]["tracker"], reading("trk-001", 1, now_ms(), 11.0))]
    )

    async def pending() -> Any:
        items = (await _get(api, tenant, "/v1/deliveries", status="pending"))["items"]
        return len(items) == 2 and all(i["attempts"] >= 1 and i["last_error"] for i in items) and items

    items = await eventually(pending, within=20)
    assert {i["payload"]["type"] for i in items} == {"exception", "hold"}
    state.down = False
    loop_services.deliverer.wake.set()
    # The retry comes after the backoff (seconds), not at once; push it along for the test.
    from sqlalchemy import update

    from supplyline.integrations.tables import integrations_delivery as d
    from supplyline.kernel.clock import utcnow

    async with loop_services.engine.begin() as conn:
        await conn.execute(update(d).where(d.c.tenant_id == tenant.id).values(next_attempt_at=utcnow()))
    loop_services.deliverer.wake.set()

    async def delivered() -> Any:
        return len((await _get(api, tenant, "/v1/deliveries", status="delivered"))["items"]) == 2

    assert await eventually(delivered, within=20)
    assert [m["type"] for m in state.messages] == ["exception", "hold"]
