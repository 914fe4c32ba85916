"""``supplyline trace``: traceability reports from the EPCIS repository, on the database.

``fsma204`` writes the FDA FSMA 204 electronic sortable spreadsheet of a tenant for lot codes
or a date range, the file the FDA may ask for within 24 hours, and says how many key data
elements are missing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from supplyline import epcis
from supplyline.cli.common import check_schema, console, fail, find_tenant, load_settings, open_services, run
from supplyline.kernel.errors import Invalid
from supplyline.kernel.scope import Scope

app = typer.Typer(help="Traceability reports: the FSMA 204 sortable spreadsheet.", no_args_is_help=True)


class Format(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


def _day(value: datetime | None, *, end: bool) -> datetime | None:
    if value is None:
        return None
    return epcis.day_end(value.date()) if end else epcis.day_start(value.date())


@app.command("fsma204")
def fsma204(
    tenant: Annotated[str, typer.Argument(help="The tenant (its slug or id).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Write the spreadsheet here.")],
    tlc: Annotated[
        list[str] | None, typer.Option("--tlc", help="A traceability lot code or its LGTIN (repeatable).")
    ] = None,
    from_: Annotated[
        datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="Events from this day (UTC).")
    ] = None,
    to: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Events up to this day (UTC), all of it."),
    ] = None,
    format_: Annotated[Format, typer.Option("--format", help="csv or xlsx.")] = Format.csv,
) -> None:
    """Write the FSMA 204 electronic sortable spreadsheet for lot codes and/or a date range."""
    try:
        request = epcis.Fsma204Request(tuple(tlc or ()), _day(from_, end=False), _day(to, end=True))
        request.check()
    except Invalid as exc:
        fail(str(exc))
    except OverflowError:
        fail("--to: no day after 9999-12-30")
    settings = load_settings()

    async def main() -> epcis.Fsma204Report:
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            async with services.read_engine.connect() as conn:
                tenant_id = await find_tenant(conn, tenant)
                return await epcis.fsma204_report(conn, Scope.system(tenant_id, "cli"), request)

    report = run(main)
    body = epcis.to_csv(report) if format_ is Format.csv else epcis.to_xlsx(report)
    output.write_bytes(body)
    console.print(
        f"{len(report.rows)} critical tracking events written to {escape(str(output))}; "
        f"{len(report.missing)} key data elements missing."
    )
