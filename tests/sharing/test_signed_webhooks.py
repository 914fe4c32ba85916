"""Deliveries are signed after Standard Webhooks and verify with the `standardwebhooks`
library from PyPI (an independent implementation); secrets are shown once, kept encrypted,
and rotate with an overlap in which both sign."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from supplyline.api import create_app
from supplyline.bootstrap import Services
from supplyline.sharing.tables import sharing_webhook
from tests.conftest import new_tenant
from tests.sharing.conftest import LOOPBACK, Clock, Receiver, ServicesFactory
from tests.sharing.helpers import SITE_EVENTS, deliveries, new_site, rename, settle, subscribe


async def test_every_delivery_verifies_and_a_retry_keeps_its_webhook_id(
    hook_client: httpx.AsyncClient, hook_services: Services, receiver: Receiver, clock: Clock
) -> None:
    tenant = await new_tenant(hook_services, "acme")
    sub = await subscribe(hook_client, tenant, receiver.url("/in"))
    secret = sub["secret"]
    assert secret.startswith("whsec_") and len(secret) == len("whsec_") + 32 and sub["signed"] is True
    listed = (await hook_client.get("/v1/webhooks", headers=tenant.headers)).json()["items"]
    assert "secret" not in listed[0] and "secret_enc" not in listed[0] and listed[0]["signed"] is True
    receiver.fail_next["/in"] = 1
    site = await new_site(hook_client, tenant, "S1")
    await rename(hook_client, tenant, site["id"], "Renamed")
    await settle(hook_services, clock)

    got = receiver.at("/in")
    assert len(got) == 3  # the first failed once and came again
    hook = Webhook(secret)
    for g in got:
        event = hook.verify(g.body, g.headers)
        assert event["type"] in SITE_EVENTS
        assert int(g.headers["webhook-timestamp"]) == pytest.approx(clock().timestamp(), abs=120)
    assert got[0].headers["webhook-id"] == got[1].headers["webhook-id"]  # a retry is the same message
    assert got[0].headers["webhook-id"] != got[2].headers["webhook-id"]
    ids = {str(d["id"]) for d in await deliveries(hook_services)}
    assert {g.headers["webhook-id"] for g in got} == ids
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(got[0].body, got[0].headers)
    tampered = got[0].body.replace(b"S1", b"S2")
    with pytest.raises(WebhookVerificationError):
        hook.verify(tampered, got[0].headers)


async def test_the_secret_is_shown_once_and_stored_encrypted(
    hook_client: httpx.AsyncClient, hook_services: Services, receiver: Receiver
) -> None:
    tenant = await new_tenant(hook_services, "acme")
    headers = {**tenant.headers, "Idempotency-Key": "sub-1"}
    body = {"url": receiver.url("/in")}
    first = await hook_client.post("/v1/webhooks", json=body, headers=headers)
    again = await hook_client.post("/v1/webhooks", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    secret = first.json()["secret"]
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["secret"] is None
    assert again.json()["id"] == first.json()["id"]
    async with hook_services.engine.connect() as conn:
        (sealed,) = (await conn.execute(select(sharing_webhook.c.secret_enc))).one()
    assert secret.encode() not in sealed and secret.removeprefix("whsec_").encode() not in sealed
    assert hook_services.telemetry.box.open(sealed) == secret.encode()


async def test_during_a_rotation_both_secrets_sign_then_only_the_new_one(
    hook_client: httpx.AsyncClient, hook_services: Services, receiver: Receiver, clock: Clock
) -> None:
    tenant = await new_tenant(hook_services, "acme")
    sub = await subscribe(hook_client, tenant, receiver.url("/in"))
    old = sub["secret"]
    r = await hook_client.post(f"/v1/webhooks/{sub['id']}/rotate-secret", headers=tenant.headers)
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new != old and new.startswith("whsec_")
    await new_site(hook_client, tenant, "S1")
    await settle(hook_services, clock)
    (during,) = receiver.at("/in")
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)

    # A rotation made more than the overlap (24 h) ago: the old secret no longer signs. The
    # clock goes back for the rotation so that the library's 5-minute tolerance still holds.
    clock.advance(hours=-25)
    r = await hook_client.post(f"/v1/webhooks/{sub['id']}/rotate-secret", headers=tenant.headers)
    newest = r.json()["secret"]
    clock.advance(hours=25)
    await new_site(hook_client, tenant, "S2")
    await settle(hook_services, clock)
    after = receiver.at("/in")[-1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(newest).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(after.body, after.headers)


async def test_the_overlap_is_a_setting(
    make_hook_services: ServicesFactory, receiver: Receiver, clock: Clock
) -> None:
    svc = make_hook_services(webhook_allowed_cidrs=LOOPBACK, webhook_secret_overlap_hours=0)
    transport = httpx.ASGITransport(app=create_app(svc, run_consumers=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        tenant = await new_tenant(svc, "acme")
        sub = await subscribe(client, tenant, receiver.url("/in"))
        r = await client.post(f"/v1/webhooks/{sub['id']}/rotate-secret", headers=tenant.headers)
        new = r.json()["secret"]
        assert r.json()["previous_secret_until"] is not None
        await new_site(client, tenant, "S1")
        await settle(svc, clock)
    (got,) = receiver.at("/in")
    Webhook(new).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(sub["secret"]).verify(got.body, got.headers)
