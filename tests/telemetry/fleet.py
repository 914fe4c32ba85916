"""A small fleet behind the API: a gateway with sensors, a tracker on a shipment, credentials."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from supplyline.telemetry.devices.credentials import sign
from tests.conftest import TenantCtx
from tests.factories import post, world

METRICS = [
    {"metric": "temperature_c", "unit": "C", "min": -30, "max": 30},
    {"metric": "humidity_pct", "unit": "%", "min": 0, "max": 100},
    {"metric": "door_open", "unit": "bool"},
]


@dataclass
class Device:
    id: str
    code: str
    token: str = ""
    secret: str = ""
    record: dict[str, Any] = field(default_factory=dict)

    def signed(self, body: Any, secret: str | None = None) -> tuple[bytes, dict[str, str]]:
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        return raw, {"Authorization": f"Bearer {self.token}", "X-Signature": sign(secret or self.secret, raw)}


async def credential(client: httpx.AsyncClient, tenant: TenantCtx, device: Device) -> None:
    r = await client.post(f"/v1/devices/{device.id}/credentials", headers=tenant.headers)
    assert r.status_code == 201, r.text
    device.token, device.secret = r.json()["token"], r.json()["secret"]


async def fleet(client: httpx.AsyncClient, tenant: TenantCtx) -> dict[str, Any]:
    w = await world(client, tenant.headers)
    h = tenant.headers
    sensor_profile = await post(
        client,
        h,
        "device-profiles",
        {"code": "coldroom-sensor", "name": "Cold room sensor", "device_kind": "sensor", "metrics": METRICS},
    )
    gw_profile = await post(
        client, h, "device-profiles", {"code": "gw", "name": "Gateway", "device_kind": "gateway"}
    )
    gw = await post(
        client, h, "devices", {"code": "gw-1", "kind": "gateway", "device_profile_id": gw_profile["id"]}
    )
    sensors = [
        await post(
            client,
            h,
            "devices",
            {
                "code": f"cr-{i}",
                "kind": "sensor",
                "device_profile_id": sensor_profile["id"],
                "gateway_id": gw["id"],
                "asset_id": w["trailer"]["id"],
            },
        )
        for i in range(3)
    ]
    # The tracker from world() reports temperature only (its profile declares it).
    devices = {"gw": Device(gw["id"], "gw-1", record=gw), "tracker": Device(w["tracker"]["id"], "trk-001")}
    for i, s in enumerate(sensors):
        devices[f"cr-{i}"] = Device(s["id"], s["code"], record=s)
    for d in devices.values():
        await credential(client, tenant, d)
    w["devices"] = devices
    return w


def now_ms() -> int:
    return int(time.time() * 1000)


async def send(
    client: httpx.AsyncClient, device: Device, body: Any, secret: str | None = None
) -> httpx.Response:
    raw, headers = device.signed(body, secret)
    return await client.post("/v1/telemetry", content=raw, headers=headers)
