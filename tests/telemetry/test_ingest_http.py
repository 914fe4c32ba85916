"""HTTP ingestion: authenticated and signed, counted, deduplicated, stored at the true time."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from supplyline.bootstrap import Services
from tests.api.samples import assert_problem
from tests.conftest import TenantCtx
from tests.telemetry.fleet import Device, fleet, now_ms, send


@pytest.fixture
async def w(client: httpx.AsyncClient, tenant: TenantCtx) -> dict[str, Any]:
    return await fleet(client, tenant)


def reading(code: str, seq: int | None, ts: int, **metrics: float) -> dict[str, Any]:
    out: dict[str, Any] = {"device": code, "ts": ts, "metrics": metrics or {"temperature_c": 4.5}}
    if seq is not None:
        out["seq"] = seq
    return out


async def points(
    client: httpx.AsyncClient, tenant: TenantCtx, code: str, metric: str = "temperature_c", **q: Any
) -> list[list[Any]]:
    r = await client.get(
        "/v1/telemetry", params={"device": code, "metric": metric, **q}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    series = r.json()["series"]
    return series[0]["points"] if series else []


async def test_a_signed_reading_is_stored_and_readable_at_once(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    ts = now_ms()
    r = await send(client, tracker, reading("trk-001", 1, ts, temperature_c=5.25))
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 1, "duplicate": 0, "rejected": 0, "flagged": 0, "rejections": []}
    assert await points(client, tenant, "trk-001") == [[ts, 5.25]]


async def test_a_bad_signature_is_refused_counted_and_not_stored(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    r = await send(client, tracker, reading("trk-001", 1, now_ms()), secret="00" * 32)
    assert_problem(r, 401)
    assert "signature" in r.json()["detail"]
    raw, headers = tracker.signed(reading("trk-001", 2, now_ms()))
    r = await client.post("/v1/telemetry", content=raw, headers={"Authorization": headers["Authorization"]})
    assert_problem(r, 401)
    assert await points(client, tenant, "trk-001") == []
    status = (await client.get(f"/v1/devices/{tracker.id}/telemetry", headers=tenant.headers)).json()
    assert status["rejections"]["bad_signature"]["count"] == 2
    assert status["last_seen_at"] is None


async def test_a_revoked_device_is_refused_at_once(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    assert (await send(client, tracker, reading("trk-001", 1, now_ms()))).status_code == 200
    r = await client.post(f"/v1/devices/{tracker.id}/credentials/revoke", headers=tenant.headers)
    assert r.json()["revoked"] == 1
    r = await send(client, tracker, reading("trk-001", 2, now_ms()))
    assert_problem(r, 401)
    assert "revoked" in r.json()["detail"]
    assert len(await points(client, tenant, "trk-001")) == 1
    status = (await client.get(f"/v1/devices/{tracker.id}/telemetry", headers=tenant.headers)).json()
    assert status["rejections"]["revoked"]["count"] == 1


async def test_unknown_tokens_are_refused(client: httpx.AsyncClient, w: dict[str, Any]) -> None:
    fake = Device("x", "trk-001", token="sld_abcdefabcdef_" + "A" * 43, secret="00" * 32)
    assert_problem(await send(client, fake, reading("trk-001", 1, now_ms())), 401)
    assert_problem(await client.post("/v1/telemetry", content=b"{}"), 401)


async def test_rotation_keeps_the_old_credential_for_the_overlap_only(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from supplyline.kernel.clock import utcnow
    from supplyline.telemetry.tables import telemetry_credential

    tracker: Device = w["devices"]["tracker"]
    old = Device(tracker.id, tracker.code, tracker.token, tracker.secret)
    r = await client.post(f"/v1/devices/{tracker.id}/credentials", headers=tenant.headers)
    new = Device(tracker.id, tracker.code, r.json()["token"], r.json()["secret"])
    assert (await send(client, old, reading("trk-001", 1, now_ms()))).status_code == 200
    assert (await send(client, new, reading("trk-001", 2, now_ms()))).status_code == 200
    listed = (await client.get(f"/v1/devices/{tracker.id}/credentials", headers=tenant.headers)).json()[
        "items"
    ]
    assert [c["expires_at"] is None for c in listed] == [False, True]
    async with services.engine.begin() as conn:  # the overlap window ends
        await conn.execute(
            update(telemetry_credential)
            .where(telemetry_credential.c.expires_at.is_not(None))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    services.telemetry.invalidate()
    assert_problem(await send(client, old, reading("trk-001", 3, now_ms())), 401)
    assert (await send(client, new, reading("trk-001", 4, now_ms()))).status_code == 200


async def test_duplicates_by_sequence_are_dropped_and_counted(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    ts = now_ms()
    batch = {"readings": [reading("trk-001", s, ts + s) for s in (1, 2, 3)]}
    assert (await send(client, tracker, batch)).json()["accepted"] == 3
    again = {"readings": [reading("trk-001", s, ts + s) for s in (2, 3, 4, 4)]}
    body = (await send(client, tracker, again)).json()
    assert (body["accepted"], body["duplicate"]) == (1, 3)
    assert [p[0] for p in await points(client, tenant, "trk-001")] == [ts + 1, ts + 2, ts + 3, ts + 4]


async def test_a_gateway_replaying_six_hours_is_stored_at_the_true_time(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    gw: Device = w["devices"]["gw"]
    now = now_ms()
    live = {"readings": [reading("cr-0", 400 + i, now + i) for i in range(5)]}
    assert (await send(client, gw, live)).json()["accepted"] == 5
    six_hours = 6 * 3600 * 1000
    backlog = [reading("cr-0", 40 + i, now - six_hours + i * 60_000) for i in range(360)]
    body = (await send(client, gw, {"readings": backlog})).json()
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (360, 0, 0)
    await services.telemetry.compactor.drain()
    old = await points(
        client, tenant, "cr-0", **{"from": _iso(now - six_hours), "to": _iso(now - six_hours + 3_600_000)}
    )
    assert len(old) == 61 and old[0][0] == now - six_hours
    assert len(await points(client, tenant, "cr-0")) == 365
    # Replaying the same backlog again (the gateway retried) stores nothing new.
    body = (await send(client, gw, {"readings": backlog})).json()
    assert (body["accepted"], body["duplicate"]) == (0, 360)


async def test_a_gateway_publishes_only_for_its_own_devices(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    gw: Device = w["devices"]["gw"]
    ts = now_ms()
    body = {
        "readings": [
            reading("cr-1", 1, ts),
            reading("trk-001", 1, ts),
            reading("nope-9", 1, ts),
            {"device": "cr-2", "ts": "yesterday", "metrics": {}},
        ]
    }
    result = (await send(client, gw, body)).json()
    assert result["accepted"] == 1 and result["rejected"] == 3
    reasons = {r["index"]: r["reason"] for r in result["rejections"]}
    assert reasons[1].startswith("not authorised")
    assert reasons[2].startswith("unknown device")
    assert "ts" in reasons[3]
    assert await points(client, tenant, "trk-001") == []


async def test_implausible_values_are_stored_flagged_and_announced(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    gw: Device = w["devices"]["gw"]
    ts = now_ms()
    body = {
        "readings": [
            reading("cr-0", 1, ts, temperature_c=85.0),
            reading("cr-0", 2, ts + 1, temperature_c=4.0),
        ]
    }
    result = (await send(client, gw, body)).json()
    assert (result["accepted"], result["flagged"]) == (2, 1)
    assert [p[1] for p in await points(client, tenant, "cr-0")] == [85.0, 4.0]
    events = (
        await client.get(
            "/v1/events", params={"type": "supplyline.telemetry.implausible_value.v1"}, headers=tenant.headers
        )
    ).json()["items"]
    assert len(events) == 1
    assert events[0]["data"]["metric"] == "temperature_c" and events[0]["data"]["value"] == 85.0


async def test_unknown_metrics_are_refused_naming_the_metric(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    gw: Device = w["devices"]["gw"]
    result = (await send(client, gw, reading("cr-0", 1, now_ms(), co2_ppm=400.0))).json()
    assert result["rejected"] == 1 and "co2_ppm" in result["rejections"][0]["reason"]


async def test_clock_skew_and_first_seen_are_reported_once(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    ahead = now_ms() + 3_600_000
    for seq in (1, 2):
        assert (await send(client, tracker, reading("trk-001", seq, ahead + seq))).status_code == 200
    types = [
        e["type"]
        for e in (await client.get("/v1/events", params={"limit": 1000}, headers=tenant.headers)).json()[
            "items"
        ]
    ]
    assert types.count("supplyline.device.clock_skew_detected.v1") == 1
    assert types.count("supplyline.device.first_seen.v1") == 1


async def test_compaction_keeps_every_reading_and_latest_values(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    gw: Device = w["devices"]["gw"]
    ts = now_ms() - 100_000
    for k in range(4):
        batch = {
            "readings": [
                reading(
                    f"cr-{i}",
                    k * 10 + j,
                    ts + (k * 10 + j) * 1000,
                    temperature_c=float(k * 10 + j),
                    humidity_pct=50.0,
                )
                for i in range(3)
                for j in range(10)
            ]
        }
        assert (await send(client, gw, batch)).json()["accepted"] == 30
        if k == 1:
            await services.telemetry.compactor.drain()
    before = await points(client, tenant, "cr-1")
    await services.telemetry.compactor.drain()
    assert await points(client, tenant, "cr-1") == before
    assert [p[1] for p in before] == [float(x) for x in range(40)]
    latest = (
        await client.get("/v1/telemetry/latest", params={"device": "cr-2"}, headers=tenant.headers)
    ).json()
    assert latest["items"][0]["values"]["temperature_c"]["value"] == 39.0
    status = (
        await client.get(f"/v1/devices/{w['devices']['cr-2'].id}/telemetry", headers=tenant.headers)
    ).json()
    assert status["last_seen_at"] is not None and status["silent"] is False


async def test_downsampling_by_bucket(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    base = (now_ms() // 60_000 - 10) * 60_000
    values = [1.0, 3.0, 2.0, 10.0, 20.0]
    batch = {
        "readings": [
            reading("trk-001", i, base + off, temperature_c=v)
            for i, (off, v) in enumerate(zip([0, 10_000, 50_000, 60_000, 119_000], values, strict=True))
        ]
    }
    assert (await send(client, tracker, batch)).json()["accepted"] == 5
    await services.telemetry.compactor.drain()
    r = await client.get(
        "/v1/telemetry",
        params={
            "device": "trk-001",
            "metric": "temperature_c",
            "bucket": 60,
            "agg": ["min", "max", "avg", "last", "count"],
        },
        headers=tenant.headers,
    )
    assert r.json()["series"][0]["buckets"] == [
        {"t": base, "min": 1.0, "max": 3.0, "avg": 2.0, "last": 2.0, "count": 3},
        {"t": base + 60_000, "min": 10.0, "max": 20.0, "avg": 15.0, "last": 20.0, "count": 2},
    ]


async def test_telemetry_follows_the_shipment_and_its_lots(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    now = now_ms()
    start, end = now - 3_600_000, now - 1_800_000
    shipment = await client.post(
        "/v1/shipments",
        headers=tenant.headers,
        json={
            "number": "SH-1",
            "origin_site_id": w["dc"]["id"],
            "destination_site_id": w["store"]["id"],
            "status": "delivered",
            "lots": [{"lot_id": w["lot"]["id"], "quantity": 10, "unit": "each"}],
            "devices": [{"device_id": tracker.id, "assigned_at": _iso(start), "unassigned_at": _iso(end)}],
        },
    )
    assert shipment.status_code == 201, shipment.text
    times = [start - 60_000, start + 60_000, end - 60_000, end + 60_000]
    batch = {"readings": [reading("trk-001", i, t, temperature_c=float(i)) for i, t in enumerate(times)]}
    assert (await send(client, tracker, batch)).json()["accepted"] == 4
    for key in ("shipment", "lot"):
        ref = shipment.json()["id"] if key == "shipment" else w["lot"]["id"]
        r = await client.get(
            "/v1/telemetry", params={key: ref, "metric": "temperature_c"}, headers=tenant.headers
        )
        assert [p[0] for p in r.json()["series"][0]["points"]] == times[1:3], key
    r = await client.get(
        "/v1/telemetry",
        params={"asset": w["trailer"]["id"], "metric": "temperature_c"},
        headers=tenant.headers,
    )
    assert {s["device"] for s in r.json()["series"]} >= {"trk-001"}
    ctx = (
        await client.get(
            "/v1/telemetry/context",
            params={"device": "trk-001", "at": _iso(times[1])},
            headers=tenant.headers,
        )
    ).json()
    assert ctx["asset_id"] == w["trailer"]["id"]
    assert ctx["shipments"] == [{"shipment_id": shipment.json()["id"], "lot_ids": [w["lot"]["id"]]}]
    ctx = (
        await client.get(
            "/v1/telemetry/context",
            params={"device": "trk-001", "at": _iso(times[3])},
            headers=tenant.headers,
        )
    ).json()
    assert ctx["shipments"] == []


async def test_another_tenant_sees_none_of_it(
    client: httpx.AsyncClient, tenant: TenantCtx, other_tenant: TenantCtx, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    assert (await send(client, tracker, reading("trk-001", 1, now_ms()))).status_code == 200
    r = await client.get(
        "/v1/telemetry", params={"device": "trk-001", "metric": "temperature_c"}, headers=other_tenant.headers
    )
    assert_problem(r, 422)
    r = await client.get(f"/v1/devices/{tracker.id}/telemetry", headers=other_tenant.headers)
    assert_problem(r, 404)
    r = await client.get(f"/v1/devices/{tracker.id}/credentials", headers=other_tenant.headers)
    assert_problem(r, 404)


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


async def test_a_revocation_made_elsewhere_reaches_a_cache_within_its_sweep(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any], services: Services
) -> None:
    """Another process's cache (a bridge, a second server) learns of it from its next sweep."""
    from supplyline.telemetry.devices.credentials import Credentials

    tracker: Device = w["devices"]["tracker"]
    other = Credentials(services.read_engine, services.telemetry.box, ttl=0.05)
    assert (await other.identify(tracker.token)).secrets
    r = await client.post(f"/v1/devices/{tracker.id}/credentials/revoke", headers=tenant.headers)
    assert r.json()["revoked"] == 1
    await asyncio.sleep(0.1)
    await other.identify(tracker.token)  # starts the sweep; answers from the cache meanwhile
    assert other._sweeping is not None
    await other._sweeping
    assert not (await other.identify(tracker.token)).secrets
