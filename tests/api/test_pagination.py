"""Cursor pagination: complete, without duplicates, stable, and combined with filters."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.samples import events_of
from tests.conftest import TenantCtx
from tests.factories import post


async def _walk(
    client: httpx.AsyncClient, tenant: TenantCtx, path: str, **params: Any
) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = await client.get(path, params=query, headers=tenant.headers)
        assert r.status_code == 200, r.text
        pages.append(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 20, "the cursor does not advance"


async def test_pages_of_sites(client: httpx.AsyncClient, tenant: TenantCtx, other_tenant: TenantCtx) -> None:
    r = await client.get("/v1/sites", headers=tenant.headers)
    assert r.json() == {"items": [], "next_cursor": None}
    assert (await client.get("/v1/sites", params={"limit": 501}, headers=tenant.headers)).status_code == 422
    kinds = ["depot", "store", "depot", "store", "depot", "store", "depot"]
    made = [
        await post(client, tenant.headers, "sites", {"code": f"S{i}", "name": f"Site {i}", "kind": kind})
        for i, kind in enumerate(kinds)
    ]
    await post(client, other_tenant.headers, "sites", {"code": "X", "name": "X", "kind": "depot"})

    pages = await _walk(client, tenant, "/v1/sites", limit=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    ids = [s["id"] for p in pages for s in p]
    assert len(set(ids)) == 7 and set(ids) == {s["id"] for s in made}
    assert pages == await _walk(client, tenant, "/v1/sites", limit=3), "the order is not stable"
    # A page of exactly the remaining size says there is no more.
    assert [len(p) for p in await _walk(client, tenant, "/v1/sites", limit=7)] == [7]

    # Records added while paging show up once, on a later page, never twice.
    first = (await client.get("/v1/sites", params={"limit": 3}, headers=tenant.headers)).json()
    await post(client, tenant.headers, "sites", {"code": "S7", "name": "Late", "kind": "depot"})
    rest = await _walk(client, tenant, "/v1/sites", limit=3, cursor=first["next_cursor"])
    seen = [s["id"] for s in first["items"]] + [s["id"] for p in rest for s in p]
    assert len(seen) == len(set(seen)) == 8

    # Filters combine with pagination, and archived records leave the walk unless asked for.
    depots = await _walk(client, tenant, "/v1/sites", limit=3, kind="depot")
    assert [len(p) for p in depots] == [3, 2]
    assert all(s["kind"] == "depot" for p in depots for s in p)
    await client.post(f"/v1/sites/{made[0]['id']}/archive", headers=tenant.headers)
    assert [len(p) for p in await _walk(client, tenant, "/v1/sites", limit=3, kind="depot")] == [3, 1]
    everything = await _walk(client, tenant, "/v1/sites", limit=3, kind="depot", include_archived="true")
    assert sum(len(p) for p in everything) == 5


async def test_pages_of_events(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    for i in range(5):
        await post(client, tenant.headers, "regions", {"code": f"R{i}", "name": f"Region {i}"})
    pages = await _walk(client, tenant, "/v1/events", limit=2, type="supplyline.region.created.v1")
    assert [len(p) for p in pages] == [2, 2, 1]
    positions = [e["position"] for p in pages for e in p]
    assert positions == sorted(positions) and len(set(positions)) == 5
    assert [e["id"] for p in pages for e in p] == [
        e["id"] for e in await events_of(client, tenant.headers, type="supplyline.region.created.v1")
    ]
