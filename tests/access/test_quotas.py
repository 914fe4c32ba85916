"""Quotas: requests/s per tenant and per API key, readings/s, devices; 429 with Retry-After.

The throttle's clock is a fake one that the tests move on: nothing here sleeps for a limit.
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
import sqlalchemy as sa

from supplyline import access
from supplyline.access import throttle as throttle_module
from supplyline.access.quotas import Bucket
from supplyline.access.tables import access_quota
from supplyline.api import create_app
from supplyline.bench.import_bench import onboarding_document
from supplyline.bootstrap import Services
from supplyline.kernel.errors import MAX_RETRY_AFTER_S, QuotaExceeded
from supplyline.kernel.scope import Scope
from supplyline.telemetry.mqtt.bridge import BridgeConfig, MqttBridge
from tests.api.samples import assert_problem, events_of
from tests.conftest import PLATFORM_HEADERS, Backend, TenantCtx, make_services, need_service, new_tenant
from tests.factories import post
from tests.onboarding.helpers import table_counts
from tests.telemetry.fleet import Device, fleet, now_ms, send
from tests.telemetry.test_mqtt import URL as MQTT_URL
from tests.telemetry.test_mqtt import eventually, publish, signed
from tests.telemetry.test_mqtt import reading as mqtt_reading


class Clock:
    """Monotonic seconds that move only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(services: Services) -> Clock:
    c = Clock()
    services.throttle.clock = c
    return c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def set_tenant_quota(client: httpx.AsyncClient, tenant: TenantCtx, **limits: Any) -> dict[str, Any]:
    body = {"requests_per_s": None, "readings_per_s": None, "devices": None, **limits}
    r = await client.put(f"/v1/tenants/{tenant.id}/quotas", json=body, headers=PLATFORM_HEADERS)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def new_key(client: httpx.AsyncClient, tenant: TenantCtx, role: str = "operator") -> dict[str, Any]:
    r = await client.post("/v1/api-keys", json={"name": f"{role} key", "role": role}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    key: dict[str, Any] = r.json()
    return key


def assert_throttled(r: httpx.Response, quota: str, limit: float, retry_after: int) -> dict[str, Any]:
    body = assert_problem(r, 429)
    assert r.headers["retry-after"] == str(retry_after)
    assert body["quota"] == quota and body["limit"] == limit and body["retry_after"] == retry_after
    assert body["detail"].startswith(f"{quota} quota exceeded"), body
    return body


# ---- requests/s ------------------------------------------------------------------------------


async def test_unlimited_by_default(client: httpx.AsyncClient, services: Services, tenant: TenantCtx) -> None:
    r = await client.get(f"/v1/tenants/{tenant.id}/quotas", headers=PLATFORM_HEADERS)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "tenant_id": str(tenant.id),
        "requests_per_s": None,
        "requests_burst": None,
        "readings_per_s": None,
        "devices": None,
        "source": "default",
        "updated_at": None,
    }
    answers = await asyncio.gather(*(client.get("/v1/sites", headers=tenant.headers) for _ in range(60)))
    assert {a.status_code for a in answers} == {200}
    assert not services.throttle.refused


async def test_over_the_tenant_limit_is_429_with_retry_after(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, clock: Clock
) -> None:
    out = await set_tenant_quota(client, tenant, requests_per_s=2)
    assert out["source"] == "tenant" and out["requests_per_s"] == 2 and out["updated_at"]
    for _ in range(2):  # the burst: one second's worth
        assert (await client.get("/v1/sites", headers=tenant.headers)).status_code == 200
    r = await client.get("/v1/sites", headers=tenant.headers)
    body = assert_throttled(r, "tenant requests/s", 2, 1)
    assert "limit 2 a second (burst 2)" in body["detail"] and body["instance"] == "/v1/sites"
    # Writes are refused before they touch anything; the platform admin is never limited.
    assert_throttled(
        await client.post(
            "/v1/sites", json={"code": "S1", "name": "S", "kind": "store"}, headers=tenant.headers
        ),
        "tenant requests/s",
        2,
        1,
    )
    for _ in range(5):
        assert (await client.get("/v1/tenants", headers=PLATFORM_HEADERS)).status_code == 200
    clock.advance(0.5)  # one token back
    assert (await client.get("/v1/sites", headers=tenant.headers)).status_code == 200
    assert_throttled(await client.get("/v1/sites", headers=tenant.headers), "tenant requests/s", 2, 1)
    clock.advance(1)
    assert (await client.get("/v1/sites", headers=tenant.headers)).json()["items"] == []
    metrics = (await client.get("/metrics")).text
    assert 'supplyline_throttled_total{quota="tenant_requests"} 3.0' in metrics
    assert 'supplyline_throttled_total{quota="readings"} 0.0' in metrics


async def test_a_burst_lets_requests_through_at_once(
    client: httpx.AsyncClient, tenant: TenantCtx, clock: Clock
) -> None:
    await set_tenant_quota(client, tenant, requests_per_s=0.5, requests_burst=4)
    codes = [(await client.get("/v1/sites", headers=tenant.headers)).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429]
    r = await client.get("/v1/sites", headers=tenant.headers)
    assert_throttled(r, "tenant requests/s", 0.5, 2)  # one token every two seconds


async def test_a_key_limit_is_its_own(client: httpx.AsyncClient, tenant: TenantCtx, clock: Clock) -> None:
    slow, other = await new_key(client, tenant), await new_key(client, tenant)
    r = await client.put(
        f"/v1/api-keys/{slow['id']}/quotas", json={"requests_per_s": 1}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "api_key" and r.json()["api_key_id"] == slow["id"]
    assert "devices" not in r.json()  # readings and devices are the tenant's, not a key's
    assert (await client.get("/v1/sites", headers=bearer(slow["token"]))).status_code == 200
    assert_throttled(await client.get("/v1/sites", headers=bearer(slow["token"])), "api key requests/s", 1, 1)
    for _ in range(10):  # another key of the same tenant is not touched, nor the admin's
        assert (await client.get("/v1/sites", headers=bearer(other["token"]))).status_code == 200
        assert (await client.get("/v1/sites", headers=tenant.headers)).status_code == 200
    r = await client.get(f"/v1/api-keys/{other['id']}/quotas", headers=tenant.headers)
    assert r.json()["source"] == "none" and r.json()["requests_per_s"] is None
    # Lifted: a null limit is no limit.
    r = await client.put(
        f"/v1/api-keys/{slow['id']}/quotas", json={"requests_per_s": None}, headers=tenant.headers
    )
    assert r.status_code == 200 and r.json()["requests_per_s"] is None, r.text
    assert (await client.get("/v1/sites", headers=bearer(slow["token"]))).status_code == 200


async def test_the_tenant_limit_is_shared_by_its_keys(
    client: httpx.AsyncClient, tenant: TenantCtx, other_tenant: TenantCtx, clock: Clock
) -> None:
    a, b = await new_key(client, tenant), await new_key(client, tenant)
    r = await client.put(f"/v1/api-keys/{a['id']}/quotas", json={"requests_per_s": 1}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    await set_tenant_quota(client, tenant, requests_per_s=3)
    assert (await client.get("/v1/sites", headers=bearer(a["token"]))).status_code == 200
    # Refused by the key's own limit: the tenant's token it had taken goes back.
    assert_throttled(await client.get("/v1/sites", headers=bearer(a["token"])), "api key requests/s", 1, 1)
    assert (await client.get("/v1/sites", headers=bearer(b["token"]))).status_code == 200
    assert (await client.get("/v1/sites", headers=bearer(b["token"]))).status_code == 200
    assert_throttled(await client.get("/v1/sites", headers=bearer(b["token"])), "tenant requests/s", 3, 1)
    assert_throttled(await client.get("/v1/sites", headers=tenant.headers), "tenant requests/s", 3, 1)
    # Another tenant has a limit of its own (none).
    for _ in range(10):
        assert (await client.get("/v1/sites", headers=other_tenant.headers)).status_code == 200


async def test_defaults_from_settings_and_a_tenant_row_replacing_them(
    backend: Backend, tmp_path: Path
) -> None:
    svc = make_services(
        backend, tmp_path, admin_token="platform-secret", quota_requests_per_s=1, quota_devices=10
    )
    svc.throttle.clock = clock = Clock()
    transport = httpx.ASGITransport(app=create_app(svc, run_consumers=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            limited, free = await new_tenant(svc, "limited"), await new_tenant(svc, "free")
            r = await client.get(f"/v1/tenants/{limited.id}/quotas", headers=PLATFORM_HEADERS)
            assert r.json()["source"] == "default" and r.json()["requests_per_s"] == 1
            assert r.json()["devices"] == 10
            assert (await client.get("/v1/sites", headers=limited.headers)).status_code == 200
            assert_throttled(
                await client.get("/v1/sites", headers=limited.headers), "tenant requests/s", 1, 1
            )
            # A row of its own replaces the defaults whole: null is no limit.
            await set_tenant_quota(client, free, requests_per_s=None)
            for _ in range(5):
                assert (await client.get("/v1/sites", headers=free.headers)).status_code == 200
            r = await client.delete(f"/v1/tenants/{free.id}/quotas", headers=PLATFORM_HEADERS)
            assert r.status_code == 200 and r.json()["source"] == "default", r.text
            clock.advance(1)
            assert (await client.get("/v1/sites", headers=free.headers)).status_code == 200
            assert_throttled(await client.get("/v1/sites", headers=free.headers), "tenant requests/s", 1, 1)
    finally:
        await svc.close()


async def test_a_change_made_elsewhere_applies_after_the_refresh(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, clock: Clock
) -> None:
    assert (await client.get("/v1/sites", headers=tenant.headers)).status_code == 200  # rows read
    # As another process would: straight to the database, not through this process's API.
    async with services.uow() as uow:
        await access.set_tenant_quota(uow, Scope.platform(), tenant.id, access.Quota(requests_per_s=1))
        await uow.commit()
    for _ in range(3):
        assert (await client.get("/v1/sites", headers=tenant.headers)).status_code == 200
    clock.advance(services.throttle.refresh_s)
    assert (await client.get("/v1/sites", headers=tenant.headers)).status_code == 200
    assert_throttled(await client.get("/v1/sites", headers=tenant.headers), "tenant requests/s", 1, 1)


async def test_a_refresh_keeps_the_tokens_of_an_unchanged_limit(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, clock: Clock
) -> None:
    await set_tenant_quota(client, tenant, requests_per_s=0.1)
    assert (await client.get("/v1/sites", headers=tenant.headers)).status_code == 200
    clock.advance(services.throttle.refresh_s)  # rows read again: same limit, same bucket
    assert_throttled(await client.get("/v1/sites", headers=tenant.headers), "tenant requests/s", 0.1, 5)


async def test_a_change_during_a_refresh_is_not_lost(
    services: Services, tenant: TenantCtx, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows read before a change committed must not serve for another refresh_s after it."""
    throttle, reading, release = services.throttle, asyncio.Event(), asyncio.Event()
    real = throttle_module.load_quotas

    async def slow(conn: Any) -> Any:
        rows = await real(conn)
        reading.set()
        await release.wait()
        return rows

    monkeypatch.setattr(throttle_module, "load_quotas", slow)
    first = asyncio.create_task(throttle.admit_readings(tenant.id, 1))
    await reading.wait()  # the rows as they were: no limit
    async with services.uow() as uow:
        await access.set_tenant_quota(uow, Scope.platform(), tenant.id, access.Quota(readings_per_s=1))
        await uow.commit()
    throttle.invalidate()
    second = asyncio.create_task(throttle.admit_readings(tenant.id, 1))  # waits for the rows
    release.set()
    await first
    await second  # read again: the limit's first token
    with pytest.raises(QuotaExceeded):
        await throttle.admit_readings(tenant.id, 1)


# ---- who may set what, and validation --------------------------------------------------------


async def test_who_may_read_and_set_quotas(
    client: httpx.AsyncClient, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    body = {"requests_per_s": 5, "readings_per_s": None, "devices": None}
    assert_problem(
        await client.put(f"/v1/tenants/{tenant.id}/quotas", json=body, headers=tenant.headers), 403
    )
    assert_problem(await client.get(f"/v1/tenants/{tenant.id}/quotas", headers=tenant.headers), 403)
    assert_problem(
        await client.put(f"/v1/tenants/{uuid.uuid4()}/quotas", json=body, headers=PLATFORM_HEADERS), 404
    )
    operator = await new_key(client, tenant)
    path = f"/v1/api-keys/{operator['id']}/quotas"
    assert_problem(await client.put(path, json={"requests_per_s": 1}, headers=bearer(operator["token"])), 403)
    assert_problem(await client.put(path, json={"requests_per_s": 1}, headers=other_tenant.headers), 404)
    assert_problem(await client.get(path, headers=other_tenant.headers), 404)
    # Replayed with its Idempotency-Key, like every other write.
    keyed = {**tenant.headers, "Idempotency-Key": "limit-operator"}
    first = await client.put(path, json={"requests_per_s": 1}, headers=keyed)
    again = await client.put(path, json={"requests_per_s": 1}, headers=keyed)
    assert first.status_code == again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    # Every change is an event of the tenant's log, saying who made it.
    await set_tenant_quota(client, tenant, devices=100)
    assert (
        await client.delete(f"/v1/tenants/{tenant.id}/quotas", headers=PLATFORM_HEADERS)
    ).status_code == 200
    events = [e for e in await events_of(client, tenant.headers) if ".quota." in e["type"]]
    changes = [(e["type"], e["subject"], e["actor"]) for e in events]
    assert changes == [
        ("supplyline.quota.set.v1", f"api-keys/{operator['id']}/quotas", ANY),
        ("supplyline.quota.set.v1", f"tenants/{tenant.id}/quotas", "platform-admin"),
        ("supplyline.quota.cleared.v1", f"tenants/{tenant.id}/quotas", "platform-admin"),
    ], changes
    assert events[0]["actor"].startswith("api-key:") and "first admin key" in events[0]["actor"]
    assert events[1]["data"] == {
        "tenant_id": str(tenant.id),
        "api_key_id": None,
        "requests_per_s": None,
        "requests_burst": None,
        "readings_per_s": None,
        "devices": 100,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"requests_per_s": -1, "readings_per_s": None, "devices": None}, "requests_per_s"),
        ({"requests_per_s": 0, "readings_per_s": None, "devices": None}, "requests_per_s"),
        ({"requests_per_s": None, "readings_per_s": -5, "devices": None}, "readings_per_s"),
        ({"requests_per_s": None, "readings_per_s": None, "devices": -1}, "devices"),
        (
            {"requests_per_s": 1, "requests_burst": 0, "readings_per_s": None, "devices": None},
            "requests_burst",
        ),
        (
            {"requests_per_s": None, "requests_burst": 5, "readings_per_s": None, "devices": None},
            "requests_burst",
        ),
        ({"requests_per_s": 5, "readings_per_s": None}, "devices"),  # a limit left out: not lifted
        ({"requests_per_s": 5, "readings_per_s": None, "devices": None, "extra": 1}, "extra"),
    ],
)
async def test_a_bad_tenant_quota_names_the_field(
    client: httpx.AsyncClient, tenant: TenantCtx, body: dict[str, Any], field: str
) -> None:
    r = await client.put(f"/v1/tenants/{tenant.id}/quotas", json=body, headers=PLATFORM_HEADERS)
    problem = assert_problem(r, 422, field)
    assert problem["errors"][0]["field"] == field, problem


async def test_a_key_takes_only_request_limits(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    key = await new_key(client, tenant)
    path = f"/v1/api-keys/{key['id']}/quotas"
    assert_problem(
        await client.put(path, json={"requests_per_s": 1, "devices": 3}, headers=tenant.headers),
        422,
        "devices",
    )
    assert_problem(
        await client.put(path, json={"requests_per_s": -2}, headers=tenant.headers), 422, "requests_per_s"
    )


@pytest.mark.parametrize("rate", [0, -1, 5e-324, 1e-300, 0.0009, 1e30, "Infinity", "NaN"])
@pytest.mark.parametrize("owner", ["tenant", "api key"])
async def test_a_rate_out_of_range_is_422_and_the_key_keeps_working(
    client: httpx.AsyncClient, tenant: TenantCtx, owner: str, rate: Any
) -> None:
    """A rate of 0 or a tiny one once made every later request with the key a 500 (an infinite
    Retry-After): now it is refused, nothing is stored, and the key goes on as before."""
    key = await new_key(client, tenant)
    headers = bearer(key["token"])
    if owner == "tenant":
        path, body = f"/v1/tenants/{tenant.id}/quotas", {"readings_per_s": None, "devices": None}
        field, as_who = "requests_per_s", PLATFORM_HEADERS
        quota = {"requests_per_s": rate, **body}
    else:
        path, field, as_who = f"/v1/api-keys/{key['id']}/quotas", "requests_per_s", tenant.headers
        quota = {"requests_per_s": rate}
    content = json.dumps(quota).replace('"Infinity"', "Infinity").replace('"NaN"', "NaN")
    r = await client.put(path, content=content, headers={**as_who, "Content-Type": "application/json"})
    problem = assert_problem(r, 422, field)
    assert problem["errors"][0]["field"] == field, problem
    for _ in range(3):
        assert (await client.get("/v1/sites", headers=headers)).status_code == 200
    shown = (await client.get(path, headers=as_who)).json()
    assert shown["requests_per_s"] is None and shown["source"] in {"default", "none"}, shown
    # The readings rate has the same bounds.
    if owner == "tenant":
        r = await client.put(
            path, json={"requests_per_s": None, "readings_per_s": 1e-9, "devices": None}, headers=as_who
        )
        assert assert_problem(r, 422, "readings_per_s")["errors"][0]["field"] == "readings_per_s"


async def test_limits_at_the_ends_of_the_range_are_taken(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    low = {
        "requests_per_s": access.MIN_RATE,
        "readings_per_s": access.MAX_RATE,
        "devices": access.MAX_DEVICES,
    }
    out = await set_tenant_quota(client, tenant, **low, requests_burst=access.MAX_BURST)
    assert out["requests_per_s"] == access.MIN_RATE and out["devices"] == access.MAX_DEVICES
    r = await client.put(
        f"/v1/tenants/{tenant.id}/quotas",
        json={**low, "devices": access.MAX_DEVICES + 1, "requests_burst": access.MAX_BURST + 1},
        headers=PLATFORM_HEADERS,
    )
    assert {e["field"] for e in assert_problem(r, 422)["errors"]} == {"devices", "requests_burst"}


@pytest.mark.parametrize("stored", [0.0, 5e-324, 1e-300, -3.0])
async def test_a_stored_rate_out_of_range_still_gives_a_finite_retry_after(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, clock: Clock, stored: float
) -> None:
    """Whatever a row holds (written before the bounds, or by hand), the throttle answers 429
    with a finite Retry-After, request after request, never a 500."""
    key = await new_key(client, tenant)
    r = await client.put(
        f"/v1/api-keys/{key['id']}/quotas", json={"requests_per_s": 1}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    async with services.engine.begin() as conn:
        await conn.execute(
            sa.update(access_quota)
            .where(access_quota.c.api_key_id == uuid.UUID(key["id"]))
            .values(requests_per_s=stored)
        )
    services.throttle.invalidate()
    headers = bearer(key["token"])
    assert (await client.get("/v1/sites", headers=headers)).status_code == 200  # the burst
    for _ in range(3):
        r = await client.get("/v1/sites", headers=headers)
        body = assert_problem(r, 429)
        assert 1 <= int(r.headers["retry-after"]) <= MAX_RETRY_AFTER_S, r.headers
        assert body["limit"] == access.MIN_RATE  # the limit in force: the stored one, clamped
    assert (await client.get("/v1/sites", headers=tenant.headers)).status_code == 200


# ---- readings/s ------------------------------------------------------------------------------


def readings(code: str, first_seq: int, n: int) -> dict[str, Any]:
    ts = now_ms()
    return {
        "readings": [
            {"device": code, "ts": ts + i, "seq": first_seq + i, "metrics": {"temperature_c": 4.0}}
            for i in range(n)
        ]
    }


async def stored(client: httpx.AsyncClient, tenant: TenantCtx, code: str) -> int:
    params = {"device": code, "metric": "temperature_c", "from": "2000-01-01T00:00:00Z"}
    r = await client.get("/v1/telemetry", params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text
    series = r.json()["series"]
    return len(series[0]["points"]) if series else 0


async def test_a_batch_over_the_readings_limit_is_refused_whole(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, clock: Clock
) -> None:
    w = await fleet(client, tenant)
    tracker: Device = w["devices"]["tracker"]
    await set_tenant_quota(client, tenant, readings_per_s=4)
    r = await send(client, tracker, readings("trk-001", 1, 3))
    assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
    r = await send(client, tracker, readings("trk-001", 4, 3))  # one token left, three wanted
    body = assert_throttled(r, "readings/s", 4, 1)
    assert "3 readings against a limit of 4 a second" in body["detail"]
    assert "refused whole" in body["detail"]
    assert await stored(client, tenant, "trk-001") == 3  # nothing of the refused batch
    clock.advance(0.5)
    r = await send(client, tracker, readings("trk-001", 4, 3))
    assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
    assert await stored(client, tenant, "trk-001") == 6
    # A batch larger than a second's worth passes on a full bucket, then waits its debt out.
    clock.advance(1)
    r = await send(client, tracker, readings("trk-001", 7, 10))
    assert r.status_code == 200 and r.json()["accepted"] == 10, r.text
    assert_throttled(await send(client, tracker, readings("trk-001", 17, 1)), "readings/s", 4, 2)
    assert services.throttle.refused["readings"] == 2


# ---- devices ---------------------------------------------------------------------------------


async def test_creating_devices_past_the_quota_is_refused(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    h = tenant.headers
    profile = await post(client, h, "device-profiles", {"code": "p", "name": "P", "device_kind": "sensor"})

    def device(code: str) -> dict[str, Any]:
        return {"code": code, "kind": "sensor", "device_profile_id": profile["id"]}

    await set_tenant_quota(client, tenant, devices=2)
    first = await post(client, h, "devices", device("d-1"))
    await post(client, h, "devices", device("d-2"))
    r = await client.post("/v1/devices", json=device("d-3"), headers=h)
    body = assert_throttled(r, "devices", 2, 60)
    assert "has 2 of its limit of 2 devices" in body["detail"]
    # An archived device no longer counts.
    assert (await client.post(f"/v1/devices/{first['id']}/archive", headers=h)).status_code == 200
    await post(client, h, "devices", device("d-3"))
    assert (await table_counts(services, tenant.id))["devices"] == 3


async def test_an_import_past_the_device_quota_creates_nothing(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    await set_tenant_quota(client, tenant, devices=5)
    doc = onboarding_document(assets=3, devices=6)
    r = await client.post("/v1/imports", json=doc, headers=tenant.headers)
    assert_throttled(r, "devices", 5, 60)
    assert set((await table_counts(services, tenant.id)).values()) == {0}
    await set_tenant_quota(client, tenant, devices=6)
    r = await client.post("/v1/imports", json=doc, headers=tenant.headers)
    assert r.status_code == 201, r.text
    assert (await table_counts(services, tenant.id))["devices"] == 6


# ---- the limiter itself ----------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0.0, -1.0, 5e-324, math.nan, math.inf, 1e300])
def test_a_bucket_waits_a_finite_time_whatever_its_rate(rate: float) -> None:
    bucket = Bucket(rate=rate, capacity=math.nan, now=0.0)
    assert bucket.take(1, 0.0) == 0.0
    wait = bucket.take(1, 0.0)
    assert math.isfinite(wait) and wait >= 0
    assert QuotaExceeded("q", rate, wait, "q").retry_after <= MAX_RETRY_AFTER_S


@pytest.mark.parametrize("wait", [math.inf, math.nan, 1e300, -5.0])
def test_retry_after_is_a_whole_number_of_seconds_from_1_to_a_day(wait: float) -> None:
    assert 1 <= QuotaExceeded("q", 1, wait, "q").retry_after <= MAX_RETRY_AFTER_S


def test_a_bucket_refills_at_its_rate_and_never_beyond_its_capacity() -> None:
    bucket = Bucket(rate=10, capacity=5, now=0.0)
    assert [bucket.take(1, 0.0) for _ in range(5)] == [0.0] * 5
    assert bucket.take(1, 0.0) == pytest.approx(0.1)
    assert bucket.take(1, 0.1) == 0.0
    assert bucket.take(5, 100.0) == 0.0  # an hour idle fills it to 5, not 1,000
    assert bucket.take(1, 100.0) == pytest.approx(0.1)
    # Larger than the capacity: passes on a full bucket, leaving a debt of 15 tokens.
    assert bucket.take(20, 200.0) == 0.0
    assert bucket.take(1, 200.0) == pytest.approx(1.6)


# ---- MQTT ------------------------------------------------------------------------------------


async def test_mqtt_messages_over_the_readings_limit_are_dead_lettered(
    client: httpx.AsyncClient, services: Services, clock: Clock
) -> None:
    """MQTT cannot answer 429: the message is kept as a dead letter, and replays once allowed."""
    need_service("Mosquitto", MQTT_URL, 1883)
    uid = uuid.uuid4().hex[:10]
    tenant = await new_tenant(services, f"q{uid}")
    tracker: Device = (await fleet(client, tenant))["devices"]["tracker"]
    await set_tenant_quota(client, tenant, readings_per_s=2)
    await services.telemetry.start()
    config = BridgeConfig(url=MQTT_URL, group=f"g{uid}", client_id=f"quota-{uid}", session_expiry_s=5)
    bridge = MqttBridge(services.telemetry.messages, config)
    await bridge.start()
    try:
        ts = now_ms()
        items = [signed(tenant, tracker, mqtt_reading("trk-001", i + 1, ts + i)) for i in range(4)]
        await asyncio.to_thread(publish, MQTT_URL, items)

        async def two_letters() -> list[dict[str, Any]]:
            r = await client.get("/v1/dead-letters", headers=tenant.headers)
            items: list[dict[str, Any]] = r.json()["items"]
            return items if len(items) == 2 else []

        letters = await eventually(two_letters)
        assert len(letters) == 2, (
            (await client.get("/v1/dead-letters", headers=tenant.headers)).json(),
            await stored(client, tenant, "trk-001"),
            services.throttle.refused,
        )
        assert all(d["reason"].startswith("too many requests: readings/s quota exceeded") for d in letters)
        assert await stored(client, tenant, "trk-001") == 2
        assert services.throttle.refused["readings"] == 2
        clock.advance(1)
        r = await client.post(f"/v1/dead-letters/{letters[0]['id']}/replay", headers=tenant.headers)
        assert r.status_code == 200 and r.json()["replayed_at"] is not None, r.text
        assert await stored(client, tenant, "trk-001") == 3
    finally:
        await bridge.stop()
        await services.telemetry.stop()
