"""``supplyline export parquet``: the tenant's datasets as Parquet partitions in a directory."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.dataset as ds

from supplyline.bootstrap import Services
from supplyline.kernel.scope import Scope
from tests.cli.conftest import Invoke, with_services


def test_writes_the_datasets_of_a_tenant(invoke: Invoke, migrated: None, tmp_path: Path) -> None:
    out = json.loads(invoke("admin", "create-tenant", "acme", "--name", "Acme", "--json").output)
    tenant_id = uuid.UUID(out["tenant"]["id"])

    async def fill(services: Services) -> None:
        scope = Scope.system(tenant_id, "test")
        async with services.uow() as uow:
            sites = [
                await services.resources.create(uow, scope, "sites", {"code": c, "name": c, "kind": "store"})
                for c in ("A", "B")
            ]
            for number in ("S1", "S2", "S3"):
                body = {
                    "number": number,
                    "status": "planned",
                    "origin_site_id": str(sites[0]["id"]),
                    "destination_site_id": str(sites[1]["id"]),
                    "freight_cost": 10.0,
                }
                await services.resources.create(uow, scope, "shipments", body)
            await uow.commit()

    with_services(fill)
    today = datetime.now(UTC).date().isoformat()
    target = tmp_path / "bi"
    args = ("--tenant", "acme", "--from", today, "--to", today, "--out", str(target))
    done = json.loads(
        invoke("export", "parquet", *args, "--dataset", "shipments", "--dataset", "events").output
    )
    assert done["rows"]["shipments"] == 3 and done["rows"]["events"] >= 5
    assert [f["path"] for f in done["files"]] == [
        f"shipments/date={today}/part-00000.parquet",
        f"events/date={today}/part-00000.parquet",
    ]
    table = ds.dataset(target / "shipments", partitioning="hive").to_table()
    assert sorted(table.column("number").to_pylist()) == ["S1", "S2", "S3"]
    glob = f"{target}/shipments/**/*.parquet"
    sql = f"SELECT count(*), sum(freight_cost) FROM read_parquet('{glob}', hive_partitioning=true)"
    assert duckdb.sql(sql).fetchall() == [(3, 30.0)]
    # Every dataset by default; a bad dataset or tenant is a sentence and exit code 1.
    done = json.loads(invoke("export", "parquet", *args).output)
    assert set(done["rows"]) == {"readings", "events", "shipments", "inventory_positions", "kpis"}
    bad = invoke("export", "parquet", *args, "--dataset", "prices", ok=False)
    assert bad.exit_code == 1 and "prices" in bad.stderr
    other = ("--tenant", "nobody", *args[2:])
    assert invoke("export", "parquet", *other, ok=False).exit_code == 1
