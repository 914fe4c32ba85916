"""Every error is RFC 9457 application/problem+json and names the field and the reason."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import ANY

import httpx

from supplyline.api import create_app
from supplyline.kernel.pagination import encode_cursor
from tests.api.samples import assert_problem
from tests.conftest import Backend, TenantCtx, make_services, new_tenant
from tests.factories import post, world

SITE = {"code": "S1", "name": "Site 1", "kind": "store"}


async def test_bodies_that_do_not_fit_the_model(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    h = tenant.headers
    r = await client.post("/v1/sites", json={**SITE, "latitude": "north"}, headers=h)
    body = assert_problem(r, 422, "latitude", "valid number")
    assert body["title"] == "Invalid input" and "latitude" in body["detail"]
    assert body["instance"] == "/v1/sites"
    assert_problem(await client.post("/v1/sites", json={**SITE, "colour": "red"}, headers=h), 422, "colour")
    r = await client.post("/v1/sites", json={"name": "no code"}, headers=h)
    body = assert_problem(r, 422, "code", "required")
    assert {e["field"] for e in body["errors"]} == {"code", "kind"}
    assert_problem(await client.post("/v1/sites", json={**SITE, "kind": "castle"}, headers=h), 422, "kind")
    r = await client.post("/v1/sites", json={**SITE, "address": {"country": "France"}}, headers=h)
    assert_problem(r, 422, "address.country")
    r = await client.post("/v1/sites", json={**SITE, "timezone": "Mars/Olympus"}, headers=h)
    assert_problem(r, 422, "timezone", "IANA")
    assert_problem(await client.post("/v1/sites", json=[SITE], headers=h), 422, "body")
    r = await client.post(
        "/v1/sites", content=b'{"code": "S1",', headers={**h, "content-type": "application/json"}
    )
    assert_problem(r, 422, "body", "not valid JSON")
    r = await client.patch(
        "/v1/sites/01900000-0000-7000-8000-000000000000", json={"colour": "red"}, headers=h
    )
    assert_problem(r, 422, "colour", "unknown field")
    assert (await client.get("/v1/sites", headers=h)).json()["items"] == []


async def test_unknown_references(
    client: httpx.AsyncClient, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    theirs = await post(client, other_tenant.headers, "sites", SITE)
    answers = []
    for site_id in (theirs["id"], str(uuid.uuid4())):
        zone = {"site_id": site_id, "code": "Z1", "name": "Zone"}
        r = await client.post("/v1/zones", json=zone, headers=tenant.headers)
        assert_problem(r, 422, "site_id", "no site")
        answers.append(r.text.replace(site_id, "<id>"))
    assert answers[0] == answers[1], "another tenant's id must look like an id that does not exist"
    mine = await post(client, tenant.headers, "sites", SITE)
    r = await client.patch(
        f"/v1/sites/{mine['id']}", json={"region_id": str(uuid.uuid4())}, headers=tenant.headers
    )
    assert_problem(r, 422, "region_id")


async def test_duplicates_are_conflicts_naming_the_key(
    client: httpx.AsyncClient, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    first = await post(client, tenant.headers, "sites", SITE)
    body = assert_problem(await client.post("/v1/sites", json=SITE, headers=tenant.headers), 409, "code")
    assert first["id"] in body["errors"][0]["reason"]
    # Natural keys are per tenant.
    await post(client, other_tenant.headers, "sites", SITE)
    # Renaming onto a taken code is a conflict too.
    other = await post(client, tenant.headers, "sites", {**SITE, "code": "S2"})
    r = await client.patch(f"/v1/sites/{other['id']}", json={"code": "S1"}, headers=tenant.headers)
    assert_problem(r, 409, "code")
    # A composite key names its last part; the same zone code on another site is fine.
    zone = {"site_id": first["id"], "code": "Z1", "name": "Zone"}
    await post(client, tenant.headers, "zones", zone)
    assert_problem(await client.post("/v1/zones", json=zone, headers=tenant.headers), 409, "code")
    await post(client, tenant.headers, "zones", {**zone, "site_id": other["id"]})
    # A request that is both invalid and a duplicate is invalid first.
    r = await client.post("/v1/sites", json={**SITE, "region_id": str(uuid.uuid4())}, headers=tenant.headers)
    assert_problem(r, 422, "region_id")


async def test_list_parameters(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    h = tenant.headers
    r = await client.get("/v1/sites", params={"colour": "red"}, headers=h)
    assert_problem(r, 422, "colour", "not a filter of sites")
    assert_problem(await client.get("/v1/sites", params={"kind": "castle"}, headers=h), 422, "kind")
    assert_problem(await client.get("/v1/sites", params={"region_id": "x"}, headers=h), 422, "region_id")
    assert_problem(await client.get("/v1/sites", params={"limit": 0}, headers=h), 422, "limit")
    r = await client.get("/v1/sites", params={"include_archived": "maybe"}, headers=h)
    assert_problem(r, 422, "include_archived")
    for cursor in ("garbage", "!!", encode_cursor(str(uuid.uuid4()), "zones"), encode_cursor("x", "sites")):
        r = await client.get("/v1/sites", params={"cursor": cursor}, headers=h)
        assert_problem(r, 422, "cursor")
    for cursor in ("garbage", encode_cursor("x", "events")):
        assert_problem(await client.get("/v1/events", params={"cursor": cursor}, headers=h), 422, "cursor")


async def test_paths_methods_and_ids(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    h = tenant.headers
    assert_problem(await client.get("/v1/sites/not-a-uuid", headers=h), 422, "id")
    missing = "01900000-0000-7000-8000-000000000000"
    for method, path in [
        ("GET", f"/v1/sites/{missing}"),
        ("PATCH", f"/v1/sites/{missing}"),
        ("POST", f"/v1/sites/{missing}/archive"),
        ("GET", "/v1/nothing-here"),
        ("GET", "/v2/sites"),
        ("GET", "/v1/event-types/supplyline.nothing.v1"),
    ]:
        r = await client.request(method, path, json={"name": "x"} if method == "PATCH" else None, headers=h)
        assert_problem(r, 404)
    r = await client.delete(f"/v1/sites/{missing}", headers=h)
    assert_problem(r, 405)
    assert r.headers["allow"] == "GET, PATCH"
    r = await client.put("/v1/sites", json=SITE, headers=h)
    assert_problem(r, 405)
    assert r.headers["allow"] == "GET, POST"


async def test_nothing_unhandled_leaks(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    """Odd but possible inputs get a problem, never a 500."""
    h = tenant.headers
    w = await world(client, h)
    r = await client.post("/v1/sites", content=b"code=S1", headers={**h, "content-type": "text/plain"})
    assert_problem(r, 422)
    r = await client.post("/v1/sites", json={**SITE, "code": "x" * 65}, headers=h)
    assert_problem(r, 422, "code")
    r = await client.post("/v1/sites", json=SITE, headers={**h, "Idempotency-Key": ""})
    assert_problem(r, 422, "Idempotency-Key")
    r = await client.get("/v1/events", params={"after": -1}, headers=h)
    assert_problem(r, 422, "after")
    r = await client.patch(f"/v1/lots/{w['lot']['id']}", json={"quantity": -1}, headers=h)
    assert_problem(r, 422, "quantity")
    # NaN and Infinity are not JSON, though Python's parser takes them (and PostgreSQL then fails).
    raw = {**h, "content-type": "application/json"}
    site = b'{"code": "S9", "name": "n", "kind": "store", "attributes": {"t": [NaN]}}'
    profile = b'{"code": "P9", "name": "n", "device_kind": "tracker", "metrics": [%s]}' % (
        b'{"metric": "t", "unit": "C", "max": Infinity}'
    )
    for method, url, body, field in [
        ("POST", "/v1/sites", site, "attributes"),
        ("POST", "/v1/device-profiles", profile, "metrics.0.max"),
        ("PATCH", f"/v1/lots/{w['lot']['id']}", b'{"quantity": Infinity}', "quantity"),
        ("PATCH", f"/v1/sites/{w['dc']['id']}", b'{"attributes": {"t": -Infinity}}', "attributes"),
    ]:
        r = await client.request(method, url, content=body, headers=raw)
        assert_problem(r, 422, field, "finite" if field != "attributes" else "NaN or Infinity")


async def test_oversized_bodies(backend: Backend, tmp_path: Path) -> None:
    svc = make_services(backend, tmp_path, max_body_bytes=2048)
    tenant = await new_tenant(svc, "tiny")
    transport = httpx.ASGITransport(app=create_app(svc, run_consumers=False))
    try:
        await _oversized(httpx.AsyncClient(transport=transport, base_url="http://test"), tenant)
    finally:
        await svc.close()


async def _oversized(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    async with client:
        big = {**SITE, "attributes": {"notes": "x" * 4000}}
        r = await client.post("/v1/sites", json=big, headers=tenant.headers)
        body = assert_problem(r, 413)
        assert "2048" in body["detail"]

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"code": "S1", "name": "Site", "kind": "store", "attributes": {"notes": "'
            for _ in range(10):
                yield b"x" * 1000
            yield b'"}}'

        # Without Content-Length (chunked), the limit holds all the same.
        headers = {**tenant.headers, "content-type": "application/json"}
        r = await client.post("/v1/sites", content=chunks(), headers=headers)
        assert "content-length" not in r.request.headers
        assert_problem(r, 413)
        # A body just under the limit goes through.
        ok = {**SITE, "attributes": {"notes": "x" * 1500}}
        assert (await client.post("/v1/sites", json=ok, headers=tenant.headers)).status_code == 201
        assert len((await client.get("/v1/sites", headers=tenant.headers)).json()["items"]) == 1


async def test_free_json_keeps_exactly_what_both_backends_carry(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    """Integers beyond 64 bits once made a 500 (the encoder refused them): every free-JSON field
    takes what SQLite, PostgreSQL and our encoder all keep, and refuses the rest with 422."""
    h = tenant.headers
    w = await world(client, h)
    edge = {"max": 2**63 - 1, "min": -(2**63), "deep": {"list": [1, 2.5, "x", None, True]}}
    org = await post(
        client, h, "organizations", {"code": "BIG", "name": "n", "kind": "oem", "attributes": edge}
    )
    got = (await client.get(f"/v1/organizations/{org['id']}", headers=h)).json()
    assert got["attributes"] == edge  # stored and read back exactly, on both backends
    nested: dict[str, object] = {}
    inner = nested
    for _ in range(40):
        inner["a"] = inner = {}
    cases = [
        (
            "POST",
            "/v1/organizations",
            {"code": "O2", "name": "n", "kind": "oem", "attributes": {"n": 2**64}},
            "attributes",
            "n is an integer beyond the 64-bit range",
        ),
        (
            "POST",
            "/v1/asset-types",
            {
                "code": "T2",
                "name": "n",
                "kind": "pallet",
                "attributes_schema": {"type": "object", "properties": {"w": {"maximum": -(2**63) - 1}}},
            },
            "attributes_schema",
            "properties.w.maximum is an integer beyond the 64-bit range",
        ),
        (
            "PATCH",
            f"/v1/sites/{w['dc']['id']}",
            {"attributes": {"codes": [1, 10**30]}},
            "attributes",
            "codes.1 is an integer beyond the 64-bit range",
        ),
        ("POST", "/v1/sites", {**SITE, "attributes": nested}, "attributes", "deeper than 32 levels"),
        ("POST", "/v1/sites", {**SITE, "attributes": {"x": "y" * 70_000}}, "attributes", "over the limit"),
    ]
    for method, url, body, field, reason in cases:
        r = await client.request(method, url, json=body, headers=h)
        problem = assert_problem(r, 422, field, reason)
        assert problem["errors"][0]["field"].endswith(field), problem
    # Nothing was half-written and the next request is served as ever.
    sites = (await client.get("/v1/sites", headers=h)).json()["items"]
    assert {s["code"] for s in sites} == {"DC-LYON", "ST-12"}
    assert "codes" not in (await client.get(f"/v1/sites/{w['dc']['id']}", headers=h)).json()["attributes"]


async def test_a_nul_character_is_refused_wherever_it_is_sent(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    """PostgreSQL's text cannot hold NUL (the driver's error was a 500) and SQLite's can: the
    API refuses it in a query or any JSON body on both backends, naming where it is."""
    h = tenant.headers
    for method, url, body, field in [
        ("POST", "/v1/sites", {**SITE, "name": "Site\u00001"}, "name"),
        ("POST", "/v1/sites", {**SITE, "address": {"city": "Ly\u0000on"}}, "address.city"),
        (
            "POST",
            "/v1/organizations",
            {"code": "O1", "name": "n", "kind": "oem", "contact_email": "a\u0000@b.fr"},
            "contact_email",
        ),
        ("POST", "/v1/sites", {**SITE, "attributes": {"k\u0000": 1}}, "attributes.k\\u0000"),
        ("GET", "/v1/sites?code=S%001", None, "code"),
        ("GET", "/v1/audit?actor=%00", None, "actor"),
        ("GET", "/v1/events?type=a%00", None, "type"),
    ]:
        r = await client.request(method, url, json=body, headers=h)
        problem = assert_problem(r, 422, field, "NUL")
        assert problem["errors"] == [{"field": field, "reason": ANY}], problem
    # An escaped backslash before "u0000" is not a NUL: it is stored as sent.
    site = await post(client, h, "sites", {**SITE, "name": "C:\\u0000"})
    assert site["name"] == "C:\\u0000"
    assert [s["code"] for s in (await client.get("/v1/sites", headers=h)).json()["items"]] == ["S1"]


async def test_numbers_past_the_64_bit_range_in_queries_and_filters(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    """An integer the database cannot hold once overflowed there (a 500 on both backends)."""
    big = str(2**70)
    for url, field in [
        (f"/v1/events?after={big}", "after"),
        (f"/v1/dead-letters?after={big}", "after"),
        (f"/v1/ledger/checkpoints?after={big}", "after"),
        (f"/v1/payload-mappings?mapping_version={big}", "mapping_version"),
        (f"/v1/telemetry?device=D&metric=t&bucket={big}", "bucket"),
    ]:
        assert_problem(await client.get(url, headers=tenant.headers), 422, field)
    r = await client.post(f"/v1/dead-letters/{big}/replay", headers=tenant.headers)
    assert_problem(r, 422, "letter_id")
    r = await client.post(
        "/v1/products", json={"sku": "A1", "name": "n", "shelf_life_days": 2**64}, headers=tenant.headers
    )
    assert_problem(r, 422, "shelf_life_days")


async def test_a_patch_body_documents_the_bounds_of_its_fields(client: httpx.AsyncClient) -> None:
    """The merge-patch models carry the create model's constraints, so a generated client
    refuses what the server refuses."""
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    code = schemas["SiteUpdate"]["properties"]["code"]["anyOf"][0]
    assert code["maxLength"] == 64 and code["pattern"].startswith("^[A-Za-z0-9]")
    version = schemas["DeviceProfileUpdate"]["properties"]["payload_mapping_version"]["anyOf"][0]
    assert version["maximum"] == 1_000_000
