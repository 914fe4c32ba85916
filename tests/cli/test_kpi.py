"""``supplyline kpi``: a KPI exported from the database, the figures the API gives."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest

from supplyline import logistics
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Scope
from tests.cli.conftest import Invoke, with_services

WINDOW = ("--start", "2026-11-01", "--end", "2026-11-30")


@pytest.fixture
def acme(invoke: Invoke, migrated: None) -> str:
    """Two shipments departed in November, one with a temperature excursion."""
    out = json.loads(invoke("admin", "create-tenant", "acme", "--name", "Acme", "--json").output)
    tenant_id = uuid.UUID(out["tenant"]["id"])

    async def fill(services: Services) -> None:
        scope = Scope.system(tenant_id, "test")
        async with services.uow() as uow:
            sites = [
                await services.resources.create(
                    uow, scope, "sites", {"code": code, "name": code, "kind": "store"}
                )
                for code in ("A", "B")
            ]
            shipments = [
                await services.resources.create(
                    uow,
                    scope,
                    "shipments",
                    {
                        "number": number,
                        "status": "delivered",
                        "origin_site_id": str(sites[0]["id"]),
                        "destination_site_id": str(sites[1]["id"]),
                        "actual_departure_at": departed,
                    },
                )
                for number, departed in (("S1", "2026-11-03T08:00:00Z"), ("S2", "2026-11-10T08:00:00Z"))
            ]
            excursion = logistics.ShipmentExcursion(
                shipment_id=shipments[1]["id"],
                shipment_number="S2",
                rule_id=uuid.uuid4(),
                rule_code="cold-max",
                severity="critical",
                device_id=uuid.uuid4(),
                device="trk",
                metric="temperature_c",
                value=9.0,
                at="2026-11-10T09:00:00Z",
                late=False,
                lot_ids=[],
            )
            logistics.record_excursion(uow, tenant_id, excursion, "rules")
            await uow.commit()

    with_services(fill)
    return "acme"


def test_exports_a_kpi_per_period_as_csv_and_json(invoke: Invoke, acme: str) -> None:
    out = invoke("kpi", "excursion_rate", acme, *WINDOW, "--grain", "week").output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["period_start"] for r in rows] == [
        "2026-11-01",
        "2026-11-02",
        "2026-11-09",
        "2026-11-16",
        "2026-11-23",
        "2026-11-30",
    ]
    by_week = {r["period_start"]: (r["numerator"], r["denominator"], r["value"]) for r in rows}
    assert by_week["2026-11-02"] == ("0.0", "1.0", "0.0")
    assert by_week["2026-11-09"] == ("1.0", "1.0", "1.0")
    assert by_week["2026-11-16"] == ("0.0", "0.0", "")  # nothing departed: no value
    assert {r["version"] for r in rows} == {"1"} and {r["unit"] for r in rows} == {"ratio"}
    doc = json.loads(invoke("kpi", "excursion_rate", acme, *WINDOW, "--format", "json").output)
    assert doc["version"] == 1 and doc["points"][0]["value"] == 0.5


def test_refuses_an_unknown_kpi_a_bad_grain_and_an_unknown_tenant(invoke: Invoke, acme: str) -> None:
    assert "no KPI 'perfect'" in invoke("kpi", "perfect", acme, *WINDOW, ok=False).stderr
    assert "grain" in invoke("kpi", "mtbf", acme, *WINDOW, "--grain", "day", ok=False).stderr
    assert "grain" in invoke("kpi", "mtbf", acme, *WINDOW, "--grain", "year", ok=False).stderr
    assert invoke("kpi", "mtbf", "nobody", *WINDOW, ok=False).exit_code == 1
