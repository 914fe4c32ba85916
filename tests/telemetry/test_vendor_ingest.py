"""Vendor payloads through the real API: a device profile names the mapping its devices send."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import update

from supplyline.bootstrap import Services
from supplyline.registry.tables import registry_device_profile
from supplyline.telemetry.devices.credentials import sign
from supplyline.telemetry.mapping.vendors import builtin_mapping_documents, builtin_sample
from supplyline.telemetry.mqtt.bridge import BridgeConfig, MqttBridge
from tests.api.samples import assert_problem
from tests.conftest import TenantCtx, need_service, new_tenant
from tests.factories import post
from tests.telemetry.fleet import Device, credential, fleet, now_ms, send
from tests.telemetry.test_mqtt import URL, eventually, publish, topic

TEN_UTC = 1_795_341_600_000  # 2026-11-22T10:00:00Z: the samples' time
FIVE_MIN = 300_000


async def add_mapping(client: httpx.AsyncClient, tenant: TenantCtx, key: str) -> dict[str, Any]:
    """The built-in mapping ``key`` (acme-reefer@1), created as a tenant does: over the API."""
    return await post(client, tenant.headers, "payload-mappings", builtin_mapping_documents()[key])


async def add_profile(
    client: httpx.AsyncClient,
    tenant: TenantCtx,
    code: str,
    kind: str,
    mapping: tuple[str, int] | None,
    metrics: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "name": code, "device_kind": kind, "metrics": metrics or []}
    if mapping is not None:
        body["payload_mapping"], body["payload_mapping_version"] = mapping
    return await post(client, tenant.headers, "device-profiles", body)


async def add_device(
    client: httpx.AsyncClient,
    tenant: TenantCtx,
    code: str,
    kind: str,
    profile: dict[str, Any],
    gateway: Device | None = None,
) -> Device:
    body = {"code": code, "kind": kind, "device_profile_id": profile["id"]}
    if gateway is not None:
        body["gateway_id"] = gateway.id
    record = await post(client, tenant.headers, "devices", body)
    device = Device(record["id"], code, record=record)
    await credential(client, tenant, device)
    return device


async def vendor_device(
    client: httpx.AsyncClient, tenant: TenantCtx, key: str, code: str, kind: str
) -> Device:
    """A device whose profile names the built-in mapping ``key``, with its credentials."""
    doc = await add_mapping(client, tenant, key)
    profile = await add_profile(
        client, tenant, f"{doc['code']}-device", kind, (doc["code"], doc["mapping_version"])
    )
    return await add_device(client, tenant, code, kind, profile)


async def series(
    client: httpx.AsyncClient, tenant: TenantCtx, code: str, *metrics: str
) -> dict[str, list[list[Any]]]:
    """Stored points of a device per metric, as ``GET /v1/telemetry`` answers them."""
    r = await client.get("/v1/telemetry", params={"device": code, "metric": metrics}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    return {m: [] for m in metrics} | {s["metric"]: s["points"] for s in r.json()["series"]}


def canonical(code: str, seq: int, ts: int, **metrics: float) -> dict[str, Any]:
    return {"device": code, "seq": seq, "ts": ts, "metrics": metrics}


# ---- each shipped vendor format, end to end ------------------------------------------------------


async def test_acme_reefer_fahrenheit_is_stored_in_celsius(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    reefer = await vendor_device(client, tenant, "acme-reefer@1", "acme-rf-0042", "sensor")
    sample = builtin_sample("acme-reefer@1")
    r = await send(client, reefer, sample)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 1, "duplicate": 0, "rejected": 0, "flagged": 0, "rejections": []}
    boiling = {**sample, "n": sample["n"] + 1, "t": sample["t"] + 60, "temp_f": 212, "door": 1}
    assert (await send(client, reefer, boiling)).json()["accepted"] == 1

    got = await series(
        client, tenant, "acme-rf-0042", "temperature_c", "humidity_pct", "door_open", "battery_v"
    )
    # 39.2 F is 4.000000000000002 C in binary floating point; stored rounded, exactly 4.0.
    assert got["temperature_c"] == [[TEN_UTC, 4.0], [TEN_UTC + 60_000, 100.0]]
    assert got["humidity_pct"] == [[TEN_UTC, 82.0], [TEN_UTC + 60_000, 82.0]]  # a fraction, as %
    assert got["door_open"] == [[TEN_UTC, 0.0], [TEN_UTC + 60_000, 1.0]]
    assert got["battery_v"] == [[TEN_UTC, 12.6], [TEN_UTC + 60_000, 12.6]]
    # The vendor's sequence number deduplicates a retransmission.
    again = (await send(client, reefer, sample)).json()
    assert (again["accepted"], again["duplicate"]) == (0, 1)


async def test_nordic_tracker_nested_payload_is_stored_in_canonical_units(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    tracker = await vendor_device(client, tenant, "nordic-tracker@1", "356938035643809", "tracker")
    r = await send(client, tracker, builtin_sample("nordic-tracker@1"))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    expected = {
        "lat": 48.8566,
        "lon": 2.3522,
        "speed_kmh": 81.0,  # 22.5 m/s
        "battery_v": 3.712,  # 3712 mV
        "shock_g": 2.5,
        "vibration_rms_mm_s": 3.048,  # 0.12 in/s
        "temperature_c": 4.2,
        "signal_rssi_dbm": -87.0,
    }
    got = await series(client, tenant, "356938035643809", *expected)
    at = TEN_UTC + 250  # 11:00:00.250+01:00
    assert got == {metric: [[at, value]] for metric, value in expected.items()}


async def test_coldbox_gateway_sends_for_its_sensors_through_its_profile_mapping(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    doc = await add_mapping(client, tenant, "coldbox-gateway@1")
    gw_profile = await add_profile(client, tenant, "coldbox-gw", "gateway", (doc["code"], 1))
    gw = await add_device(client, tenant, "cbx-gw-7", "gateway", gw_profile)
    # The sensors' own profile names no mapping: the gateway's applies to what it sends.
    sensor_profile = await add_profile(client, tenant, "coldbox-sensor", "sensor", None)
    for code in ("cbx-s-101", "cbx-s-102"):
        await add_device(client, tenant, code, "sensor", sensor_profile, gateway=gw)

    r = await send(client, gw, builtin_sample("coldbox-gateway@1"))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 4

    metrics = ("temperature_c", "humidity_pct", "door_open", "pressure_kpa")
    first = await series(client, tenant, "cbx-s-101", *metrics)
    at = [TEN_UTC, TEN_UTC + FIVE_MIN]  # 11:00 and 11:05 in Paris
    assert first["temperature_c"] == [[at[0], 3.9], [at[1], 4.4]]
    assert first["humidity_pct"] == [[at[0], 81.5], [at[1], 82.0]]
    assert first["door_open"] == [[at[0], 0.0], [at[1], 1.0]]  # "CLOSED", "OPEN"
    assert first["pressure_kpa"] == [[at[0], 101.35293221], [at[1], 101.283984637]]  # 14.7, 14.69 psi
    second = await series(client, tenant, "cbx-s-102", "temperature_c", "humidity_pct")
    assert second == {"temperature_c": [[at[0], -18.2], [at[1], -18.0]], "humidity_pct": []}


# ---- refusals --------------------------------------------------------------------------------------


async def test_a_payload_not_fitting_its_mapping_is_refused_naming_the_path(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    reefer = await vendor_device(client, tenant, "acme-reefer@1", "acme-rf-0042", "sensor")
    bad = {**builtin_sample("acme-reefer@1"), "temp_f": "hot"}
    r = await send(client, reefer, bad)
    problem = assert_problem(r, 422, "temp_f")
    assert "expected a number, got the string 'hot'" in problem["detail"]
    assert "acme-reefer v1" in problem["detail"]
    # A canonical reading from a device whose profile names a mapping is read through it, too.
    r = await send(client, reefer, canonical("acme-rf-0042", 1, now_ms(), temperature_c=4.0))
    assert_problem(r, 422, "devId")
    assert await series(client, tenant, "acme-rf-0042", "temperature_c") == {"temperature_c": []}
    status = (await client.get(f"/v1/devices/{reefer.id}/telemetry", headers=tenant.headers)).json()
    assert status["rejections"]["malformed"]["count"] == 2

    # Nested: the path names the sensor and the sample.
    doc = await add_mapping(client, tenant, "coldbox-gateway@1")
    gw = await add_device(
        client,
        tenant,
        "cbx-gw-7",
        "gateway",
        await add_profile(client, tenant, "gw", "gateway", (doc["code"], 1)),
    )
    sample = builtin_sample("coldbox-gateway@1")
    sample["sensors"][1]["samples"][0]["door"] = "AJAR"
    problem = assert_problem(await send(client, gw, sample), 422, "sensors.1.samples.0.door")
    assert "'AJAR' is not one of CLOSED, OPEN" in problem["detail"]


async def test_a_profile_may_only_name_a_mapping_of_its_tenant(
    client: httpx.AsyncClient, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    await add_mapping(client, tenant, "acme-reefer@1")
    await add_mapping(client, other_tenant, "nordic-tracker@1")

    async def refused(body: dict[str, Any], field: str, reason: str) -> None:
        base = {"code": "p", "name": "P", "device_kind": "sensor"}
        r = await client.post("/v1/device-profiles", json={**base, **body}, headers=tenant.headers)
        assert_problem(r, 422, field, reason)

    await refused(
        {"payload_mapping": "acme-reefer", "payload_mapping_version": 2},
        "payload_mapping_version",
        "payload mapping 'acme-reefer' has no version 2 (it has 1)",
    )
    await refused(
        {"payload_mapping": "nordic-tracker", "payload_mapping_version": 1},
        "payload_mapping",
        "no payload mapping 'nordic-tracker' in this tenant",
    )
    await refused(
        {"payload_mapping": "acme-reefer"},
        "payload_mapping_version",
        "payload_mapping and payload_mapping_version go together",
    )
    profile = await add_profile(client, tenant, "reefer", "sensor", ("acme-reefer", 1))
    r = await client.patch(
        f"/v1/device-profiles/{profile['id']}", json={"payload_mapping_version": 3}, headers=tenant.headers
    )
    assert_problem(
        r, 422, "payload_mapping_version", "payload mapping 'acme-reefer' has no version 3 (it has 1)"
    )
    r = await client.patch(
        f"/v1/device-profiles/{profile['id']}",
        json={"payload_mapping": None, "payload_mapping_version": None},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["payload_mapping"], r.json()["payload_mapping_version"]) == (None, None)


async def test_an_archived_mapping_keeps_serving_its_profiles_but_no_new_one(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services
) -> None:
    reefer = await vendor_device(client, tenant, "acme-reefer@1", "acme-rf-0042", "sensor")
    mappings = (await client.get("/v1/payload-mappings", headers=tenant.headers)).json()["items"]
    r = await client.post(f"/v1/payload-mappings/{mappings[0]['id']}/archive", headers=tenant.headers)
    assert r.status_code == 200, r.text
    services.telemetry.invalidate()
    assert (await send(client, reefer, builtin_sample("acme-reefer@1"))).json()["accepted"] == 1
    body = {"code": "p2", "name": "P2", "device_kind": "sensor"}
    body |= {"payload_mapping": "acme-reefer", "payload_mapping_version": 1}
    r = await client.post("/v1/device-profiles", json=body, headers=tenant.headers)
    assert_problem(r, 422, "payload_mapping", "payload mapping acme-reefer v1 is archived")
    # The profile already naming it may still change otherwise.
    r = await client.patch(
        f"/v1/device-profiles/{reefer.record['device_profile_id']}",
        json={"name": "Reefer"},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text


async def test_a_profile_naming_a_missing_mapping_version_is_refused_at_ingestion(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services
) -> None:
    """A profile saved before the check (or restored from a backup) names version 9, which is absent."""
    reefer = await vendor_device(client, tenant, "acme-reefer@1", "acme-rf-0042", "sensor")
    async with services.engine.begin() as conn:
        await conn.execute(
            update(registry_device_profile)
            .where(registry_device_profile.c.tenant_id == tenant.id)
            .values(payload_mapping_version=9)
        )
    services.telemetry.invalidate()
    sample = builtin_sample("acme-reefer@1")
    problem = assert_problem(await send(client, reefer, sample), 422, "payload_mapping")
    assert "names payload mapping acme-reefer v9, which does not exist in this tenant" in problem["detail"]
    assert "acme-reefer-device" in problem["detail"]
    status = (await client.get(f"/v1/devices/{reefer.id}/telemetry", headers=tenant.headers)).json()
    assert status["rejections"]["malformed"]["count"] == 1

    # Once the version exists, the same payload goes through: a missing mapping is looked up
    # again after a second, not on every message, and without restarting anything.
    v9 = {**copy.deepcopy(builtin_mapping_documents()["acme-reefer@1"]), "mapping_version": 9}
    await post(client, tenant.headers, "payload-mappings", v9)

    async def accepted() -> bool:
        r = await send(client, reefer, sample)
        return r.status_code == 200 and r.json()["accepted"] == 1

    assert await eventually(accepted, within=5)


async def test_switching_the_profile_to_another_version_takes_effect(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services
) -> None:
    reefer = await vendor_device(client, tenant, "acme-reefer@1", "acme-rf-0042", "sensor")
    sample = builtin_sample("acme-reefer@1")
    assert (await send(client, reefer, sample)).json()["accepted"] == 1
    # Version 2: the firmware now reports Celsius under another name.
    v2 = copy.deepcopy(builtin_mapping_documents()["acme-reefer@1"])
    v2["mapping_version"] = 2
    v2["spec"]["fields"][0] = {"path": "temp_c", "metric": "temperature_c"}
    await post(client, tenant.headers, "payload-mappings", v2)
    profile_id = reefer.record["device_profile_id"]
    r = await client.patch(
        f"/v1/device-profiles/{profile_id}", json={"payload_mapping_version": 2}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    services.telemetry.directory.invalidate()  # as its reload would, at the latest after its TTL
    newer = {**sample, "n": sample["n"] + 1, "t": sample["t"] + 60, "temp_c": 5.5}
    del newer["temp_f"]
    assert (await send(client, reefer, newer)).json()["accepted"] == 1
    got = await series(client, tenant, "acme-rf-0042", "temperature_c")
    assert got["temperature_c"] == [[TEN_UTC, 4.0], [TEN_UTC + 60_000, 5.5]]


async def test_a_mapping_may_map_metrics_the_profile_declares(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    doc = copy.deepcopy(builtin_mapping_documents()["acme-reefer@1"])
    doc["code"] = "acme-co2"
    doc["spec"]["fields"].append({"path": "co2", "metric": "co2_ppm"})
    await post(client, tenant.headers, "payload-mappings", doc)
    # A profile that does not declare co2_ppm cannot name it...
    r = await client.post(
        "/v1/device-profiles",
        json={
            "code": "plain",
            "name": "Plain",
            "device_kind": "sensor",
            "payload_mapping": "acme-co2",
            "payload_mapping_version": 1,
        },
        headers=tenant.headers,
    )
    problem = assert_problem(r, 422, "payload_mapping")
    assert "fields.4.metric" in problem["detail"] and "co2_ppm" in problem["detail"]
    # ... one that declares it can.
    metrics = [{"metric": "co2_ppm", "unit": "ppm", "min": 0, "max": 5000}]
    profile = await add_profile(client, tenant, "co2", "sensor", ("acme-co2", 1), metrics)
    device = await add_device(client, tenant, "acme-rf-0042", "sensor", profile)
    r = await send(client, device, {**builtin_sample("acme-reefer@1"), "co2": 812})
    assert r.status_code == 200, r.text
    got = await series(client, tenant, "acme-rf-0042", "co2_ppm", "temperature_c")
    assert got == {"co2_ppm": [[TEN_UTC, 812.0]], "temperature_c": [[TEN_UTC, 4.0]]}


async def test_a_device_whose_profile_has_no_mapping_still_sends_canonical_readings(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    w = await fleet(client, tenant)
    await vendor_device(client, tenant, "acme-reefer@1", "acme-rf-0042", "sensor")
    tracker: Device = w["devices"]["tracker"]
    ts = now_ms()
    r = await send(client, tracker, {"readings": [canonical("trk-001", 1, ts, temperature_c=5.25)]})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    # The careful parser still explains a bad canonical reading on its own.
    r = await send(
        client, tracker, [canonical("trk-001", 2, ts + 1, temperature_c=5.5), {"device": "trk-001"}]
    )
    assert r.json()["accepted"] == 1 and r.json()["rejections"][0]["index"] == 1
    got = await series(client, tenant, "trk-001", "temperature_c")
    assert got["temperature_c"] == [[ts, 5.25], [ts + 1, 5.5]]


# ---- MQTT ---------------------------------------------------------------------------------------------


@pytest.fixture
async def bridge(services: Services) -> AsyncIterator[MqttBridge]:
    need_service("Mosquitto", URL, 1883)
    await services.telemetry.start()
    uid = uuid.uuid4().hex[:10]
    b = MqttBridge(
        services.telemetry.messages,
        BridgeConfig(url=URL, group=f"g{uid}", client_id=f"test-{uid}", session_expiry_s=5),
    )
    await b.start()
    yield b
    await b.stop()
    await services.telemetry.stop()


async def test_a_vendor_payload_over_mqtt_is_stored_in_canonical_units(
    client: httpx.AsyncClient, services: Services, bridge: MqttBridge
) -> None:
    mine = await new_tenant(services, f"v{uuid.uuid4().hex[:10]}")  # topics of parallel runs never meet
    reefer = await vendor_device(client, mine, "acme-reefer@1", "acme-rf-0042", "sensor")
    raw = orjson.dumps(builtin_sample("acme-reefer@1"))
    await asyncio.to_thread(publish, URL, [(topic(mine, reefer.code), raw, sign(reefer.secret, raw))])

    async def stored() -> dict[str, list[list[Any]]] | None:
        got = await series(client, mine, "acme-rf-0042", "temperature_c", "humidity_pct")
        return got if got["temperature_c"] else None

    assert await eventually(stored) == {"temperature_c": [[TEN_UTC, 4.0]], "humidity_pct": [[TEN_UTC, 82.0]]}
