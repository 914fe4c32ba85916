"""Every /v1 resource: create, get, list with a filter, merge-patch with ETags, archive."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from supplyline.bootstrap import Services
from tests.api.samples import SAMPLES, assert_problem, events_of
from tests.conftest import TenantCtx
from tests.factories import post, world


def test_samples_cover_every_resource(services: Services) -> None:
    assert sorted(SAMPLES) == sorted(spec.name for spec in services.catalog)


async def _list(
    client: httpx.AsyncClient, tenant: TenantCtx, name: str, **params: Any
) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/{name}", params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def _lifecycle(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, w: dict[str, Any], name: str
) -> None:
    sample = SAMPLES[name]
    body = sample.body(w)

    r = await client.post(f"/v1/{name}", json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert r.headers["location"] == f"/v1/{name}/{rec['id']}"
    assert r.headers["etag"] == '"1"'
    assert rec["version"] == 1 and rec["archived_at"] is None
    assert rec["tenant_id"] == str(tenant.id)
    for key, value in body.items():
        if not isinstance(value, list):
            assert rec[key] == value, key

    r = await client.get(f"/v1/{name}/{rec['id']}", headers=tenant.headers)
    assert r.status_code == 200 and r.json() == rec
    assert r.headers["etag"] == '"1"'

    key, value = sample.filter[0], sample.filter[1](w)
    listed = await _list(client, tenant, name, **{key: value})
    assert rec["id"] in [i["id"] for i in listed]
    assert all(i[key] == value for i in listed)

    # Merge patch: the field sent changes, every other field stays.
    r = await client.patch(
        f"/v1/{name}/{rec['id']}", json=sample.patch, headers={**tenant.headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    patched = r.json()
    assert r.headers["etag"] == '"2"' and patched["version"] == 2
    skip = {"version", "updated_at", "sellable"}
    assert {k: v for k, v in patched.items() if k not in skip} == {
        k: v for k, v in {**rec, **sample.patch}.items() if k not in skip
    }

    # A stale ETag is refused and changes nothing.
    r = await client.patch(
        f"/v1/{name}/{rec['id']}", json=sample.patch, headers={**tenant.headers, "If-Match": '"1"'}
    )
    assert_problem(r, 412)
    assert (await client.get(f"/v1/{name}/{rec['id']}", headers=tenant.headers)).json()["version"] == 2

    r = await client.post(f"/v1/{name}/{rec['id']}/archive", headers=tenant.headers)
    assert r.status_code == 200, r.text
    archived = r.json()
    assert archived["archived_at"] is not None and archived["version"] == 3
    assert r.headers["etag"] == '"3"'
    assert rec["id"] not in [i["id"] for i in await _list(client, tenant, name)]
    with_archived = await _list(client, tenant, name, include_archived="true")
    assert rec["id"] in [i["id"] for i in with_archived]
    r = await client.get(f"/v1/{name}/{rec['id']}", headers=tenant.headers)
    assert r.status_code == 200 and r.json() == archived
    # Archiving again changes nothing; changing an archived record is refused.
    r = await client.post(f"/v1/{name}/{rec['id']}/archive", headers=tenant.headers)
    assert r.status_code == 200 and r.json() == archived
    r = await client.patch(f"/v1/{name}/{rec['id']}", json=sample.patch, headers=tenant.headers)
    assert_problem(r, 409)

    events = await events_of(client, tenant.headers, subject=f"{name}/{rec['id']}")
    spec = services.catalog[name]
    assert [e["type"] for e in events] == [
        f"supplyline.{spec.entity}.{action}.v{spec.event_version}"
        for action in ("created", "updated", "archived")
    ]
    assert events[0]["data"] == rec
    assert events[1]["data"] == {"record": patched, "changed": list(sample.patch)}


async def test_lifecycle_of_every_resource(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, subtests: pytest.Subtests
) -> None:
    w = await world(client, tenant.headers)
    for name in SAMPLES:
        with subtests.test(msg=name):
            await _lifecycle(client, services, tenant, w, name)


async def test_patch_rules(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    w = await world(client, tenant.headers)
    dc = f"/v1/sites/{w['dc']['id']}"
    # Sending what is already there changes nothing: no new version, no event.
    r = await client.patch(dc, json={"name": w["dc"]["name"]}, headers=tenant.headers)
    assert r.status_code == 200 and r.json()["version"] == 1
    # JSON merge patch (RFC 7396): objects merge key by key, null removes a key.
    r = await client.patch(
        dc,
        json={"address": {"city": "Lyon 7"}, "attributes": {"dock_doors": 12, "gone": None}},
        headers={**tenant.headers, "If-Match": 'W/"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["address"] == {**w["dc"]["address"], "city": "Lyon 7"}
    assert r.json()["attributes"] == {"dock_doors": 12}
    assert r.json()["timezone"] == "Europe/Paris" and r.json()["version"] == 2
    merge = {**tenant.headers, "content-type": "application/merge-patch+json"}
    r = await client.patch(dc, content=b'{"attributes": {"dock_doors": null, "ramp": true}}', headers=merge)
    assert r.json()["attributes"] == {"ramp": True} and r.json()["version"] == 3
    r = await client.patch(dc, json={"kind": "depot"}, headers={**tenant.headers, "If-Match": "*"})
    assert r.status_code == 200 and r.json()["version"] == 4
    events = await events_of(client, tenant.headers, subject=f"sites/{w['dc']['id']}")
    assert [e["type"].split(".")[2] for e in events] == ["created", "updated", "updated", "updated"]

    assert_problem(await client.patch(dc, json={"name": None}, headers=tenant.headers), 422, "name")
    r = await client.patch(dc, json={"latitude": None}, headers=tenant.headers)
    assert_problem(r, 422, "longitude", "go together")
    r = await client.patch(dc, json={"name": "x"}, headers={**tenant.headers, "If-Match": "x"})
    assert_problem(r, 422, "If-Match")
    zone = await post(client, tenant.headers, "zones", SAMPLES["zones"].body(w))
    r = await client.patch(
        f"/v1/zones/{zone['id']}", json={"site_id": w["store"]["id"]}, headers=tenant.headers
    )
    assert_problem(r, 422, "site_id")
    r = await client.patch(f"/v1/orders/{w['lot']['id']}", json={"status": "open"}, headers=tenant.headers)
    assert_problem(r, 404)
    assert (await client.get(dc, headers=tenant.headers)).json()["version"] == 4


# (target resource, world key) archived, then (resource, field) refused for pointing at it.
ARCHIVED_REFS: list[tuple[str, str, str, str]] = [
    ("regions", "region", "sites", "region_id"),
    ("organizations", "carrier", "shipments", "carrier_organization_id"),
    ("sites", "dc", "zones", "site_id"),
    ("asset-types", "trailer_type", "assets", "asset_type_id"),
    ("assets", "trailer", "devices", "asset_id"),
    ("device-profiles", "profile", "devices", "device_profile_id"),
    ("devices", "tracker", "shipments", "devices.0.device_id"),
    ("products", "product", "lots", "product_id"),
    ("lots", "lot", "orders", "lines.0.lot_id"),
    ("lots", "lot", "inventory-positions", "lot_id"),
]


async def test_archived_records_cannot_be_referenced(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    w = await world(client, tenant.headers)
    for target, key, _, _ in ARCHIVED_REFS:
        r = await client.post(f"/v1/{target}/{w[key]['id']}/archive", headers=tenant.headers)
        assert r.status_code == 200, r.text
    for _, _, resource, field in ARCHIVED_REFS:
        before = await _list(client, tenant, resource, include_archived="true")
        r = await client.post(f"/v1/{resource}", json=SAMPLES[resource].body(w), headers=tenant.headers)
        assert_problem(r, 422, field, "archived")
        assert await _list(client, tenant, resource, include_archived="true") == before
