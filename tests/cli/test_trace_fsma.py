"""``supplyline trace fsma204``: the sortable spreadsheet of a tenant written from the database."""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from supplyline.bootstrap import Services
from supplyline.epcis.fsma204_rules import COLUMNS
from tests.cli.conftest import Invoke, with_services
from tests.epcis.fsma_chain import chain, store

TLC = COLUMNS["tlc"]


@pytest.fixture
def acme(invoke: Invoke, migrated: None) -> str:
    out = json.loads(invoke("admin", "create-tenant", "acme", "--name", "Acme", "--json").output)
    tenant = SimpleNamespace(id=uuid.UUID(out["tenant"]["id"]))

    async def fill(services: Services) -> None:
        await store(services, tenant, list(chain().values()))  # type: ignore[arg-type]

    with_services(fill)
    return "acme"


def test_writes_csv_for_a_lot(invoke: Invoke, acme: str, tmp_path: Path) -> None:
    path = tmp_path / "pk.csv"
    result = invoke("trace", "fsma204", acme, "--tlc", "PK-01", "--format", "csv", "-o", str(path))
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    assert [r[COLUMNS["cte"]] for r in rows] == ["Initial Packing", "Shipping", "Receiving", "Transformation"]
    said = " ".join(result.output.split())
    # No products in this tenant's master data: four product descriptions and one receipt's
    # reference document (type and number) are missing.
    assert said.startswith("4 critical tracking events") and said.endswith("6 key data elements missing.")


def test_writes_xlsx_for_a_date_range(invoke: Invoke, acme: str, tmp_path: Path) -> None:
    path = tmp_path / "march.xlsx"
    invoke(
        "trace",
        "fsma204",
        acme,
        "--from",
        "2026-03-05",
        "--to",
        "2026-03-10",
        "--format",
        "xlsx",
        "-o",
        str(path),
    )
    sheet = load_workbook(path)["Traceability Records"]
    header = [c.value for c in sheet[1]]
    lots = [row[header.index(TLC)] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert lots == ["FISH-9", "SAL-01"]


def test_refuses_no_filter_and_an_unknown_tenant(invoke: Invoke, acme: str, tmp_path: Path) -> None:
    out = str(tmp_path / "x.csv")
    assert "traceability lot code" in invoke("trace", "fsma204", acme, "-o", out, ok=False).stderr
    assert invoke("trace", "fsma204", "nobody", "--tlc", "A", "-o", out, ok=False).exit_code == 1
    assert not Path(out).exists()
