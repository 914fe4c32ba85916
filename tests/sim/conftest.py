"""A small tenant to simulate, built through the API: two sites with coordinates, a reefer on a
shipment under way, and a cold room whose sensor publishes through a gateway."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from supplyline.bootstrap import Services
from tests.conftest import TenantCtx, new_tenant
from tests.factories import post


def uid() -> str:
    return uuid.uuid4().hex[:10]


def closed_port() -> int:
    """A port nothing listens on (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def mine(services: Services) -> TenantCtx:
    """A tenant with a unique slug: MQTT topics of parallel runs never meet."""
    return await new_tenant(services, f"s{uid()}")


async def small_world(client: httpx.AsyncClient, tenant: TenantCtx) -> dict[str, Any]:
    h = tenant.headers
    w: dict[str, Any] = {}
    w["dc"] = await post(
        client,
        h,
        "sites",
        {"code": "DC-LYON", "name": "Lyon DC", "kind": "warehouse", "latitude": 45.7485, "longitude": 4.8467},
    )
    w["cr"] = await post(
        client,
        h,
        "sites",
        {
            "code": "CR-GVA",
            "name": "Geneva cold room",
            "kind": "cold_room",
            "latitude": 46.2044,
            "longitude": 6.1432,
        },
    )
    trailer_type = await post(
        client, h, "asset-types", {"code": "reefer", "name": "Reefer", "kind": "trailer"}
    )
    room_type = await post(client, h, "asset-types", {"code": "room", "name": "Room", "kind": "facility"})
    w["trailer"] = await post(
        client,
        h,
        "assets",
        {
            "code": "TRL-9",
            "name": "Reefer 9",
            "asset_type_id": trailer_type["id"],
            "site_id": w["dc"]["id"],
            "attributes": {"setpoint_c": 5},
        },
    )
    w["room"] = await post(
        client,
        h,
        "assets",
        {"code": "ROOM-1", "name": "Cold room 1", "asset_type_id": room_type["id"], "site_id": w["cr"]["id"]},
    )
    tracker_profile = await post(
        client, h, "device-profiles", {"code": "trk", "name": "Tracker", "device_kind": "tracker"}
    )
    sensor_profile = await post(
        client, h, "device-profiles", {"code": "sensor", "name": "Room sensor", "device_kind": "sensor"}
    )
    gw_profile = await post(
        client, h, "device-profiles", {"code": "gw", "name": "Gateway", "device_kind": "gateway"}
    )
    w["tracker"] = await post(
        client,
        h,
        "devices",
        {
            "code": "trk-9",
            "kind": "tracker",
            "device_profile_id": tracker_profile["id"],
            "asset_id": w["trailer"]["id"],
        },
    )
    w["gateway"] = await post(
        client, h, "devices", {"code": "gw-gva", "kind": "gateway", "device_profile_id": gw_profile["id"]}
    )
    w["sensor"] = await post(
        client,
        h,
        "devices",
        {
            "code": "cr-sensor-1",
            "kind": "sensor",
            "device_profile_id": sensor_profile["id"],
            "asset_id": w["room"]["id"],
            "gateway_id": w["gateway"]["id"],
        },
    )
    now = datetime.now(UTC).replace(microsecond=0)
    w["shipment"] = await post(
        client,
        h,
        "shipments",
        {
            "number": "SHP-9",
            "status": "in_transit",
            "origin_site_id": w["dc"]["id"],
            "destination_site_id": w["cr"]["id"],
            "actual_departure_at": (now - timedelta(minutes=30)).isoformat(),
            "devices": [
                {"device_id": w["tracker"]["id"], "assigned_at": (now - timedelta(hours=1)).isoformat()}
            ],
            "assets": [{"asset_id": w["trailer"]["id"]}],
        },
    )
    return w


async def points(
    client: httpx.AsyncClient, tenant: TenantCtx, code: str, metric: str = "temperature_c"
) -> list[list[Any]]:
    params = {"device": code, "metric": metric, "from": "2000-01-01T00:00:00Z"}
    r = await client.get("/v1/telemetry", params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text
    series = r.json()["series"]
    return series[0]["points"] if series else []
