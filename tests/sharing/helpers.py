"""Steps the webhook tests share: a tenant, a subscription, events, and running the outbox."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from supplyline.bootstrap import Services
from supplyline.integrations.tables import integrations_delivery
from tests.conftest import TenantCtx
from tests.sharing.conftest import Clock

SITE_EVENTS = ["supplyline.site.created.v1", "supplyline.site.updated.v1"]


async def subscribe(
    client: httpx.AsyncClient, tenant: TenantCtx, url: str, types: list[str] | None = None
) -> dict[str, Any]:
    r = await client.post(
        "/v1/webhooks", json={"url": url, "event_types": types or SITE_EVENTS}, headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def new_site(client: httpx.AsyncClient, tenant: TenantCtx, code: str) -> dict[str, Any]:
    r = await client.post(
        "/v1/sites", json={"code": code, "name": code, "kind": "store"}, headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def rename(client: httpx.AsyncClient, tenant: TenantCtx, site_id: str, name: str) -> None:
    r = await client.patch(f"/v1/sites/{site_id}", json={"name": name}, headers=tenant.headers)
    assert r.status_code == 200, r.text


async def deliveries(svc: Services) -> list[dict[str, Any]]:
    D = integrations_delivery
    async with svc.engine.connect() as conn:
        rows = await conn.execute(select(D).order_by(D.c.position, D.c.created_at))
        return [dict(r) for r in rows.mappings()]


async def settle(svc: Services, clock: Clock, rounds: int = 30, step_s: float = 5) -> None:
    """Fan out, then run the outbox until nothing is pending, moving the clock past each
    backoff (the bound of the tests' policy is a few seconds)."""
    await svc.consumers.catch_up("sharing.webhooks")
    for _ in range(rounds):
        await svc.deliverer.run_once()
        if not [d for d in await deliveries(svc) if d["status"] == "pending"]:
            return
        clock.advance(seconds=step_s)
    raise AssertionError("deliveries still pending")
