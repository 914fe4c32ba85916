"""Issue 17, point 2's acceptance: a receiver that fails, times out and recovers gets every
event at least once, in order per subject, each delivery verifying with `standardwebhooks`,
through a rotation of the secret."""

from __future__ import annotations

from collections import defaultdict

import httpx
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from supplyline.api import create_app
from tests.conftest import new_tenant
from tests.sharing.conftest import LOOPBACK, Clock, Receiver, ServicesFactory
from tests.sharing.helpers import deliveries, new_site, rename, settle, subscribe


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


async def test_a_receiver_that_fails_times_out_and_recovers_gets_everything_in_order(
    make_hook_services: ServicesFactory, receiver: Receiver, clock: Clock
) -> None:
    svc = make_hook_services(
        webhook_allowed_cidrs=LOOPBACK,
        webhook_timeout_s=0.5,
        webhook_backoff_base_s=1,
        webhook_backoff_cap_s=4,
        webhook_breaker_failures=3,
        webhook_breaker_cooldown_s=10,
    )
    transport = httpx.ASGITransport(app=create_app(svc, run_consumers=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        tenant = await new_tenant(svc, "acme")
        sub = await subscribe(client, tenant, receiver.url("/in"))
        secrets = [sub["secret"]]
        receiver.fail_next["/in"] = 2
        receiver.hang_next["/in"] = 1
        sites = [await new_site(client, tenant, f"S{i}") for i in range(3)]
        for round_ in range(2):
            for s in sites:
                await rename(client, tenant, s["id"], f"{s['code']}-{round_}")
        await svc.consumers.catch_up("sharing.webhooks")
        for _ in range(3):  # fail, fail, time out: the breaker opens
            await svc.deliverer.run_once()
            clock.advance(seconds=5)
        assert svc.deliverer.breakers.state(receiver.url("/in"), clock()) == "open"
        r = await client.post(f"/v1/webhooks/{sub['id']}/rotate-secret", headers=tenant.headers)
        secrets.append(r.json()["secret"])
        clock.advance(seconds=10)
        await settle(svc, clock)

    rows = await deliveries(svc)
    assert len(rows) == 9 and {r["status"] for r in rows} == {"delivered"}
    answered = [g for g in receiver.got if g.answered == 200]
    assert {g.headers["webhook-id"] for g in answered} == {str(r["id"]) for r in rows}  # at least once
    assert len(receiver.got) > len(answered)  # ... and some more than once
    by_subject: dict[str, list[int]] = defaultdict(list)
    for g in answered:
        by_subject[g.event["subject"]].append(g.event["position"])
    assert len(by_subject) == 3
    assert all(p == sorted(p) for p in by_subject.values()), by_subject
    for g in receiver.got:
        assert any(_verifies(s, g.body, g.headers) for s in secrets)
    after = [g for g in receiver.got if len(g.headers["webhook-signature"].split(" ")) == 2]
    assert after and all(_verifies(s, g.body, g.headers) for g in after for s in secrets)
