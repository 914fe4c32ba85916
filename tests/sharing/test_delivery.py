"""At-least-once delivery to a real receiver that fails, hangs and recovers: backoff, the
breaker, dead letters and their retry, order per subject, replay, and the SSRF guard."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
from standardwebhooks import Webhook

from supplyline.api import create_app
from supplyline.bootstrap import Services
from tests.api.samples import assert_problem
from tests.conftest import new_tenant
from tests.sharing.conftest import LOOPBACK, Clock, Receiver, ServicesFactory
from tests.sharing.helpers import deliveries, new_site, rename, settle, subscribe


def _name(event: dict[str, Any]) -> str:
    """A site's name in its event: a created event carries the record, an updated one wraps it."""
    data = event["data"]
    return str(data.get("record", data)["name"])


def _client(svc: Services) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(svc, run_consumers=False)), base_url="http://t"
    )


async def test_a_failed_attempt_waits_within_the_jittered_bound(
    hook_client: httpx.AsyncClient, hook_services: Services, receiver: Receiver, clock: Clock
) -> None:
    tenant = await new_tenant(hook_services, "acme")
    await subscribe(hook_client, tenant, receiver.url("/in"))
    receiver.status["/in"] = 500
    await new_site(hook_client, tenant, "S1")
    await hook_services.consumers.catch_up("sharing.webhooks")
    waits = []
    for attempt in range(1, 4):
        before = clock()
        assert await hook_services.deliverer.run_once() == 0
        (row,) = await deliveries(hook_services)
        assert row["attempts"] == attempt and row["last_error"].startswith("HTTP 500")
        wait = (row["next_attempt_at"] - before).total_seconds()
        assert -1 <= wait <= min(4, 2 ** (attempt - 1)) + 1, (attempt, wait)  # base 1 s, cap 4 s
        waits.append(wait)
        clock.advance(seconds=5)
    assert [e["attempt"] for e in row["errors"]] == [1, 2, 3]


async def test_the_breaker_stops_trying_an_endpoint_then_probes_it(
    make_hook_services: ServicesFactory, receiver: Receiver, clock: Clock
) -> None:
    svc = make_hook_services(
        webhook_allowed_cidrs=LOOPBACK,
        webhook_backoff_base_s=0.01,
        webhook_backoff_cap_s=0.01,
        webhook_breaker_failures=2,
        webhook_breaker_cooldown_s=60,
    )
    async with _client(svc) as client:
        tenant = await new_tenant(svc, "acme")
        await subscribe(client, tenant, receiver.url("/down"))
        receiver.status["/down"] = 503
        await new_site(client, tenant, "S1")
        await svc.consumers.catch_up("sharing.webhooks")
        url = receiver.url("/down")
        for _ in range(2):
            clock.advance(seconds=1)
            await svc.deliverer.run_once()
        assert len(receiver.at("/down")) == 2 and svc.deliverer.breakers.state(url, clock()) == "open"
        clock.advance(seconds=30)  # due again, but the breaker is open: nothing is sent
        assert await svc.deliverer.run_once() == 0 and len(receiver.at("/down")) == 2
        clock.advance(seconds=31)
        assert svc.deliverer.breakers.state(url, clock()) == "half-open"
        await svc.deliverer.run_once()  # the probe fails: open again
        assert len(receiver.at("/down")) == 3 and svc.deliverer.breakers.state(url, clock()) == "open"
        clock.advance(seconds=61)
        del receiver.status["/down"]
        assert await svc.deliverer.run_once() == 1  # the probe succeeds: closed
        assert svc.deliverer.breakers.state(url, clock()) == "closed"


async def test_a_delivery_that_keeps_failing_is_dead_listed_and_can_be_retried(
    make_hook_services: ServicesFactory, receiver: Receiver, clock: Clock
) -> None:
    svc = make_hook_services(webhook_allowed_cidrs=LOOPBACK, webhook_max_attempts=2, webhook_backoff_cap_s=1)
    async with _client(svc) as client:
        tenant = await new_tenant(svc, "acme")
        sub = await subscribe(client, tenant, receiver.url("/in"))
        receiver.status["/in"] = 500
        for code in ("S1", "S2"):
            await new_site(client, tenant, code)
        await svc.consumers.catch_up("sharing.webhooks")
        for _ in range(10):  # an endpoint stops at its first failure each round
            await svc.deliverer.run_once()
            clock.advance(seconds=2)
        assert len(receiver.at("/in")) == 4  # two deliveries, two attempts each
        path = f"/v1/webhooks/{sub['id']}/deliveries"
        first = (await client.get(path, params={"status": "dead", "limit": 1}, headers=tenant.headers)).json()
        assert len(first["items"]) == 1 and first["next_cursor"]
        params = {"status": "dead", "limit": 1, "cursor": first["next_cursor"]}
        second = (await client.get(path, params=params, headers=tenant.headers)).json()
        dead = [*first["items"], *second["items"]]
        assert {d["status"] for d in dead} == {"dead"} and len({d["id"] for d in dead}) == 2
        assert all(len(d["errors"]) == 2 and d["errors"][-1]["error"].startswith("HTTP 500") for d in dead)
        assert (await client.get(path, params={"status": "pending"}, headers=tenant.headers)).json()[
            "items"
        ] == []
        assert_problem(
            await client.get(path, params={"status": "lost"}, headers=tenant.headers), 422, "status"
        )

        del receiver.status["/in"]
        retry = f"{path}/{dead[0]['id']}/retry"
        keyed = {**tenant.headers, "Idempotency-Key": "retry-1"}
        r = await client.post(retry, headers=keyed)
        assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["attempts"] == 0
        again = await client.post(retry, headers=keyed)
        assert again.json() == r.json() and again.headers["Idempotent-Replayed"] == "true"
        assert await svc.deliverer.run_once() == 1
        got = receiver.at("/in")[-1]
        assert got.headers["webhook-id"] == dead[0]["id"]
        Webhook(sub["secret"]).verify(got.body, got.headers)
        assert_problem(await client.post(retry, headers=tenant.headers), 409)
        other = await new_tenant(svc, "globex")
        assert_problem(await client.post(f"{path}/{dead[1]['id']}/retry", headers=other.headers), 404)
        assert_problem(await client.get(path, headers=other.headers), 404)
        hook = f"/v1/webhooks/{sub['id']}"
        assert_problem(await client.post(f"{hook}/rotate-secret", headers=other.headers), 404)
        replay = {"from_position": 1, "to_position": 10}
        assert_problem(await client.post(f"{hook}/replay", json=replay, headers=other.headers), 404)


async def test_dead_after_hours_counts_from_when_it_was_queued(
    make_hook_services: ServicesFactory, receiver: Receiver, clock: Clock
) -> None:
    svc = make_hook_services(webhook_allowed_cidrs=LOOPBACK, webhook_dead_after_hours=1)
    async with _client(svc) as client:
        tenant = await new_tenant(svc, "acme")
        await subscribe(client, tenant, receiver.url("/in"))
        receiver.status["/in"] = 500
        await new_site(client, tenant, "S1")
        await svc.consumers.catch_up("sharing.webhooks")
        await svc.deliverer.run_once()
        assert (await deliveries(svc))[0]["status"] == "pending"
        clock.advance(hours=2)
        await svc.deliverer.run_once()
        (row,) = await deliveries(svc)
        assert row["status"] == "dead" and row["attempts"] == 2


async def test_a_subjects_events_arrive_in_order_when_the_first_attempt_fails(
    hook_client: httpx.AsyncClient, hook_services: Services, receiver: Receiver, clock: Clock
) -> None:
    tenant = await new_tenant(hook_services, "acme")
    await subscribe(hook_client, tenant, receiver.url("/in"))
    receiver.fail_next["/in"] = 1
    site = await new_site(hook_client, tenant, "S1")
    for name in ("one", "two", "three"):
        await rename(hook_client, tenant, site["id"], name)
    other = await new_site(hook_client, tenant, "S2")
    await hook_services.consumers.catch_up("sharing.webhooks")
    await hook_services.deliverer.run_once()  # the first fails: nothing of its subject passes it
    assert [g.event["subject"] for g in receiver.at("/in")] == [f"sites/{site['id']}"]
    await hook_services.deliverer.run_once()  # before its backoff ends: still nothing of S1
    assert not any(_name(g.event) == "one" for g in receiver.at("/in"))
    await settle(hook_services, clock)
    names = [_name(g.event) for g in receiver.at("/in") if g.event["subject"] == f"sites/{site['id']}"]
    assert names == ["S1", "S1", "one", "two", "three"]  # the first twice: at least once
    assert f"sites/{other['id']}" in {g.event["subject"] for g in receiver.at("/in")}
    positions = [
        d["position"] for d in await deliveries(hook_services) if d["subject"] == f"sites/{site['id']}"
    ]
    assert positions == sorted(positions)


async def test_a_replay_sends_exactly_the_range_again_once_per_replay_id(
    hook_client: httpx.AsyncClient, hook_services: Services, receiver: Receiver, clock: Clock
) -> None:
    tenant = await new_tenant(hook_services, "acme")
    sub = await subscribe(hook_client, tenant, receiver.url("/in"))
    sites = [await new_site(hook_client, tenant, f"S{i}") for i in range(5)]
    await settle(hook_services, clock)
    live = await deliveries(hook_services)
    assert len(live) == 5 and len(receiver.got) == 5
    positions = [d["position"] for d in live]
    body = {"from_position": positions[1], "to_position": positions[3], "replay_id": "r-1"}
    path = f"/v1/webhooks/{sub['id']}/replay"
    r = await hook_client.post(path, json=body, headers=tenant.headers)
    assert r.status_code == 202, r.text
    assert r.json()["queued"] == 3 and r.json()["replay_id"] == "r-1"
    again = await hook_client.post(path, json=body, headers=tenant.headers)
    assert again.json()["queued"] == 3  # the same replay id queues nothing twice
    await settle(hook_services, clock)
    replayed = receiver.got[5:]
    assert [g.event["subject"] for g in replayed] == [f"sites/{s['id']}" for s in sites[1:4]]
    assert all(Webhook(sub["secret"]).verify(g.body, g.headers) for g in replayed)
    assert {d["replay_id"] for d in await deliveries(hook_services)} == {"", "r-1"}
    r = await hook_client.post(path, json={**body, "replay_id": None}, headers=tenant.headers)
    assert r.json()["queued"] == 3 and r.json()["replay_id"] != "r-1"
    bad = {"from_position": 5, "to_position": 4}
    assert_problem(await hook_client.post(path, json=bad, headers=tenant.headers), 422, "to_position")
    assert_problem(
        await hook_client.post(path, json={"from_position": 0, "to_position": 4}, headers=tenant.headers), 422
    )


async def test_a_hanging_endpoint_holds_up_only_itself_for_one_timeout(
    make_hook_services: ServicesFactory, receiver: Receiver
) -> None:
    svc = make_hook_services(webhook_allowed_cidrs=LOOPBACK, webhook_timeout_s=0.5)
    async with _client(svc) as client:
        tenant = await new_tenant(svc, "acme")
        await subscribe(client, tenant, receiver.url("/slow"))
        await subscribe(client, tenant, receiver.url("/fast"))
        receiver.hang.add("/slow")
        for code in ("S1", "S2", "S3"):
            await new_site(client, tenant, code)
        await svc.consumers.catch_up("sharing.webhooks")
        started = time.monotonic()
        assert await svc.deliverer.run_once() == 3  # the fast endpoint's three
        assert time.monotonic() - started < 3  # one timeout (0.5 s) for the slow one, not three
    assert len(receiver.at("/fast")) == 3 and len(receiver.at("/slow")) == 1
    slow = [d for d in await deliveries(svc) if d["url"].endswith("/slow")]
    assert [d["attempts"] for d in slow] == [1, 0, 0] and "within 0.5 s" in slow[0]["last_error"]


async def test_private_targets_are_refused_unless_allowed(
    make_hook_services: ServicesFactory, receiver: Receiver, clock: Clock
) -> None:
    guarded = make_hook_services()
    async with _client(guarded) as client:
        tenant = await new_tenant(guarded, "acme")
        for url in (
            "http://10.0.0.1/in",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:8080/in",
            "http://[::ffff:127.0.0.1]/in",
            "http://localhost:8080/in",
            receiver.url("/in"),
        ):
            r = await client.post("/v1/webhooks", json={"url": url}, headers=tenant.headers)
            assert_problem(r, 422, "url", "not a public address")
        assert (await client.get("/v1/webhooks", headers=tenant.headers)).json()["items"] == []
    trusting = make_hook_services(webhook_allow_private=True)
    async with _client(trusting) as client:
        tenant = await new_tenant(trusting, "initech")
        r = await client.post("/v1/webhooks", json={"url": "http://10.0.0.1/in"}, headers=tenant.headers)
        assert r.status_code == 201, r.text


async def test_the_guard_runs_again_at_send_time(
    make_hook_services: ServicesFactory, receiver: Receiver, clock: Clock
) -> None:
    """A subscription saved while loopback was allowed is not sent once the operator stops
    allowing it (the same database, a worker started with the stricter settings)."""
    lenient = make_hook_services(webhook_allowed_cidrs=LOOPBACK)
    async with _client(lenient) as client:
        tenant = await new_tenant(lenient, "acme")
        await subscribe(client, tenant, receiver.url("/in").replace("127.0.0.1", "localhost"))
        await new_site(client, tenant, "S1")
    await lenient.consumers.catch_up("sharing.webhooks")
    strict = make_hook_services()
    assert await strict.deliverer.run_once() == 0
    (row,) = await deliveries(strict)
    assert "SSRF guard: localhost resolves to 127.0.0.1" in row["last_error"] and receiver.got == []
    clock.advance(seconds=2)  # past the backoff
    assert await lenient.deliverer.run_once() == 1 and len(receiver.got) == 1
    got: Any = receiver.got[0]
    assert got.headers["host"].startswith("localhost:")  # sent to the checked address, named as given
    assert timedelta(0) <= clock() - row["created_at"]


async def test_a_secret_that_does_not_decrypt_holds_its_deliveries_rather_than_sending_unsigned(
    make_hook_services: ServicesFactory, receiver: Receiver, clock: Clock
) -> None:
    from cryptography.fernet import Fernet

    first = make_hook_services(webhook_allowed_cidrs=LOOPBACK, secret_key=Fernet.generate_key().decode())
    async with _client(first) as client:
        tenant = await new_tenant(first, "acme")
        await subscribe(client, tenant, receiver.url("/in"))
        await new_site(client, tenant, "S1")
    await first.consumers.catch_up("sharing.webhooks")
    changed = make_hook_services(webhook_allowed_cidrs=LOOPBACK, secret_key=Fernet.generate_key().decode())
    assert await changed.deliverer.run_once() == 0 and receiver.got == []
    (row,) = await deliveries(changed)
    assert row["status"] == "pending" and row["last_error"].startswith("cannot sign: a device secret")
    clock.advance(seconds=5)  # past the backoff: the right key sends it, signed
    assert await first.deliverer.run_once() == 1 and "webhook-signature" in receiver.got[0].headers
