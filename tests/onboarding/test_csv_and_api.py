"""Onboarding from CSV files, and through POST /v1/imports."""

from __future__ import annotations

from pathlib import Path

import httpx

from supplyline.bench.import_bench import onboarding_document
from supplyline.bootstrap import Services
from supplyline.onboarding import RowError
from tests.conftest import TenantCtx
from tests.onboarding.helpers import event_count, run_file, run_import, table_counts

ASSETS = """code,name,asset_type,site,zone,attributes.setpoint_c,attributes.door_sensor,serial_number
TRL-1,Reefer 1,reefer,DC-LYON,CHILL-1,4,true,
TRL-2,Reefer 2,reefer,DC-LYON,,-18.5,false,SN-2
PAL-1,Pallet 1,pallet,DC-LYON,,,,
"""


async def test_a_csv_of_assets_with_attribute_columns(
    services: Services, tenant: TenantCtx, tmp_path: Path
) -> None:
    assert (await run_import(services, tenant.scope, onboarding_document(assets=0, devices=0))).ok
    path = tmp_path / "assets.csv"
    path.write_text(ASSETS)

    report = await run_file(services, tenant.scope, path, kind="assets")

    assert report.ok, report.errors
    assert report.created == {"assets": 3}
    async with services.read_engine.connect() as conn:
        page = await services.resources.list_page(conn, tenant.scope, "assets", limit=10)
    assets = {a["code"]: a for a in page.items}
    assert assets["TRL-1"]["attributes"] == {"setpoint_c": 4, "door_sensor": True}
    assert assets["TRL-2"]["attributes"] == {"setpoint_c": -18.5, "door_sensor": False}
    assert assets["TRL-2"]["serial_number"] == "SN-2"
    assert assets["TRL-2"]["zone_id"] is None
    assert assets["PAL-1"]["attributes"] == {}


async def test_a_bad_csv_row_is_named_by_its_line(
    services: Services, tenant: TenantCtx, tmp_path: Path
) -> None:
    assert (await run_import(services, tenant.scope, onboarding_document(assets=0, devices=0))).ok
    path = tmp_path / "assets.csv"
    path.write_text(ASSETS.replace("-18.5", "warm").replace("PAL-1,Pallet 1,pallet", "PAL-1,Pallet 1,crate"))

    report = await run_file(services, tenant.scope, path, kind="assets")

    assert [(e.section, e.row, e.field) for e in report.errors] == [
        ("assets", 3, "attributes.setpoint_c"),
        ("assets", 4, "asset_type"),
    ]
    assert (await table_counts(services, tenant.id))["assets"] == 0


async def test_an_unknown_csv_column_is_reported_once(
    services: Services, tenant: TenantCtx, tmp_path: Path
) -> None:
    path = tmp_path / "devices.csv"
    path.write_text("code,kind,device_profile,colour\ntrk-1,tracker,p,red\ntrk-2,tracker,p,blue\n")
    report = await run_file(services, tenant.scope, path, kind="devices")
    assert [(e.row, e.field) for e in report.errors] == [
        (1, "colour"),
        (2, "device_profile"),
        (3, "device_profile"),
    ]
    assert report.errors[0].reason.startswith("unknown column")


async def test_post_imports_creates_everything(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    doc = onboarding_document(assets=20, devices=40)
    headers = {**tenant.headers, "Idempotency-Key": "onboard-lyon-1"}

    r = await client.post("/v1/imports", json=doc, headers=headers)

    assert r.status_code == 201, r.text
    assert r.json() == {
        "created": {
            "organizations": 1,
            "regions": 1,
            "sites": 1,
            "zones": 2,
            "asset_types": 2,
            "assets": 20,
            "device_profiles": 2,
            "devices": 40,
            "products": 3,
            "lots": 6,
        },
        "rows": 78,
    }
    again = await client.post("/v1/imports", json=doc, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert (await table_counts(services, tenant.id))["devices"] == 40


async def test_post_imports_refuses_the_file_naming_each_row(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    doc = onboarding_document(assets=20, devices=40)
    doc["assets"][17]["site"] = "DC-NOWHERE"
    doc["devices"][5]["device_profile"] = "fridge-sensor"
    events_before = await event_count(services, tenant.id)

    r = await client.post("/v1/imports", json=doc, headers=tenant.headers)

    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    # Paths index the body's arrays from 0, like every other error of the API.
    assert r.json()["errors"] == [
        {"field": "assets.17.site", "reason": "no site with code 'DC-NOWHERE' in the file or the tenant"},
        {
            "field": "devices.5.device_profile",
            "reason": "no device profile with code 'fridge-sensor' in the file or the tenant",
        },
    ]
    assert await table_counts(services, tenant.id) == dict.fromkeys(
        await table_counts(services, tenant.id), 0
    )
    assert await event_count(services, tenant.id) == events_before


SITES = """code,name,kind,region
DC-LYON,Lyon DC,warehouse,EU
ST-1,Store 1,nowhere,EU
ST-2,Store 2,store,XX
"""


async def test_post_imports_takes_a_csv_of_one_section_naming_bad_rows_by_line(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    csv = {**tenant.headers, "Content-Type": "text/csv"}
    assert (
        await client.post(
            "/v1/imports", json={"regions": [{"code": "EU", "name": "Europe"}]}, headers=tenant.headers
        )
    ).status_code == 201
    r = await client.post("/v1/imports?kind=sites", content=SITES, headers=csv)
    assert r.status_code == 422, r.text
    fields = [e["field"] for e in r.json()["errors"]]
    assert fields == ["sites.3.kind", "sites.4.region"]  # lines of the file, the header is line 1
    assert (await table_counts(services, tenant.id))["sites"] == 0

    good = "\n".join(SITES.splitlines()[:2]) + "\n"
    r = await client.post("/v1/imports?kind=sites", content=good, headers=csv)
    assert r.status_code == 201, r.text
    assert r.json()["created"] == {"sites": 1}
    r = await client.post("/v1/imports", content="code\nX\n", headers=csv)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "1.kind"  # line 1 names no section
    r = await client.post(
        "/v1/imports", content=b"[1, 2]", headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"


async def test_post_imports_needs_write_permission(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/imports", json={"regions": []})
    assert r.status_code == 401


def test_row_errors_read_as_a_sentence() -> None:
    assert str(RowError("assets", 18, "site", "no site")) == "assets, row 18, site: no site"
    assert str(RowError("widgets", 0, "", "unknown section")) == "widgets, file: unknown section"
