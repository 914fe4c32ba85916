"""``supplyline export parquet``: datasets written as Parquet partitions, through the same use
case as POST /v1/exports.

The CLI acts as the platform inside the tenant (the whole tenant, prices included) and has no
range limit; under cron it is the schedule (docs/exports.md), e.g. yesterday every night.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from supplyline import exports
from supplyline.cli.common import check_schema, find_tenant, load_settings, open_services, print_json, run
from supplyline.kernel.scope import Scope

app = typer.Typer(help="Export datasets for BI tools.", no_args_is_help=True)
DAY = ["%Y-%m-%d"]


@app.command("parquet")
def parquet(
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant (its slug or id).")],
    start: Annotated[datetime, typer.Option("--from", formats=DAY, help="First day (UTC).")],
    end: Annotated[datetime, typer.Option("--to", formats=DAY, help="Last day (UTC), included.")],
    out: Annotated[Path, typer.Option("--out", help="The directory the datasets go to.")],
    dataset: Annotated[
        list[str] | None,
        typer.Option("--dataset", help=f"Repeatable: {', '.join(exports.ALL_DATASETS)} (default: all)."),
    ] = None,
) -> None:
    """Write <out>/<dataset>/date=YYYY-MM-DD/part-00000.parquet for every day of the range;
    prints the files and row counts as JSON."""
    datasets = list(dataset or exports.ALL_DATASETS)
    settings = load_settings()

    async def main() -> dict[str, Any]:
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            async with services.read_engine.connect() as conn:
                tenant_id = await find_tenant(conn, tenant)
            scope = Scope.system(tenant_id, "cli")
            exports.check_request(scope, datasets, start.date(), end.date(), max_days=100_000)
            result = await exports.export_parquet(services, scope, datasets, start.date(), end.date(), out)
            return {"out": str(out), "rows": result.rows, "files": [f.as_dict() for f in result.files]}

    print_json(run(main))
