"""The model's own rules, through the API: children, derived values, schemas, cycles, codes, dates."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from supplyline.bootstrap import Services
from tests.api.samples import SAMPLES, assert_problem
from tests.conftest import TenantCtx
from tests.factories import post, world


def _line(w: dict[str, Any], quantity: float, lot: bool = True) -> dict[str, Any]:
    lot_id = w["lot"]["id"] if lot else None
    return {"product_id": w["product"]["id"], "lot_id": lot_id, "quantity": quantity, "unit": "each"}


async def test_order_lines_are_replaced_on_patch(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    h = tenant.headers
    w = await world(client, h)
    order = await post(
        client,
        h,
        "orders",
        {"number": "PO-1", "kind": "purchase", "lines": [_line(w, 5), _line(w, 7, False)]},
    )
    assert order["lines"] == [{**_line(w, 5), "unit_price": None}, {**_line(w, 7, False), "unit_price": None}]
    url = f"/v1/orders/{order['id']}"
    r = await client.patch(url, json={"status": "allocated"}, headers=h)
    assert r.json()["lines"] == order["lines"] and r.json()["status"] == "allocated"
    r = await client.patch(url, json={"lines": [_line(w, 9)]}, headers=h)
    assert r.status_code == 200 and r.json()["lines"] == [{**_line(w, 9), "unit_price": None}]
    assert (await client.get(url, headers=h)).json()["lines"] == [{**_line(w, 9), "unit_price": None}]
    lines = services.catalog["orders"].children[0].table
    async with services.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(lines))).scalar_one() == 1
    assert (await client.patch(url, json={"lines": []}, headers=h)).json()["lines"] == []

    other = await post(client, h, "products", {"sku": "OTHER", "name": "Other", "unit": "each"})
    r = await client.post(
        "/v1/orders",
        json={
            "number": "PO-2",
            "kind": "purchase",
            "lines": [_line(w, 1), {**_line(w, 1), "product_id": other["id"]}],
        },
        headers=h,
    )
    assert_problem(r, 422, "lines.1.lot_id", "another product")
    r = await client.post("/v1/orders", json={"number": "TR-1", "kind": "transfer"}, headers=h)
    assert_problem(r, 422, "from_site_id", "both sites")
    assert_problem(await client.patch(url, json={"kind": "sales"}, headers=h), 422, "kind")


async def test_shipment_children(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    h = tenant.headers
    w = await world(client, h)
    body = SAMPLES["shipments"].body(w)
    shipment = await post(client, h, "shipments", body)
    assert shipment["lots"] == [{**body["lots"][0], "quantity": 10.0}]
    assert shipment["devices"] == [
        {"device_id": w["tracker"]["id"], "assigned_at": None, "unassigned_at": None}
    ]
    assert shipment["assets"] == body["assets"]
    url = f"/v1/shipments/{shipment['id']}"
    r = await client.patch(url, json={"devices": [], "status": "in_transit"}, headers=h)
    assert r.json()["devices"] == [] and r.json()["lots"] == shipment["lots"]
    assert r.json()["assets"] == shipment["assets"]

    same = {**body, "number": "SH-2", "destination_site_id": body["origin_site_id"]}
    assert_problem(await client.post("/v1/shipments", json=same, headers=h), 422, "destination_site_id")
    backwards = {
        **body,
        "number": "SH-3",
        "planned_departure_at": "2026-05-02T10:00:00Z",
        "planned_arrival_at": "2026-05-01T10:00:00Z",
    }
    assert_problem(await client.post("/v1/shipments", json=backwards, headers=h), 422, "planned_arrival_at")
    naive = {**body, "number": "SH-4", "planned_departure_at": "2026-05-02T10:00:00"}
    assert_problem(await client.post("/v1/shipments", json=naive, headers=h), 422, "planned_departure_at")


async def test_inventory_sellable(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    h = tenant.headers
    w = await world(client, h)
    body = SAMPLES["inventory-positions"].body(w)
    pos = await post(client, h, "inventory-positions", body)
    assert pos["sellable"] == 75
    url = f"/v1/inventory-positions/{pos['id']}"
    assert (await client.patch(url, json={"allocated": 50}, headers=h)).json()["sellable"] == 45
    assert (await client.patch(url, json={"held": 90}, headers=h)).json()["sellable"] == 0
    listed = (await client.get("/v1/inventory-positions", headers=h)).json()["items"]
    assert [p["sellable"] for p in listed] == [0]

    assert_problem(await client.post("/v1/inventory-positions", json=body, headers=h), 409, "lot_id")
    no_lot = {**body, "lot_id": None}
    await post(client, h, "inventory-positions", no_lot)
    assert_problem(await client.post("/v1/inventory-positions", json=no_lot, headers=h), 422, "lot_id")
    assert_problem(await client.patch(url, json={"on_hand": -1}, headers=h), 422, "on_hand")


async def test_asset_attributes_follow_the_type_schema(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    h = tenant.headers
    w = await world(client, h)
    base = SAMPLES["assets"].body(w)
    r = await client.post("/v1/assets", json={**base, "attributes": {"setpoint_c": "cold"}}, headers=h)
    assert_problem(r, 422, "attributes.setpoint_c", "number")
    r = await client.post("/v1/assets", json={**base, "attributes": {}}, headers=h)
    assert_problem(r, 422, "attributes.setpoint_c", "required")

    trailer = f"/v1/assets/{w['trailer']['id']}"
    r = await client.patch(trailer, json={"attributes": {"setpoint_c": "warm"}}, headers=h)
    assert_problem(r, 422, "attributes.setpoint_c")
    r = await client.patch(trailer, json={"attributes": {"setpoint_c": None}}, headers=h)
    assert_problem(r, 422, "attributes.setpoint_c", "required")
    assert (await client.get(trailer, headers=h)).json() == w["trailer"]
    r = await client.patch(trailer, json={"attributes": {"setpoint_c": -20, "doors": 2}}, headers=h)
    assert r.status_code == 200 and r.json()["attributes"] == {"setpoint_c": -20, "doors": 2}

    # Changing the type checks the attributes against the new type's schema.
    strict = {
        "code": "tank",
        "name": "Tank",
        "kind": "container",
        "attributes_schema": {
            "type": "object",
            "properties": {"litres": {"type": "integer"}},
            "required": ["litres"],
        },
    }
    tank = await post(client, h, "asset-types", strict)
    r = await client.patch(trailer, json={"asset_type_id": tank["id"]}, headers=h)
    assert_problem(r, 422, "attributes.litres")
    r = await client.post(
        "/v1/asset-types", json={**strict, "code": "bad", "attributes_schema": {"type": 7}}, headers=h
    )
    assert_problem(r, 422, "attributes_schema", "JSON Schema")


async def test_asset_hierarchy(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    h = tenant.headers
    w = await world(client, h)
    base = {"asset_type_id": w["trailer_type"]["id"], "attributes": {"setpoint_c": 0}}
    a = await post(client, h, "assets", {**base, "code": "A", "name": "A"})
    b = await post(client, h, "assets", {**base, "code": "B", "name": "B", "parent_id": a["id"]})
    c = await post(client, h, "assets", {**base, "code": "C", "name": "C", "parent_id": b["id"]})
    for parent in (c, a):
        r = await client.patch(f"/v1/assets/{a['id']}", json={"parent_id": parent["id"]}, headers=h)
        assert_problem(r, 422, "parent_id", "own ancestor")
    r = await client.patch(f"/v1/assets/{c['id']}", json={"parent_id": a["id"]}, headers=h)
    assert r.status_code == 200 and r.json()["parent_id"] == a["id"]
    zone = await post(client, h, "zones", SAMPLES["zones"].body(w))
    r = await client.post(
        "/v1/assets",
        json={**base, "code": "D", "name": "D", "site_id": w["store"]["id"], "zone_id": zone["id"]},
        headers=h,
    )
    assert_problem(r, 422, "zone_id", "another site")


async def test_device_rules(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    h = tenant.headers
    w = await world(client, h)
    profile = w["profile"]["id"]  # a tracker profile
    r = await client.post(
        "/v1/devices", json={"code": "s-1", "kind": "sensor", "device_profile_id": profile}, headers=h
    )
    assert_problem(r, 422, "kind", "trackers")
    r = await client.patch(f"/v1/devices/{w['tracker']['id']}", json={"kind": "gateway"}, headers=h)
    assert_problem(r, 422, "kind")
    r = await client.post(
        "/v1/devices",
        json={
            "code": "t-2",
            "kind": "tracker",
            "device_profile_id": profile,
            "gateway_id": w["tracker"]["id"],
        },
        headers=h,
    )
    assert_problem(r, 422, "gateway_id", "not a gateway")
    r = await client.patch(
        f"/v1/devices/{w['tracker']['id']}", json={"gateway_id": w["tracker"]["id"]}, headers=h
    )
    assert_problem(r, 422, "gateway_id", "own gateway")


async def test_product_codes_and_lot_dates(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    h = tenant.headers
    w = await world(client, h)
    product = {"sku": "P-1", "name": "P", "unit": "each"}
    r = await client.post("/v1/products", json={**product, "gtin": "04012345678902"}, headers=h)
    assert_problem(r, 422, "gtin", "check digit")
    assert_problem(
        await client.post("/v1/products", json={**product, "gtin": "12345"}, headers=h), 422, "gtin"
    )
    ok = await post(client, h, "products", {**product, "gtin": "96385074"})
    r = await client.patch(f"/v1/products/{ok['id']}", json={"gtin": "96385075"}, headers=h)
    assert_problem(r, 422, "gtin", "check digit")
    r = await client.post(
        "/v1/products", json={**product, "sku": "P-2", "gtin": w["product"]["gtin"]}, headers=h
    )
    assert_problem(r, 409, "gtin")

    lot = {"product_id": ok["id"], "lot_code": "L1", "quantity": 1, "unit": "each"}
    dates = {"production_date": "2026-06-01", "expiry_date": "2026-05-01"}
    assert_problem(await client.post("/v1/lots", json={**lot, **dates}, headers=h), 422, "expiry_date")
    r = await client.patch(f"/v1/lots/{w['lot']['id']}", json={"production_date": "2028-01-01"}, headers=h)
    assert_problem(r, 422, "expiry_date")
    assert_problem(await client.post("/v1/lots", json={**lot, "quantity": -1}, headers=h), 422, "quantity")
    r = await client.patch(f"/v1/lots/{w['lot']['id']}", json={"product_id": ok["id"]}, headers=h)
    assert_problem(r, 422, "product_id")
