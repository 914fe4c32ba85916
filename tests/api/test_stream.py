"""GET /v1/stream: the caller's events as server-sent events, live, resumable, confined."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson

from supplyline.bootstrap import Services
from tests.api.samples import assert_problem, raise_alarm_and_hold
from tests.conftest import TenantCtx
from tests.factories import post, world

SITE = {"code": "S9", "name": "Site 9", "kind": "store"}


def parse(text: str) -> tuple[list[int], list[dict[str, Any]]]:
    """The ids (every ``id:`` line) and the events (every ``data:`` line) of a stream."""
    ids = [int(line[4:]) for line in text.splitlines() if line.startswith("id: ")]
    events = [orjson.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    return ids, events


async def listening(services: Services) -> None:
    """Until a stream waits on the log's notifier (it has read everything there was)."""
    while not services.events.notifier._waiters:  # noqa: ASYNC110 - no hook to await
        await asyncio.sleep(0.01)


async def test_an_alarm_raised_after_connecting_arrives(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    services.settings.stream_max_s = 2
    services.settings.stream_poll_s = 30  # so only the commit's wake-up can bring it in time
    task = asyncio.create_task(client.get("/v1/stream", params={"types": "alarm.*"}, headers=tenant.headers))
    await listening(services)
    await raise_alarm_and_hold(services, tenant.id, w)
    r = await task
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-store"
    ids, events = parse(r.text)
    assert [e["type"] for e in events] == ["supplyline.alarm.raised.v1"]
    assert events[0]["subject"] == f"alarms/{w['alarm']['id']}"
    assert ids[-1] == events[0]["position"]
    assert r.text.startswith("retry: ")


async def test_a_reconnect_resumes_after_the_last_event_id(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    h = tenant.headers
    first = await client.get("/v1/stream", params={"types": "site.*"}, headers=h)
    head = parse(first.text)[0][-1]  # a stream from the present names the present as its id
    assert parse(first.text)[1] == []
    a = await post(client, h, "sites", SITE)
    missed = [await post(client, h, "sites", {**SITE, "code": f"S{i}"}) for i in (10, 11)]
    r = await client.get("/v1/stream", params={"types": "site.*"}, headers={**h, "Last-Event-ID": str(head)})
    _, events = parse(r.text)
    assert [e["subject"] for e in events] == [f"sites/{s['id']}" for s in (a, *missed)]
    r = await client.get(
        "/v1/stream", params={"types": "site.*"}, headers={**h, "Last-Event-ID": str(events[0]["position"])}
    )
    assert [e["subject"] for e in parse(r.text)[1]] == [f"sites/{s['id']}" for s in missed]
    # Last-Event-ID wins over after; both bounded like /v1/events' after.
    r = await client.get(
        "/v1/stream", params={"after": 0, "types": "site.*"}, headers={**h, "Last-Event-ID": str(head)}
    )
    assert len(parse(r.text)[1]) == 3


async def test_another_tenants_events_never_arrive(
    client: httpx.AsyncClient, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    theirs = await post(client, other_tenant.headers, "sites", SITE)
    mine = await post(client, tenant.headers, "sites", SITE)
    r = await client.get("/v1/stream", params={"after": 0}, headers=tenant.headers)
    _, events = parse(r.text)
    assert {e["tenantid"] for e in events} == {str(tenant.id)}
    assert mine["id"] in r.text and theirs["id"] not in r.text


async def test_a_partners_out_of_reach_events_never_arrive(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    """A carrier's key sees its own shipment's events, not another carrier's (the partner
    matrix holds every identity's stream to its /v1/events)."""
    h = tenant.headers
    w = await world(client, h)
    other = await post(client, h, "organizations", {"code": "CAR2", "name": "Slow", "kind": "carrier"})
    base = {"origin_site_id": w["dc"]["id"], "destination_site_id": w["store"]["id"]}
    mine = await post(
        client, h, "shipments", {**base, "number": "SH-1", "carrier_organization_id": w["carrier"]["id"]}
    )
    not_mine = await post(
        client, h, "shipments", {**base, "number": "SH-2", "carrier_organization_id": other["id"]}
    )
    body = {"name": "car1", "role": "partner_viewer", "organization_id": w["carrier"]["id"]}
    key = await post(client, h, "api-keys", body)
    r = await client.get(
        "/v1/stream", params={"after": 0}, headers={"Authorization": f"Bearer {key['token']}"}
    )
    subjects = {e["subject"] for e in parse(r.text)[1]}
    assert f"shipments/{mine['id']}" in subjects
    assert f"shipments/{not_mine['id']}" not in subjects and not_mine["id"] not in r.text


async def test_types_are_names_or_types_with_wildcards(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    h = tenant.headers
    await post(client, h, "sites", SITE)
    for types in ("site.created", "supplyline.site.*", "site.*,alarm.*", " site.* , "):
        r = await client.get("/v1/stream", params={"after": 0, "types": types}, headers=h)
        assert {e["type"] for e in parse(r.text)[1]} == {"supplyline.site.created.v1"}, types
    r = await client.get("/v1/stream", params={"after": 0, "types": "*"}, headers=h)
    assert "supplyline.audit.recorded.v1" not in {e["type"] for e in parse(r.text)[1]}
    assert_problem(await client.get("/v1/stream", params={"types": "site.*,nope.*"}, headers=h), 422, "types")
    bad = {**h, "Last-Event-ID": "x"}
    assert_problem(await client.get("/v1/stream", headers=bad), 422, "Last-Event-ID")
    assert_problem(await client.get("/v1/stream", params={"after": -1}, headers=h), 422, "after")
    assert_problem(await client.get("/v1/stream"), 401)


async def test_a_quiet_stream_sends_heartbeats_and_ends_when_the_session_does(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    services.settings.stream_max_s = 0.5
    services.settings.stream_heartbeat_s = 0.05
    services.settings.stream_poll_s = 0.05
    r = await client.get("/v1/stream", headers=tenant.headers)
    assert ": heartbeat" in r.text and parse(r.text)[1] == []
    services.settings.stream_max_s = 30
    user = await post(client, tenant.headers, "users", {"email": "o@acme.example", "password": "p" * 12})
    await post(client, tenant.headers, "role-assignments", {"role": "site_operator", "user_id": user["id"]})
    login = {"tenant": tenant.slug, "email": "o@acme.example", "password": "p" * 12}
    session = (await client.post("/v1/auth/login", json=login)).json()["token"]
    task = asyncio.create_task(client.get("/v1/stream", headers={"Authorization": f"Bearer {session}"}))
    await listening(services)
    r = await client.post(f"/v1/users/{user['id']}/revoke-sessions", json={}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    r = await task  # ended by the revocation, long before stream_max_s
    assert r.status_code == 200
