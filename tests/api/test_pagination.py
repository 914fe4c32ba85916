"""Cursor pagination: complete, without duplicates, stable, and combined with filters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from supplyline.api import create_app
from tests.api.samples import events_of
from tests.conftest import Backend, TenantCtx, make_services, new_tenant
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
    too_many = await client.get("/v1/sites", params={"limit": 1001}, headers=tenant.headers)
    assert too_many.status_code == 422
    reason = "at most 1000 (SUPPLYLINE_MAX_PAGE_SIZE)"
    assert too_many.json()["errors"] == [{"field": "limit", "reason": reason}]
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


async def test_the_page_size_settings_are_honoured_and_documented(backend: Backend, tmp_path: Path) -> None:
    svc = make_services(backend, tmp_path, page_size=2, max_page_size=4)
    try:
        tenant = await new_tenant(svc, "acme")
        app = create_app(svc, run_consumers=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for i in range(5):
                await post(client, tenant.headers, "regions", {"code": f"R{i}", "name": f"Region {i}"})
            assert [len(p) for p in await _walk(client, tenant, "/v1/regions")] == [2, 2, 1]
            assert [len(p) for p in await _walk(client, tenant, "/v1/events")] == [2, 2, 2, 1]
            assert [len(p) for p in await _walk(client, tenant, "/v1/audit")] == [2, 2, 1]
            refused = await client.get("/v1/regions", params={"limit": 5}, headers=tenant.headers)
            assert refused.status_code == 422
            assert refused.json()["errors"][0]["field"] == "limit"
            document = (await client.get("/openapi.json")).json()
    finally:
        await svc.close()
    paged = 0
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            params = {p["name"]: p for p in op.get("parameters", ())}
            if "cursor" not in params:
                continue
            paged += 1
            assert params["limit"]["schema"] == {
                "type": "integer",
                "minimum": 1,
                "maximum": 4,
                "default": 2,
                "title": "Limit",
            }, f"{method} {path}"
    assert paged >= 20  # every resource list, events, audit, alarms, holds, ledger, dead letters...


async def test_a_cursor_only_opens_its_own_list(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    for i in range(3):
        await post(client, tenant.headers, "regions", {"code": f"R{i}", "name": f"Region {i}"})
        await post(client, tenant.headers, "sites", {"code": f"S{i}", "name": f"Site {i}", "kind": "depot"})
    sites = (await client.get("/v1/sites", params={"limit": 1}, headers=tenant.headers)).json()
    events = (await client.get("/v1/events", params={"limit": 1}, headers=tenant.headers)).json()
    for path, cursor in [("/v1/regions", sites["next_cursor"]), ("/v1/audit", events["next_cursor"])]:
        r = await client.get(path, params={"cursor": cursor}, headers=tenant.headers)
        assert r.status_code == 422, path
        assert r.json()["errors"] == [{"field": "cursor", "reason": "not a cursor issued for this list"}]
    garbage = await client.get("/v1/alarms", params={"cursor": "%%%not-base64"}, headers=tenant.headers)
    assert garbage.status_code == 422
