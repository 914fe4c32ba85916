"""Builders of realistic data through the public API, shared by tests."""

from __future__ import annotations

from typing import Any

import httpx


async def post(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, body: dict[str, Any]
) -> dict[str, Any]:
    r = await client.post(f"/v1/{path}", json=body, headers=headers)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def world(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    """A small but complete tenant: two sites, a reefer with a tracker, a product, a lot."""
    w: dict[str, Any] = {}
    w["carrier"] = await post(
        client,
        headers,
        "organizations",
        {"code": "CAR1", "name": "Fast Freight", "kind": "carrier"},
    )
    w["region"] = await post(client, headers, "regions", {"code": "EU", "name": "Europe"})
    w["dc"] = await post(
        client,
        headers,
        "sites",
        {
            "code": "DC-LYON",
            "name": "Lyon DC",
            "kind": "warehouse",
            "region_id": w["region"]["id"],
            "latitude": 45.76,
            "longitude": 4.84,
            "timezone": "Europe/Paris",
            "address": {"city": "Lyon", "country": "FR"},
        },
    )
    w["store"] = await post(
        client,
        headers,
        "sites",
        {"code": "ST-12", "name": "Store 12", "kind": "store", "region_id": w["region"]["id"]},
    )
    w["trailer_type"] = await post(
        client,
        headers,
        "asset-types",
        {
            "code": "reefer",
            "name": "Reefer trailer",
            "kind": "trailer",
            "attributes_schema": {
                "type": "object",
                "properties": {"setpoint_c": {"type": "number"}},
                "required": ["setpoint_c"],
            },
        },
    )
    w["trailer"] = await post(
        client,
        headers,
        "assets",
        {
            "code": "TRL-1",
            "name": "Reefer 1",
            "asset_type_id": w["trailer_type"]["id"],
            "site_id": w["dc"]["id"],
            "attributes": {"setpoint_c": 4},
        },
    )
    w["profile"] = await post(
        client,
        headers,
        "device-profiles",
        {
            "code": "reefer-tracker",
            "name": "Reefer tracker",
            "device_kind": "tracker",
            "metrics": [{"metric": "temperature_c", "unit": "C", "min": -40, "max": 60}],
        },
    )
    w["tracker"] = await post(
        client,
        headers,
        "devices",
        {
            "code": "trk-001",
            "kind": "tracker",
            "device_profile_id": w["profile"]["id"],
            "asset_id": w["trailer"]["id"],
        },
    )
    w["product"] = await post(
        client,
        headers,
        "products",
        {
            "sku": "VAC-01",
            "gtin": "04012345678901",
            "name": "Vaccine 10x",
            "unit": "each",
            "storage_condition": "2-8 C",
            "storage_min_c": 2,
            "storage_max_c": 8,
        },
    )
    w["lot"] = await post(
        client,
        headers,
        "lots",
        {
            "product_id": w["product"]["id"],
            "lot_code": "L2026-11",
            "quantity": 1000,
            "unit": "each",
            "production_date": "2026-11-01",
            "expiry_date": "2027-11-01",
        },
    )
    return w
