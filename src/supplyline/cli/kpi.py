"""``supplyline kpi``: a KPI exported from the database, through the same service the API calls.

The figures are the tenant's as a whole (the CLI acts as the platform inside the tenant); each
row carries the period, the numerator, the denominator, the value and the definition version,
so an exported figure can be recomputed and audited later.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from supplyline import planning
from supplyline.cli.common import (
    check_schema,
    fail,
    find_tenant,
    load_settings,
    open_services,
    print_json,
    run,
)
from supplyline.kernel.scope import Scope

DAY = ["%Y-%m-%d"]


class Format(StrEnum):
    csv = "csv"
    json = "json"


def _query(**given: Any) -> planning.KpiQuery:
    try:
        return planning.KpiQuery.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"--{'-'.join(str(p) for p in first['loc']).replace('_', '-')}: {first['msg']}")


def _csv(out: dict[str, Any]) -> str:
    buffer = io.StringIO()
    group = out["group_by"]
    head = ["kpi", "version", "period_start", "period_end", *([group] if group else [])]
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*head, "numerator", "denominator", "value", "unit"])
    for p in out["points"]:
        cells = [out["kpi"], out["version"], p["period_start"], p["period_end"]]
        cells += [p["group"][group]] if group else []
        value = "" if p["value"] is None else p["value"]
        writer.writerow([*cells, p["numerator"], p["denominator"], value, out["unit"]])
    return buffer.getvalue()


def kpi(
    name: Annotated[str, typer.Argument(help="The KPI, e.g. otif (GET /v1/kpis lists them).")],
    tenant: Annotated[str, typer.Argument(help="The tenant (its slug or id).")],
    start: Annotated[datetime, typer.Option("--start", formats=DAY, help="First day (UTC).")],
    end: Annotated[datetime, typer.Option("--end", formats=DAY, help="Last day (UTC), included.")],
    grain: Annotated[str, typer.Option("--grain", help="day, week, month or total.")] = "total",
    version: Annotated[int | None, typer.Option("--version", help="A definition version.")] = None,
    product: Annotated[uuid.UUID | None, typer.Option("--product", help="Only this product.")] = None,
    site: Annotated[uuid.UUID | None, typer.Option("--site", help="Only this site.")] = None,
    group_by: Annotated[str | None, typer.Option("--group-by", help="A dimension to group by.")] = None,
    format_: Annotated[Format, typer.Option("--format", help="csv or json.")] = Format.csv,
) -> None:
    """Export a KPI's values per period (numerator, denominator, value, definition version)."""
    query = _query(
        start=start.date(),
        end=end.date(),
        grain=grain,
        version=version,
        product=product,
        site=site,
        group_by=group_by,
    )
    settings = load_settings()

    async def main() -> dict[str, Any]:
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            async with services.read_engine.connect() as conn:
                tenant_id = await find_tenant(conn, tenant)
                return await planning.kpi_values(conn, Scope.system(tenant_id, "cli"), name, query)

    out = run(main)
    if format_ is Format.json:
        print_json(out)
    else:
        typer.echo(_csv(out), nl=False)
