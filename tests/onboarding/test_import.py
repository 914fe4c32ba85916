"""Onboarding a warehouse from one file: all of it is written, or none of it and every error named."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from supplyline.bench.import_bench import onboarding_document
from supplyline.bootstrap import Services
from supplyline.onboarding import RowError, document_from_json, import_document
from tests.conftest import TenantCtx
from tests.onboarding.helpers import event_count, run_file, run_import, table_counts, write_json

EMPTY = {
    "organizations": 0,
    "regions": 0,
    "sites": 0,
    "zones": 0,
    "asset_types": 0,
    "assets": 0,
    "device_profiles": 0,
    "devices": 0,
    "products": 0,
    "lots": 0,
    "inventory_positions": 0,
    "payload_mappings": 0,
    "retention_policies": 0,
    "rules": 0,
    "escalation_policies": 0,
}


@pytest.fixture(scope="module")
def big_document() -> dict[str, Any]:
    return onboarding_document(assets=500, devices=1000)


async def by_code(services: Services, tenant: TenantCtx, name: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    cursor = None
    async with services.read_engine.connect() as conn:
        while True:
            page = await services.resources.list_page(conn, tenant.scope, name, cursor=cursor, limit=500)
            out.update({r["code"]: r for r in page.items})
            if page.next_cursor is None:
                return out
            cursor = page.next_cursor


async def test_a_site_with_500_assets_and_1000_devices_onboards_from_one_file(
    services: Services, tenant: TenantCtx, tmp_path: Path, big_document: dict[str, Any]
) -> None:
    path = write_json(tmp_path / "lyon.json", big_document)

    report = await run_file(services, tenant.scope, path)
    assert report.ok, report.errors[:5]
    assert report.rows == 1518
    expected = {**EMPTY, "organizations": 1, "regions": 1, "sites": 1, "zones": 2, "asset_types": 2}
    expected |= {"assets": 500, "device_profiles": 2, "devices": 1000, "products": 3, "lots": 6}
    assert report.created == {k: v for k, v in expected.items() if v}
    assert await table_counts(services, tenant.id) == expected

    # Codes became the right ids: pallets on their trailer, trailers in their site's zone.
    assets = await by_code(services, tenant, "assets")
    zones = await by_code(services, tenant, "zones")
    assert assets["AST-00002"]["parent_id"] == assets["AST-00001"]["id"]
    assert assets["AST-00001"]["zone_id"] == zones["CHILL-1"]["id"]
    assert assets["AST-00011"]["zone_id"] == zones["DOCK-1"]["id"]
    assert assets["AST-00001"]["attributes"] == {"setpoint_c": 4, "door_sensor": True}
    devices = await by_code(services, tenant, "devices")
    assert devices["dev-00733"]["asset_id"] == assets["AST-00233"]["id"]
    assert devices["dev-00733"]["gateway_id"] == devices["dev-00701"]["id"]


async def test_progress_is_reported_per_section(services: Services, tenant: TenantCtx) -> None:
    calls: list[tuple[str, int, int]] = []
    doc = onboarding_document(assets=20, devices=30)
    report = await import_document(
        services.uow,
        services.resources,
        tenant.scope,
        document_from_json(doc),
        progress=lambda section, done, total: calls.append((section, done, total)),
    )
    assert report.ok
    assert ("assets", 0, 20) in calls
    assert calls[-1] == ("lots", 6, 6)
    assert ("devices", 30, 30) in calls


async def test_one_bad_row_in_1500_writes_nothing_and_names_row_and_field(
    services: Services, tenant: TenantCtx, tmp_path: Path, big_document: dict[str, Any]
) -> None:
    doc = copy.deepcopy(big_document)
    doc["devices"][732]["asset"] = "AST-99999"
    events_before = await event_count(services, tenant.id)

    report = await run_file(services, tenant.scope, write_json(tmp_path / "lyon.json", doc))

    assert not report.ok
    assert report.errors == [
        RowError("devices", 733, "asset", "no asset with code 'AST-99999' in the file or the tenant")
    ]
    assert report.created == {}
    assert await table_counts(services, tenant.id) == EMPTY
    assert await event_count(services, tenant.id) == events_before


async def test_attributes_against_the_asset_type_schema_refuse_the_whole_file(
    services: Services, tenant: TenantCtx
) -> None:
    doc = onboarding_document(assets=30, devices=10)
    doc["assets"][20]["attributes"] = {"setpoint_c": "cold"}  # row 21, a trailer
    events_before = await event_count(services, tenant.id)

    report = await run_import(services, tenant.scope, doc)

    assert [(e.section, e.row, e.field) for e in report.errors] == [("assets", 21, "attributes.setpoint_c")]
    assert "'cold' is not of type 'number'" in report.errors[0].reason
    assert await table_counts(services, tenant.id) == EMPTY
    assert await event_count(services, tenant.id) == events_before


async def test_every_error_of_the_file_is_reported_at_once(services: Services, tenant: TenantCtx) -> None:
    doc = onboarding_document(assets=30, devices=20)
    doc["sites"][0]["timezone"] = "Mars/Olympus"  # the model refuses it
    doc["zones"][1]["site"] = "DC-PARIS"  # unknown code
    doc["assets"][4]["asset_type"] = "forklift"  # unknown code
    del doc["assets"][6]["name"]  # missing field
    doc["assets"][10]["attributes"] = {"setpoint_c": 99}  # JSON Schema, checked by the resource
    doc["devices"][3]["kind"] = "sensor"  # the profile is for trackers, checked by the resource
    doc["lots"][0]["quantity"] = -1

    report = await run_import(services, tenant.scope, doc)

    assert [(e.section, e.row, e.field) for e in report.errors] == [
        ("sites", 1, "timezone"),
        ("zones", 2, "site"),
        ("assets", 5, "asset_type"),
        ("assets", 7, "name"),
        ("assets", 11, "attributes.setpoint_c"),
        ("devices", 4, "kind"),
        ("lots", 1, "quantity"),
    ]
    assert await table_counts(services, tenant.id) == EMPTY


async def test_duplicates_in_the_file_and_against_the_tenant(services: Services, tenant: TenantCtx) -> None:
    async with services.uow() as uow:
        await services.resources.create(uow, tenant.scope, "regions", {"code": "EU", "name": "Europe"})
        await uow.commit()
    doc = onboarding_document(assets=10, devices=5)
    doc["assets"][7]["code"] = "AST-00003"
    doc["zones"].append({"site": "DC-LYON", "code": "DOCK-1", "name": "Dock again"})

    report = await run_import(services, tenant.scope, doc)

    assert report.errors == [
        RowError("regions", 1, "code", "a region with code 'EU' already exists in this tenant"),
        RowError("zones", 3, "code", "duplicate of row 2 (code 'DOCK-1')"),
        RowError("assets", 8, "code", "duplicate of row 3 (code 'AST-00003')"),
    ]
    assert (await table_counts(services, tenant.id))["regions"] == 1


async def test_codes_resolve_to_records_already_in_the_tenant(services: Services, tenant: TenantCtx) -> None:
    first = onboarding_document(assets=0, devices=0)
    del first["products"], first["lots"]
    assert (await run_import(services, tenant.scope, first)).ok
    second = {
        "assets": [
            {"code": "TRL-9", "name": "Reefer 9", "asset_type": "reefer", "site": "DC-LYON", "zone": "DOCK-1"}
            | {"attributes": {"setpoint_c": -18}},
        ],
        "devices": [
            {"code": "trk-9", "kind": "tracker", "device_profile": "reefer-tracker", "asset": "TRL-9"}
        ],
    }
    report = await run_import(services, tenant.scope, second)
    assert report.ok, report.errors
    assets = await by_code(services, tenant, "assets")
    zones = await by_code(services, tenant, "zones")
    assert assets["TRL-9"]["zone_id"] == zones["DOCK-1"]["id"]


async def test_a_resource_with_no_code_of_its_own_imports_too(services: Services, tenant: TenantCtx) -> None:
    """Inventory positions are not in the onboarding brief; the catalog makes them importable."""
    doc = onboarding_document(assets=0, devices=0)
    doc["inventory_positions"] = [
        {"site": "DC-LYON", "product": "VAC-02", "lot": "L2-1", "on_hand": 40, "unit": "each"},
        {"site": "DC-LYON", "product": "VAC-01", "lot": "L2-1", "on_hand": 5, "unit": "each"},
    ]
    report = await run_import(services, tenant.scope, doc)
    # Lot codes are per product: VAC-01 has no lot L2-1.
    assert [(e.section, e.row, e.field) for e in report.errors] == [("inventory_positions", 2, "lot")]
    del doc["inventory_positions"][1]
    assert (await run_import(services, tenant.scope, doc)).created["inventory_positions"] == 1


async def test_zone_codes_are_per_site(services: Services, tenant: TenantCtx) -> None:
    doc = onboarding_document(assets=0, devices=0)
    doc["sites"].append({"code": "DC-PARIS", "name": "Paris DC", "kind": "warehouse"})
    doc["zones"].append({"site": "DC-PARIS", "code": "DOCK-1", "name": "Paris dock"})
    doc["assets"] = [
        {"code": "P-1", "name": "Pallet", "asset_type": "pallet", "site": "DC-PARIS", "zone": "DOCK-1"},
        {"code": "P-2", "name": "Pallet", "asset_type": "pallet", "zone": "DOCK-1"},
    ]
    report = await run_import(services, tenant.scope, doc)
    assert [(e.row, e.field) for e in report.errors] == [(2, "zone")]
    assert "needs site" in report.errors[0].reason

    del doc["assets"][1]
    assert (await run_import(services, tenant.scope, doc)).ok
    zones = {(z["site_id"], z["code"]): z["id"] for z in (await by_zone(services, tenant))}
    paris = (await by_code(services, tenant, "sites"))["DC-PARIS"]["id"]
    assert (await by_code(services, tenant, "assets"))["P-1"]["zone_id"] == zones[(paris, "DOCK-1")]


async def by_zone(services: Services, tenant: TenantCtx) -> list[dict[str, Any]]:
    async with services.read_engine.connect() as conn:
        return (await services.resources.list_page(conn, tenant.scope, "zones", limit=100)).items


async def test_rows_of_one_section_refer_to_each_other_in_any_order(
    services: Services, tenant: TenantCtx
) -> None:
    doc = onboarding_document(assets=30, devices=0)
    doc["assets"].reverse()  # pallets come before the trailers they sit on
    assert (await run_import(services, tenant.scope, doc)).ok

    cyclic = {
        "assets": [
            {"code": "A", "name": "A", "asset_type": "pallet", "parent": "B"},
            {"code": "B", "name": "B", "asset_type": "pallet", "parent": "A"},
        ]
    }
    report = await run_import(services, tenant.scope, cyclic)
    assert len(report.errors) == 1
    assert report.errors[0].field == "parent"
    assert "forms a cycle: " in report.errors[0].reason


async def test_a_gateway_in_the_same_file_is_checked_like_one_in_the_tenant(
    services: Services, tenant: TenantCtx
) -> None:
    doc = onboarding_document(assets=5, devices=5)
    doc["devices"][4]["gateway"] = "dev-00002"  # a tracker, not a gateway
    report = await run_import(services, tenant.scope, doc)
    assert [(e.section, e.row, e.field) for e in report.errors] == [("devices", 5, "gateway")]
    assert "is not a gateway" in report.errors[0].reason


async def test_unknown_sections_and_fields_are_named(services: Services, tenant: TenantCtx) -> None:
    doc = {
        "warehouses": [{"code": "X"}],
        "regions": [{"code": "EU", "name": "Europe", "colour": "blue"}],
        "sites": [{"code": "S", "name": "S", "kind": "warehouse", "region": "EU", "region_id": None}],
    }
    report = await run_import(services, tenant.scope, doc)
    assert report.errors == [
        RowError("warehouses", 0, "", report.errors[0].reason),
        RowError("regions", 1, "colour", "unknown field"),
        RowError("sites", 1, "region", "give region or region_id, not both"),
    ]
    assert "sections are: organizations, regions" in report.errors[0].reason
