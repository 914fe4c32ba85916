"""GET /v1/audit and /v1/audit/export: the tenant's entries, newest first, filtered; admins only."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx

from supplyline import audit
from supplyline.bootstrap import Services
from tests.api.samples import assert_problem
from tests.audit.conftest import bearer, entries, issue
from tests.conftest import TenantCtx


async def _trail(client: httpx.AsyncClient, tenant: TenantCtx, **params: Any) -> list[dict[str, Any]]:
    r = await client.get("/v1/audit", params={"limit": 1000, **params}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def _history(client: httpx.AsyncClient, tenant: TenantCtx) -> dict[str, Any]:
    """Sites by the admin, a region by an operator, one refusal of a viewer."""
    operator = await issue(client, tenant, "operator")
    viewer = await issue(client, tenant, "viewer")
    sites = []
    for i in range(3):
        body = {"code": f"S{i}", "name": f"Site {i}", "kind": "store"}
        r = await client.post(
            "/v1/sites", json=body, headers={**tenant.headers, "X-Correlation-ID": f"c-{i}"}
        )
        sites.append(r.json())
    await client.patch(f"/v1/sites/{sites[0]['id']}", json={"name": "First"}, headers=tenant.headers)
    r = await client.post(
        "/v1/regions", json={"code": "EU", "name": "Europe"}, headers=bearer(operator["token"])
    )
    assert r.status_code == 201
    r = await client.post("/v1/regions", json={"code": "NA", "name": "N"}, headers=bearer(viewer["token"]))
    assert r.status_code == 403
    return {"operator": operator, "viewer": viewer, "sites": sites}


async def test_filters_and_pages_newest_first(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    h = await _history(client, tenant)
    everything = await _trail(client, tenant)
    assert [e["action"] for e in everything] == [
        "auth.denied",
        "regions.create",
        "sites.update",
        "sites.create",
        "sites.create",
        "sites.create",
        "api_keys.create",
        "api_keys.create",
    ]
    assert [e["position"] for e in everything] == sorted((e["position"] for e in everything), reverse=True)
    assert everything[2]["before"]["name"] == "Site 0" and everything[2]["after"]["name"] == "First"

    pages, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/v1/audit", params=params, headers=tenant.headers)).json()
        pages.append([e["id"] for e in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [3, 3, 2]
    assert [i for p in pages for i in p] == [e["id"] for e in everything]

    site0 = f"sites/{h['sites'][0]['id']}"
    assert [e["action"] for e in await _trail(client, tenant, object=site0)] == [
        "sites.update",
        "sites.create",
    ]
    assert len(await _trail(client, tenant, object="sites/*")) == 4
    assert len(await _trail(client, tenant, action="sites.create")) == 3
    assert [e["action"] for e in await _trail(client, tenant, action="sites.*")] == ["sites.update"] + [
        "sites.create"
    ] * 3
    mine = await _trail(client, tenant, actor=f"api-key:{h['operator']['id']}")
    assert [e["action"] for e in mine] == ["regions.create"]
    [denied] = await _trail(client, tenant, outcome="denied")
    assert denied["actor"] == f"api-key:{h['viewer']['id']} (viewer key)" and denied["object"] == "regions"
    [one] = await _trail(client, tenant, correlation_id="c-1")
    assert one["object"] == f"sites/{h['sites'][1]['id']}"
    since = everything[3]["time"]  # the newest site creation
    assert [e["action"] for e in await _trail(client, tenant, since=since)] == [
        "auth.denied",
        "regions.create",
        "sites.update",
        "sites.create",
    ]
    assert [e["id"] for e in await _trail(client, tenant, until=since)] == [e["id"] for e in everything[4:]]
    # A literal % or _ in a filter is not a wildcard.
    assert await _trail(client, tenant, action="sites%") == []

    assert await _trail(client, other_tenant) == []
    assert_problem(await client.get("/v1/audit", params={"cursor": "nope"}, headers=tenant.headers), 422)
    assert_problem(
        await client.get("/v1/audit", params={"since": "2026-01-01T00:00:00"}, headers=tenant.headers), 422
    )
    # Auditing needs the admin role for now, and a refused look is itself recorded.
    assert_problem(await client.get("/v1/audit", headers=bearer(h["operator"]["token"])), 403)
    [refused] = await _trail(client, tenant, outcome="denied", object="audit")
    assert refused["actor"].endswith("(operator key)")


async def test_the_event_log_shows_entries_only_to_admins_who_ask(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    operator = bearer((await issue(client, tenant, "operator"))["token"])
    await client.post("/v1/regions", json={"code": "EU", "name": "Europe"}, headers=operator)
    audit_type = {"type": audit.AUDIT_RECORDED.type}

    async def types(headers: dict[str, str], **params: Any) -> list[str]:
        r = await client.get("/v1/events", params=params, headers=headers)
        return [e["type"] for e in r.json()["items"]]

    assert audit.AUDIT_RECORDED.type not in await types(tenant.headers)
    assert await types(tenant.headers, **audit_type) == [audit.AUDIT_RECORDED.type] * 2
    assert await types(operator, **audit_type) == []
    assert audit.AUDIT_RECORDED.type not in await types(operator)


async def test_export_is_csv_of_the_filtered_trail_and_is_itself_recorded(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    h = await _history(client, tenant)
    r = await client.get("/v1/audit/export", headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert tuple(csv.reader(io.StringIO(r.text)).__next__()) == audit.COLUMNS
    listed = await _trail(client, tenant)
    # The export was recorded before it read: it is its own newest row.
    assert [row["id"] for row in rows] == [e["id"] for e in listed]
    assert rows[0]["action"] == "audit.export" and rows[0]["object"] == "audit"
    assert rows[0]["path"] == "/v1/audit/export" and rows[0]["request_id"] == r.headers["x-request-id"]
    update = next(row for row in rows if row["action"] == "sites.update")
    assert json.loads(update["before"])["name"] == "Site 0" and json.loads(update["after"])["name"] == "First"
    assert update["reason"] == "" and update["outcome"] == "ok"

    r = await client.get("/v1/audit/export", params={"action": "sites.create"}, headers=tenant.headers)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["object"] for row in rows] == [f"sites/{s['id']}" for s in reversed(h["sites"])]
    [second] = await entries(
        services, tenant.id, action="audit.export", path="/v1/audit/export?action=sites.create"
    )
    assert second["outcome"] == "ok"

    r = await client.get("/v1/audit/export", params={"action": "nothing.like.this"}, headers=tenant.headers)
    assert list(csv.reader(io.StringIO(r.text))) == [list(audit.COLUMNS)]
