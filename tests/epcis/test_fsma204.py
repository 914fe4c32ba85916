"""The FSMA 204 sortable spreadsheet: each CTE recognised, KDEs from the right EPCIS fields and
the master data, missing KDEs reported, CSV / XLSX / JSON with the same rows, filters, isolation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from supplyline.bootstrap import Services
from supplyline.epcis import Fsma204Request, fsma204_report, to_csv, to_xlsx
from supplyline.epcis.fsma204_rules import COLUMNS, cte_of
from supplyline.kernel.errors import Invalid
from tests.conftest import TenantCtx
from tests.epcis.fsma_chain import (
    CASES,
    CTE_OF,
    EX,
    PACKHOUSE,
    PROCESSOR,
    SALAD,
    chain,
    store,
)

URL = "/v1/traceability/fsma204"
MARCH = Fsma204Request(start=datetime(2026, 3, 1, tzinfo=UTC), end=datetime(2026, 3, 31, tzinfo=UTC))
C = COLUMNS


async def master_data(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    """Product names for two GTINs; the packhouse known by its code, the processor by attribute."""
    for sku, gtin, name in (
        ("CASE-1", CASES, "Romaine hearts, 12 ct case"),
        ("KIT-1", SALAD, "Caesar salad kit"),
    ):
        body = {"sku": sku, "gtin": gtin, "name": name, "unit": "each"}
        assert (await client.post("/v1/products", json=body, headers=tenant.headers)).status_code == 201
    sites = (
        {
            "code": PACKHOUSE,
            "name": "Valley Packhouse",
            "kind": "plant",
            "address": {"city": "Salinas", "country": "US"},
        },
        {"code": "PROC", "name": "Acme Salads", "kind": "plant", "attributes": {"gln": PROCESSOR}},
    )
    for site in sites:
        assert (await client.post("/v1/sites", json=site, headers=tenant.headers)).status_code == 201


@pytest.fixture
async def stored(services: Services, tenant: TenantCtx, client: httpx.AsyncClient) -> TenantCtx:
    await master_data(client, tenant)
    await store(services, tenant, list(chain().values()))
    return tenant


async def report(services: Services, tenant: TenantCtx, request: Fsma204Request = MARCH) -> Any:
    async with services.read_engine.connect() as conn:
        return await fsma204_report(conn, tenant.scope, request)


def by_event(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {r["event_id"].rsplit(":", 1)[-1]: r for r in rows}


def test_the_mapping_covers_every_cte_and_skips_other_steps() -> None:
    assert cte_of("ObjectEvent", "OBSERVE", "gs1us:cooling", False) == "Cooling"
    assert (
        cte_of("ObjectEvent", "ADD", "https://ref.gs1.org/cbv/BizStep-commissioning", True)
        == "Initial Packing"
    )
    assert cte_of("ObjectEvent", "ADD", "commissioning", False) is None  # no ILMD: no lot assigned here
    assert cte_of("TransformationEvent", None, None, False) == "Transformation"
    assert cte_of("ObjectEvent", "OBSERVE", "urn:epcglobal:cbv:bizstep:departing", False) == "Shipping"
    assert cte_of("ObjectEvent", "OBSERVE", "storing", False) is None


async def test_each_cte_is_one_row_sorted_by_lot_then_time(services: Services, stored: TenantCtx) -> None:
    found = await report(services, stored)
    rows = by_event(found.rows)
    assert {name: r["cte"] for name, r in rows.items()} == CTE_OF
    order = [(r.get("tlc", ""), r["time"]) for r in found.rows]
    assert order == sorted(order)
    assert [r["tlc"] for r in found.rows] == [
        "FISH-9",
        "LET-01",
        "LET-01",
        "PK-01",
        "PK-01",
        "PK-01",
        "SAL-01",
        "SAL-01",
    ]


async def test_kde_columns_come_from_the_right_fields(services: Services, stored: TenantCtx) -> None:
    rows = by_event((await report(services, stored)).rows)
    ship = rows["ship-cases"]
    assert ship["product"] == "Romaine hearts, 12 ct case"  # logistics product by GTIN
    assert (ship["quantity"], ship["uom"], ship["date"]) == ("100", "CS", "2026-03-02")  # local date (-08:00)
    assert ship["ship_from"] == "Valley Packhouse, Salinas, US"  # site by code = GLN
    assert ship["ship_to"] == "Acme Salads"  # site by its gln attribute
    assert ship["tlc_source"] == "Valley Packhouse, Salinas, US"  # where PK-01 was packed
    assert (ship["reference_document_type"], ship["reference_document_number"]) == ("Despatch Advice", "DA-1")
    harvest = rows["harvest"]
    assert (harvest["product"], harvest["field_name"], harvest["harvest_date"]) == (
        "Romaine lettuce",
        "North 40",
        "2026-03-01",
    )
    assert harvest["ship_to"] == "https://id.gs1.org/414/0614141000029"  # unknown site: its identifier
    salad = rows["make-salad"]
    assert (salad["tlc"], salad["input_tlcs"], salad["product"]) == (
        "SAL-01",
        "PK-01 (40 CS)",
        "Caesar salad kit",
    )
    assert salad["tlc_source"] == salad["location"] == "Acme Salads"
    assert salad["location_id"] == f"https://id.gs1.org/414/{PROCESSOR}"
    assert rows["receive-cases"]["previous_source"] == "Valley Packhouse, Salinas, US"
    assert rows["land-fish"]["product"] == "Yellowfin tuna"  # from the ILMD


async def test_missing_kdes_are_reported_per_event(services: Services, stored: TenantCtx) -> None:
    missing = (await report(services, stored)).missing
    by = {(m["event_id"].rsplit(":", 1)[-1], m["kde"]) for m in missing}
    assert ("receive-cases", C["reference_document_type"]) in by
    assert ("receive-cases", C["reference_document_number"]) in by
    assert ("receive-cases", C["product"]) not in by
    assert not {kde for name, kde in by if name in ("ship-cases", "make-salad", "ship-salad")}


async def test_csv_and_xlsx_hold_the_same_rows(services: Services, stored: TenantCtx) -> None:
    found = await report(services, stored)
    expected = [[r.get(k, "") for k in COLUMNS] for r in found.rows]
    lines = list(csv.reader(io.StringIO(to_csv(found).decode("utf-8"))))
    assert lines[0] == list(COLUMNS.values()) and lines[1:] == expected
    book = load_workbook(io.BytesIO(to_xlsx(found)))
    sheet = [[c or "" for c in row] for row in book["Traceability Records"].iter_rows(values_only=True)]
    assert sheet[0] == list(COLUMNS.values()) and sheet[1:] == expected
    gaps = list(book["Missing KDEs"].iter_rows(values_only=True))
    assert len(gaps) == len(found.missing) + 1 and gaps[1][3] == found.missing[0]["kde"]


@pytest.mark.parametrize(
    "tlc",
    ["PK-01", f"https://id.gs1.org/01/{CASES}/10/PK-01", "urn:epc:class:lgtin:0614141.000002.PK-01"],
)
async def test_tlc_filter_in_any_form(services: Services, stored: TenantCtx, tlc: str) -> None:
    rows = by_event((await report(services, stored, Fsma204Request((tlc,)))).rows)
    # The transformation that consumed PK-01 is part of its trail, though its TLC is SAL-01.
    assert set(rows) == {"pack", "ship-cases", "receive-cases", "make-salad"}


async def test_date_range_filter(services: Services, stored: TenantCtx) -> None:
    day = Fsma204Request(start=datetime(2026, 3, 3, tzinfo=UTC), end=datetime(2026, 3, 4, 23, 59, tzinfo=UTC))
    assert set(by_event((await report(services, stored, day)).rows)) == {"receive-cases", "make-salad"}
    both = Fsma204Request(("SAL-01",), start=datetime(2026, 3, 5, tzinfo=UTC))
    assert set(by_event((await report(services, stored, both)).rows)) == {"ship-salad"}


async def test_a_bad_request_is_refused(services: Services, tenant: TenantCtx) -> None:
    with pytest.raises(Invalid):
        await report(services, tenant, Fsma204Request())
    with pytest.raises(Invalid):
        await report(services, tenant, Fsma204Request(start=MARCH.end, end=MARCH.start))


async def test_another_tenants_events_are_never_exported(
    services: Services, stored: TenantCtx, other_tenant: TenantCtx
) -> None:
    theirs = chain()["ship-salad"]
    theirs.update(eventID="urn:example:globex:1", bizStep=EX + "harvesting")
    await store(services, other_tenant, [theirs])
    ours = await report(services, stored)
    assert "urn:example:globex:1" not in {r["event_id"] for r in ours.rows}
    assert [r["event_id"] for r in (await report(services, other_tenant)).rows] == ["urn:example:globex:1"]
    assert (await report(services, other_tenant, Fsma204Request(("PK-01",)))).rows == []


async def test_api_formats_and_content_types(client: httpx.AsyncClient, stored: TenantCtx) -> None:
    params = {"tlc": "PK-01"}
    r = await client.get(URL, params=params, headers=stored.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["columns"] == list(COLUMNS.values()) and len(body["rows"]) == 4
    assert {m["kde"] for m in body["missing"]} == {
        C["reference_document_type"],
        C["reference_document_number"],
    }
    r = await client.get(URL, params={**params, "format": "csv"}, headers=stored.headers)
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="fsma204-PK-01.csv"'
    assert len(list(csv.reader(io.StringIO(r.text)))) == 5
    r = await client.get(
        URL, params={"from": "2026-03-01", "to": "2026-03-31", "format": "xlsx"}, headers=stored.headers
    )
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r.headers["content-disposition"] == 'attachment; filename="fsma204-2026-03-01-2026-03-31.xlsx"'
    assert load_workbook(io.BytesIO(r.content))["Traceability Records"].max_row == 9


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "tlc"), ({"from": "2026-03-05", "to": "2026-03-01"}, "from"), ({"from": "2026-02-30"}, "from")],
)
async def test_api_refuses_a_bad_combination(
    client: httpx.AsyncClient, tenant: TenantCtx, params: dict[str, str], field: str
) -> None:
    r = await client.get(URL, params=params, headers=tenant.headers)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == [field]


async def test_api_needs_a_credential(client: httpx.AsyncClient) -> None:
    assert (await client.get(URL, params={"tlc": "PK-01"})).status_code == 401
