"""Idempotency-Key on every POST: a retry gets the first answer and changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from supplyline.access.tables import access_tenant
from supplyline.bootstrap import Services
from supplyline.eventlog.tables import eventlog_event
from tests.api.samples import SAMPLES, assert_problem, events_of, raise_alarm_and_hold
from tests.conftest import PLATFORM_HEADERS, TenantCtx
from tests.factories import post, world

SITE = {"code": "S1", "name": "Site 1", "kind": "store"}


def _key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def _sites(client: httpx.AsyncClient, tenant: TenantCtx) -> list[dict[str, Any]]:
    r = await client.get("/v1/sites", params={"include_archived": "true"}, headers=tenant.headers)
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_a_retry_gets_the_first_answer(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    h = _key(tenant.headers, "create-s1")
    first = await client.post("/v1/sites", json=SITE, headers=h)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = await client.post("/v1/sites", json=SITE, headers=h)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert [s["id"] for s in await _sites(client, tenant)] == [first.json()["id"]]
    events = await events_of(client, tenant.headers, type="supplyline.site.created.v1")
    assert [e["subject"] for e in events] == [f"sites/{first.json()['id']}"]


async def test_a_key_is_bound_to_its_request(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    h = _key(tenant.headers, "k1")
    first = await post(client, h, "sites", SITE)
    r = await client.post("/v1/sites", json={**SITE, "name": "Other"}, headers=h)
    assert_problem(r, 422, "Idempotency-Key", "different request")
    r = await client.post("/v1/regions", json={"code": "EU", "name": "Europe"}, headers=h)
    assert_problem(r, 422, "Idempotency-Key")
    assert [s["id"] for s in await _sites(client, tenant)] == [first["id"]]
    assert (await client.get("/v1/regions", headers=tenant.headers)).json()["items"] == []
    # A request that failed stored nothing: the key is still free.
    h2 = _key(tenant.headers, "k2")
    assert_problem(await client.post("/v1/sites", json={**SITE, "kind": "castle"}, headers=h2), 422)
    r = await client.post("/v1/sites", json={**SITE, "code": "S2"}, headers=h2)
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    assert_problem(
        await client.post("/v1/sites", json=SITE, headers=_key(h, "x" * 256)), 422, "Idempotency-Key"
    )


async def test_keys_are_per_principal(
    client: httpx.AsyncClient, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    mine = await post(client, _key(tenant.headers, "same"), "sites", SITE)
    r = await client.post("/v1/sites", json=SITE, headers=_key(other_tenant.headers, "same"))
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    assert r.json()["id"] != mine["id"] and r.json()["tenant_id"] == str(other_tenant.id)
    # Another key of the same tenant is another principal: its request runs (and meets the code).
    r = await client.post("/v1/api-keys", json={"name": "ops", "role": "operator"}, headers=tenant.headers)
    operator = {"Authorization": f"Bearer {r.json()['token']}"}
    r = await client.post("/v1/sites", json=SITE, headers=_key(operator, "same"))
    assert_problem(r, 409, "code")


async def test_concurrent_retries_create_once(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    h = _key(tenant.headers, "race")
    answers = await asyncio.gather(*(client.post("/v1/sites", json=SITE, headers=h) for _ in range(3)))
    assert [r.status_code for r in answers] == [201, 201, 201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum("idempotent-replayed" in r.headers for r in answers) == 2
    assert len(await _sites(client, tenant)) == 1
    assert len(await events_of(client, tenant.headers, type="supplyline.site.created.v1")) == 1


async def test_every_post_honours_the_key(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, erp: tuple[str, Any]
) -> None:
    """Walk every POST of the OpenAPI document; one this test cannot call fails it."""
    w = await world(client, tenant.headers)
    await raise_alarm_and_hold(services, tenant.id, w)
    paths = [p for p, ops in (await client.get("/openapi.json")).json()["paths"].items() if "post" in ops]
    created: dict[str, str] = {}
    calls: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]] = []
    for name in SAMPLES:
        calls.append((f"/v1/{name}", f"/v1/{name}", SAMPLES[name].body(w), tenant.headers))
    tracker = w["tracker"]["id"]
    calls.append(("/v1/devices/{id}/credentials", f"/v1/devices/{tracker}/credentials", None, tenant.headers))
    calls.append(
        (
            "/v1/devices/{id}/credentials/revoke",
            f"/v1/devices/{tracker}/credentials/revoke",
            None,
            tenant.headers,
        )
    )
    for name in SAMPLES:
        calls.append((f"/v1/{name}/{{id}}/archive", f"/v1/{name}/{{{name}}}/archive", None, tenant.headers))
    calls.append(("/v1/api-keys", "/v1/api-keys", {"name": "ci", "role": "viewer"}, tenant.headers))
    calls.append(("/v1/api-keys/{key_id}/revoke", "/v1/api-keys/{api-keys}/revoke", None, tenant.headers))
    calls.append(("/v1/tenants", "/v1/tenants", {"slug": "initech", "name": "Initech"}, PLATFORM_HEADERS))
    person = {"email": "qa@example.com", "name": "QA", "password": "correct horse battery"}
    calls.append(("/v1/users", "/v1/users", person, tenant.headers))
    grant = {"role": "planner", "user_id": "{users}"}
    calls.append(("/v1/role-assignments", "/v1/role-assignments", grant, tenant.headers))
    calls.append(
        (
            "/v1/role-assignments/{assignment_id}/revoke",
            "/v1/role-assignments/{role-assignments}/revoke",
            None,
            tenant.headers,
        )
    )
    calls.append(
        ("/v1/users/{user_id}/revoke-sessions", "/v1/users/{users}/revoke-sessions", {}, tenant.headers)
    )
    hold = {"data_class": "audit", "reason": "dispute with a carrier"}
    calls.append(("/v1/governance/legal-holds", "/v1/governance/legal-holds", hold, tenant.headers))
    calls.append(
        (
            "/v1/governance/legal-holds/{hold_id}/release",
            "/v1/governance/legal-holds/{governance/legal-holds}/release",
            {"reason": "settled"},
            tenant.headers,
        )
    )
    hook = {"url": "https://hooks.example/hook"}  # looked up only to send
    calls.append(("/v1/webhooks", "/v1/webhooks", hook, tenant.headers))
    calls.append(
        (
            "/v1/webhooks/{subscription_id}/rotate-secret",
            "/v1/webhooks/{webhooks}/rotate-secret",
            None,
            tenant.headers,
        )
    )
    replayed = {"from_position": 1, "to_position": 1000}
    calls.append(
        ("/v1/webhooks/{subscription_id}/replay", "/v1/webhooks/{webhooks}/replay", replayed, tenant.headers)
    )
    calls.append(
        ("/v1/webhooks/{subscription_id}/archive", "/v1/webhooks/{webhooks}/archive", None, tenant.headers)
    )
    # A connection is tried against its live endpoint before it is saved: the mock ERP.
    connection = {"integration": "erp", "name": "ERP", "config": {"url": erp[0]}}
    calls.append(("/v1/connections", "/v1/connections", connection, tenant.headers))
    for action in ("pause", "resume", "test", "archive"):
        template = f"/v1/connections/{{connection_id}}/{action}"
        calls.append((template, f"/v1/connections/{{connections}}/{action}", None, tenant.headers))
    alarm, hold = w["alarm"]["id"], w["hold"]["id"]
    for action, body in (
        ("assign", {"assignee": "qa"}),
        ("comments", {"text": "on it"}),
        ("acknowledge", None),
    ):
        path = f"/v1/alarms/{{alarm_id}}/{action}"
        calls.append((path, f"/v1/alarms/{alarm}/{action}", body, tenant.headers))
    calls.append(
        ("/v1/alarms/{alarm_id}/clear", f"/v1/alarms/{alarm}/clear", {"reason": "ok"}, tenant.headers)
    )
    release = {"reason": "inspected"}
    calls.append(("/v1/holds/{hold_id}/release", f"/v1/holds/{hold}/release", release, tenant.headers))
    held = {"lot_id": "{lots}", "reason": "inspect the seals"}  # the lot SAMPLES made: not on hold
    calls.append(("/v1/holds", "/v1/holds", held, tenant.headers))
    recall = {"lots": [w["lot"]["id"]], "hold": True, "reason": "supplier notice"}
    calls.append(("/v1/traceability/recalls", "/v1/traceability/recalls", recall, tenant.headers))
    shipped = {
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T08:00:00+01:00",
        "eventTimeZoneOffset": "+01:00",
        "action": "OBSERVE",
        "epcList": ["urn:epc:id:sgtin:4012345.011111.1001"],
        "bizStep": "shipping",
    }
    calls.append(("/v1/epcis/capture", "/v1/epcis/capture", shipped, tenant.headers))
    imported = {"regions": [{"code": "APAC", "name": "Asia Pacific"}]}
    calls.append(("/v1/imports", "/v1/imports", imported, tenant.headers))
    # Computed, not stored: the replay answers the first recommendation, published once.
    asked = {"product_id": w["product"]["id"], "site_id": w["dc"]["id"]}
    calls.append(
        ("/v1/replenishment/recommendations", "/v1/replenishment/recommendations", asked, tenant.headers)
    )
    # A forecast run is stored each time; the replay answers the first run and stores no second.
    calls.append(("/v1/forecasts/runs", "/v1/forecasts/runs", asked, tenant.headers))
    override = {
        **asked,
        "starts_on": "2999-01-01",
        "ends_on": "2999-01-07",
        "kind": "delta",
        "value": 5,
        "reason_code": "promotion",
    }
    calls.append(("/v1/forecast-overrides", "/v1/forecast-overrides", override, tenant.headers))
    history = {
        "rows": [{"unique_id": f"{w['product']['sku']}@{w['dc']['code']}", "ds": "2026-11-01", "y": 1}]
    }
    calls.append(("/v1/demand-history", "/v1/demand-history", history, tenant.headers))
    # An export job: the replay answers the finished job and writes no second one.
    export = {"datasets": ["events", "shipments"], "from": "2026-11-01", "to": "2026-11-02"}
    calls.append(("/v1/exports", "/v1/exports", export, tenant.headers))
    # Device ingestion authenticates devices, not API keys, and is idempotent by per-device
    # sequence numbers instead (tests/telemetry/test_ingest_http.py).
    paths.remove("/v1/telemetry")
    # Replaying a dead letter needs an MQTT message refused first and is replayed at most once
    # (409 after); its Idempotency-Key replay is tested in tests/telemetry/test_mqtt.py.
    paths.remove("/v1/dead-letters/{letter_id}/replay")
    # Retrying a webhook delivery needs one that failed first; its Idempotency-Key replay is
    # tested in tests/sharing/test_delivery.py.
    paths.remove("/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/retry")
    # A rule's dry-run writes nothing (tests/rules/test_evaluation_kinds.py): nothing to repeat.
    paths.remove("/v1/rules/dry-run")
    # Logging in and out are not changes to replay: each login answers a new session, a logout
    # ends the caller's own (tests/access/test_people.py).
    paths.remove("/v1/auth/login")
    paths.remove("/v1/auth/logout")
    assert sorted(paths) == sorted(template for template, *_ in calls), "a POST this test does not call"

    for n, (_, path, body, headers) in enumerate(calls):
        url = path.format_map(created)
        h = _key(headers, f"key-{n}")
        before = await _log_size(services)
        body = _filled(body, created)
        first = await client.post(url, json=body, headers=h)
        assert first.status_code in (200, 201, 202), (url, first.text)
        middle = await _log_size(services)
        again = await client.post(url, json=body, headers=h)
        assert (again.status_code, again.json()) == (first.status_code, _secretless(first.json())), url
        assert again.headers.get("idempotent-replayed") == "true", url
        assert await _log_size(services) == middle > before, url
        if first.status_code == 201 and "id" in first.json():
            created[path.removeprefix("/v1/")] = first.json()["id"]


def _filled(body: dict[str, Any] | None, created: dict[str, str]) -> dict[str, Any] | None:
    """A body naming a record created earlier in the walk ("{users}")."""
    if body is None:
        return None
    return {
        k: v.format_map(created) if isinstance(v, str) and v.startswith("{") else v for k, v in body.items()
    }


def _secretless(body: dict[str, Any]) -> dict[str, Any]:
    """A replay carries everything of the first answer except an issued key's token."""
    if "admin_key" in body:
        return {**body, "admin_key": {**body["admin_key"], "token": None}}
    return {**body, **{k: None for k in ("token", "secret") if k in body}}


async def _log_size(services: Services) -> int:
    """Events in the log plus tenants: every POST adds to one of them."""
    async with services.engine.connect() as conn:
        events = (await conn.execute(select(func.count()).select_from(eventlog_event))).scalar_one()
        tenants = (await conn.execute(select(func.count()).select_from(access_tenant))).scalar_one()
    return int(events) + int(tenants)


async def test_issued_secrets_are_never_stored_and_a_replay_omits_them(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    from supplyline.access.tables import access_idempotency_key

    body = {"name": "ci robot", "role": "operator"}
    first = await client.post("/v1/api-keys", json=body, headers=_key(tenant.headers, "issue-1"))
    assert first.status_code == 201
    token = first.json()["token"]
    assert token.startswith("sl_")
    again = await client.post("/v1/api-keys", json=body, headers=_key(tenant.headers, "issue-1"))
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["token"] is None
    assert again.json()["id"] == first.json()["id"]
    tenant_body = {"slug": "initech", "name": "Initech"}
    created = await client.post("/v1/tenants", json=tenant_body, headers=_key(PLATFORM_HEADERS, "t-1"))
    admin_token = created.json()["admin_key"]["token"]
    async with services.read_engine.connect() as conn:
        stored = [str(r.body) for r in await conn.execute(select(access_idempotency_key.c.body))]
    assert stored and not any(token in s or admin_token in s for s in stored)


async def test_records_expire_after_the_ttl(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from supplyline.access.tables import access_idempotency_key as t
    from supplyline.kernel.clock import utcnow

    h = _key(tenant.headers, "old-key")
    first = await client.post("/v1/sites", json=SITE, headers=h)
    assert first.status_code == 201
    hours = services.settings.idempotency_ttl_hours
    async with services.engine.begin() as conn:
        await conn.execute(update(t).values(created_at=utcnow() - timedelta(hours=hours, minutes=1)))
    # Past the TTL the key is new again: the same body runs again (and meets the taken code).
    again = await client.post("/v1/sites", json=SITE, headers=h)
    assert again.status_code == 409
    other = await client.post("/v1/sites", json={**SITE, "code": "S2"}, headers=h)
    assert other.status_code == 201 and "idempotent-replayed" not in other.headers
