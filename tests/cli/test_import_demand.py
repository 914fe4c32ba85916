"""``supplyline import demand FILE.csv``: the same use case as POST /v1/demand-history; a bad
file lists every bad row and writes nothing, a good one prints its counts."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from supplyline.bootstrap import Services
from supplyline.planning.tables import planning_demand, planning_demand_import
from tests.cli.conftest import Invoke, with_services

MASTER: dict[str, Any] = {
    "sites": [{"code": "DC-LYON", "name": "Lyon DC", "kind": "warehouse"}],
    "products": [{"sku": "VAC-01", "name": "Vaccine", "unit": "each"}],
}


@pytest.fixture
def acme(migrated: None, invoke: Invoke, tmp_path: Path) -> str:
    out = json.loads(invoke("admin", "create-tenant", "acme", "--name", "Acme", "--json").output)
    master = tmp_path / "master.json"
    master.write_text(json.dumps(MASTER), encoding="utf-8")
    invoke("import", str(master), "--tenant", "acme")
    return str(out["tenant"]["id"])


def counts(tenant_id: str) -> tuple[int, int]:
    async def count(services: Services) -> tuple[int, int]:
        async with services.engine.connect() as conn:
            out = []
            for t in (planning_demand, planning_demand_import):
                stmt = select(func.count()).select_from(t).where(t.c.tenant_id == uuid.UUID(tenant_id))
                out.append(int((await conn.execute(stmt)).scalar_one()))
        return out[0], out[1]

    return with_services(count)


def test_a_bad_file_lists_every_row_and_a_good_one_is_imported(
    invoke: Invoke, acme: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "unique_id,ds,y\nVAC-01@DC-LYON,2026-11-01,4\nVAC-99@DC-LYON,2026-11-01,1\nVAC-01@DC-LYON,2026-11-02,-3\n",
        encoding="utf-8",
    )
    result = invoke("import", "demand", str(bad), "--tenant", "acme", "--json", ok=False)
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert out["ok"] is False
    assert [(e["field"], e["reason"]) for e in out["errors"]] == [
        ("row 3.unique_id", "unknown product 'VAC-99'"),
        ("row 4.y", "must be a finite number at least 0"),
    ]
    assert counts(acme) == (0, 0)

    good = tmp_path / "good.csv"
    good.write_text(
        "unique_id,ds,y\nVAC-01@DC-LYON,2026-11-01,4\nVAC-01@DC-LYON,2026-11-03,2.5\n", encoding="utf-8"
    )
    out = json.loads(invoke("import", "demand", str(good), "--tenant", "acme", "--json").output)
    assert (out["rows"], out["series"], out["first_day"], out["last_day"]) == (
        2,
        1,
        "2026-11-01",
        "2026-11-03",
    )
    assert counts(acme) == (2, 1)
    human = invoke("import", "demand", str(good), "--tenant", "acme", "--mode", "replace")
    assert "2 rows in 1 series" in human.output
    assert counts(acme) == (2, 2)
