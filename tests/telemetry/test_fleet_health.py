"""GET /v1/telemetry/health: a page of devices with their health in one call, filtered and paged."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from supplyline.bootstrap import Services
from supplyline.telemetry.tables import telemetry_device_state
from tests.api.samples import assert_problem
from tests.conftest import TenantCtx
from tests.telemetry.fleet import Device, fleet, now_ms, send


@pytest.fixture
async def w(client: httpx.AsyncClient, tenant: TenantCtx) -> dict[str, Any]:
    return await fleet(client, tenant)


async def health(client: httpx.AsyncClient, tenant: TenantCtx, **params: Any) -> dict[str, Any]:
    r = await client.get("/v1/telemetry/health", params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_a_page_names_seen_battery_skew_refusals_and_credentials(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    cr0: Device = w["devices"]["cr-0"]
    ts = now_ms()
    body = {"device": "cr-0", "seq": 1, "ts": ts, "metrics": {"temperature_c": 4.0, "battery_v": 3.61}}
    assert (await send(client, cr0, body)).status_code == 200
    bad = {"device": "cr-0", "seq": 2, "ts": ts, "metrics": {"no_such_metric": 1}}
    assert (await send(client, cr0, bad)).json()["rejected"] == 1
    items = {i["device"]: i for i in (await health(client, tenant))["items"]}
    assert set(items) == {"trk-001", "gw-1", "cr-0", "cr-1", "cr-2"}
    seen = items["cr-0"]
    assert seen["last_seen_at"] is not None and seen["silent"] is False
    assert seen["battery"]["metric"] == "battery_v" and seen["battery"]["value"] == 3.61
    assert seen["rejected"] == 1 and seen["rejections"]["unknown metric"]["count"] == 1
    assert abs(seen["clock_skew_s"]) < 60
    assert seen["credentials"]["active"] == 1 and seen["credentials"]["newest_age_s"] >= 0
    assert seen["site_id"] == w["dc"]["id"] and seen["asset_id"] == w["trailer"]["id"]
    assert seen["asset"] == "TRL-1"
    never = items["cr-1"]
    assert never["last_seen_at"] is None and never["silent"] is None and never["battery"] is None
    assert "secret" not in str(items) and "token" not in str(items)

    await services.telemetry.compactor.drain()  # the same answer from the compacted state
    again = {i["device"]: i for i in (await health(client, tenant))["items"]}
    assert again["cr-0"]["battery"]["value"] == 3.61 and again["cr-0"]["silent"] is False


async def test_filters_and_cursor(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    for code in ("cr-0", "cr-1"):
        device: Device = w["devices"][code]
        reading = {"device": code, "seq": 1, "ts": now_ms(), "metrics": {"temperature_c": 4.0}}
        assert (await send(client, device, reading)).status_code == 200
    await services.telemetry.compactor.drain()
    s = telemetry_device_state
    async with services.engine.begin() as conn:
        await conn.execute(
            update(s).where(s.c.device_id == uuid.UUID(w["devices"]["cr-1"].id)).values(silent=1)
        )
    assert [i["device"] for i in (await health(client, tenant, silent="true"))["items"]] == ["cr-1"]
    assert "cr-1" not in [i["device"] for i in (await health(client, tenant, silent="false"))["items"]]
    at_dc = {i["device"] for i in (await health(client, tenant, site=w["dc"]["id"]))["items"]}
    assert at_dc == {"trk-001", "cr-0", "cr-1", "cr-2"}  # not the gateway: it is on no asset
    assert (await health(client, tenant, site=w["store"]["id"]))["items"] == []
    assert [i["device"] for i in (await health(client, tenant, kind="gateway"))["items"]] == ["gw-1"]

    first = await health(client, tenant, limit=2)
    second = await health(client, tenant, limit=2, cursor=first["next_cursor"])
    rest = await health(client, tenant, limit=2, cursor=second["next_cursor"])
    codes = [i["device"] for p in (first, second, rest) for i in p["items"]]
    assert len(codes) == 5 == len(set(codes)) and rest["next_cursor"] is None

    r = await client.get("/v1/telemetry/health", params={"cursor": "nope"}, headers=tenant.headers)
    assert_problem(r, 422)


async def test_late_readings_are_counted_and_the_clock_skew_recorded(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    cr0, cr1 = w["devices"]["cr-0"], w["devices"]["cr-1"]
    now = now_ms()
    backlog = [
        {"device": "cr-0", "seq": i, "ts": now - 3_600_000 + i * 60_000, "metrics": {"temperature_c": 4.0}}
        for i in range(1, 4)
    ]
    fresh = {"device": "cr-0", "seq": 9, "ts": now - 1_000, "metrics": {"temperature_c": 4.1}}
    for body in [*backlog, fresh]:
        assert (await send(client, cr0, body)).json()["accepted"] == 1
    ahead = {"device": "cr-1", "seq": 1, "ts": now + 120_000, "metrics": {"temperature_c": 4.0}}
    assert (await send(client, cr1, ahead)).json()["accepted"] == 1
    await services.telemetry.compactor.drain()
    items = {i["device"]: i for i in (await health(client, tenant))["items"]}
    assert items["cr-0"]["late"] == 3, "an hour-old backlog is late; the fresh reading is not"
    assert -30 < items["cr-0"]["clock_skew_s"] < 30, "the newest message's clock, not the backlog's"
    assert 60 < items["cr-1"]["clock_skew_s"] < 180, "two minutes ahead"
    assert items["cr-1"]["late"] == 0 and items["cr-2"]["late"] == 0
    one = await client.get(f"/v1/devices/{cr0.id}/telemetry", headers=tenant.headers)
    assert one.json()["late"] == 3 and one.json()["clock_skew_s"] is not None
