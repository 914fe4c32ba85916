"""Retention as data: per tenant and per device profile; purging leaves a record."""

from __future__ import annotations

from typing import Any

import httpx

from supplyline.bootstrap import Services
from tests.api.samples import assert_problem
from tests.conftest import TenantCtx
from tests.telemetry.fleet import Device, fleet, now_ms, send

DAY = 86_400_000


async def points(client: httpx.AsyncClient, tenant: TenantCtx, code: str) -> list[int]:
    r = await client.get(
        "/v1/telemetry", params={"device": code, "metric": "temperature_c"}, headers=tenant.headers
    )
    return [p[0] for p in r.json()["series"][0]["points"]] if r.json()["series"] else []


async def test_profile_and_tenant_policies_decide_what_is_purged(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services
) -> None:
    w: dict[str, Any] = await fleet(client, tenant)
    gw: Device = w["devices"]["gw"]
    tracker: Device = w["devices"]["tracker"]
    now = now_ms()
    old, recent = now - 200 * DAY, now - DAY
    for device, code in ((gw, "cr-0"), (tracker, "trk-001")):
        batch = {
            "readings": [
                {"device": code, "seq": i, "ts": ts, "metrics": {"temperature_c": 4.0}}
                for i, ts in enumerate((old, recent))
            ]
        }
        assert (await send(client, device, batch)).json()["accepted"] == 2
    await services.telemetry.compactor.drain()
    sensor_profile = w["devices"]["cr-0"].record["device_profile_id"]
    r = await client.post(
        "/v1/retention-policies",
        json={"device_profile_id": sensor_profile, "days": 30},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    assert await services.telemetry.compactor.purge() == 1
    assert await points(client, tenant, "cr-0") == [recent]
    assert await points(client, tenant, "trk-001") == [old, recent]  # the 365-day default

    r = await client.post("/v1/retention-policies", json={"days": 100}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    again = await client.post("/v1/retention-policies", json={"days": 50}, headers=tenant.headers)
    assert_problem(again, 422)
    assert again.json()["errors"][0]["field"] == "device_profile_id"
    assert await services.telemetry.compactor.purge() == 1
    assert await points(client, tenant, "trk-001") == [recent]
    events = (
        await client.get(
            "/v1/events", params={"type": "supplyline.telemetry.purged.v1"}, headers=tenant.headers
        )
    ).json()["items"]
    assert [e["data"]["readings"] for e in events] == [1, 1]
