"""The webhook fan-out takes a write transaction only for events a live subscription may want."""

from __future__ import annotations

import httpx

from supplyline.bootstrap import Services
from supplyline.eventlog.consumers import head_position
from tests.conftest import TenantCtx


async def test_only_tenants_with_a_live_subscription_need_the_fanout(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    fanout = services.consumers.get("sharing.webhooks")
    wants = fanout.wants  # type: ignore[attr-defined]
    async with services.read_engine.connect() as conn:
        head = await head_position(conn)
        events = await services.events.read(conn, after=0, limit=head, tenant_id=tenant.id)
        assert events and not await wants(conn, events)

    hook = {"url": "https://hooks.example/hook"}  # looked up only to send
    r = await client.post("/v1/webhooks", json=hook, headers=other_tenant.headers)
    assert r.status_code == 201, r.text
    async with services.read_engine.connect() as conn:
        assert not await wants(conn, events)  # another tenant's subscription is not ours

    r = await client.post("/v1/webhooks", json=hook, headers=tenant.headers)
    assert r.status_code == 201, r.text
    async with services.read_engine.connect() as conn:
        assert await wants(conn, events)
    r = await client.post(f"/v1/webhooks/{r.json()['id']}/archive", headers=tenant.headers)
    assert r.status_code == 200, r.text
    async with services.read_engine.connect() as conn:
        assert not await wants(conn, events)
