"""``supplyline governance``: run the retention purge now, for every tenant or one.

The workers run it every SUPPLYLINE_RETENTION_PURGE_INTERVAL_S and the compactor purges
telemetry hourly; this is for an operator who wants it done, and seen, now. Each purge that
deleted something left an audit entry (``retention.purge``) in its tenant.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from supplyline import governance
from supplyline.cli.common import (
    check_schema,
    console,
    find_tenant,
    load_settings,
    open_services,
    print_json,
    run,
)

app = typer.Typer(help="Data retention: purge what is past its tenant's retention.", no_args_is_help=True)


@app.command("purge")
def purge(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (its slug or id).")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
) -> None:
    """Purge telemetry, events, audit entries and checkpoints past their retention, now."""
    settings = load_settings()

    async def main() -> tuple[int, list[governance.Purged]]:
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            tenant_id: uuid.UUID | None = None
            if tenant is not None:
                async with services.read_engine.connect() as conn:
                    tenant_id = await find_tenant(conn, tenant)
            readings = await services.telemetry.compactor.purge(tenant_id)
            return readings, await services.purger.run(tenant_id)

    readings, purged = run(main)
    if json_:
        print_json({"telemetry_readings": readings, "purges": [p.as_dict() for p in purged]})
        return
    console.print(f"Telemetry: {readings} reading{'' if readings == 1 else 's'} purged.")
    if not purged:
        console.print("[dim]No tenant has a retention set for events, audit entries or checkpoints.[/]")
        return
    table = Table(title="Retention purge", box=None, pad_edge=False)
    for col in ("tenant", "class", "days", "cutoff (UTC)", "deleted"):
        table.add_column(col, justify="right" if col in ("days", "deleted") else "left")
    for p in purged:
        deleted = "[yellow]held[/]" if p.held else str(p.deleted)
        cells = [str(p.tenant_id), p.data_class, str(p.days), p.cutoff.strftime("%Y-%m-%d %H:%M:%S")]
        table.add_row(*(escape(c) for c in cells), deleted)
    console.print(table)
