"""``supplyline import demand FILE.csv``: demand history in the long format (``unique_id, ds,
y``), through the same use case as ``POST /v1/demand-history``: every bad row listed, and
nothing written unless every row is good.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from supplyline import access, planning
from supplyline.cli.common import (
    check_schema,
    console,
    err_console,
    fail,
    load_settings,
    open_services,
    print_json,
    run,
)
from supplyline.kernel.errors import Invalid
from supplyline.kernel.scope import Scope


def import_demand_file(file: Path, tenant: str, mode: str, json_: bool) -> None:
    """Import the file into the tenant; print the counts, or every problem and exit 1."""
    settings = load_settings()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")

    async def main() -> dict[str, Any] | Invalid:
        """A refused file comes back as its ``Invalid`` (``run`` would print only the first
        error), so that every bad row is shown."""
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            async with services.engine.connect() as conn:
                found = await access.get_tenant_by_slug(conn, tenant)
            records = planning.csv_records(text)
            try:
                async with services.uow() as uow:
                    out = await planning.import_demand(
                        uow,
                        Scope.system(found.id, "cli import"),
                        records,
                        where=planning.csv_where,
                        filename=file.name[:255],
                        mode=mode,
                    )
                    await uow.commit()
            except Invalid as exc:
                return exc
            return out

    out = run(main)
    if isinstance(out, Invalid):
        _show_errors(out, file, json_)
        raise typer.Exit(1)
    if json_:
        print_json({"ok": True, **out})
    else:
        console.print(
            f"[green]Imported {escape(file.name)}[/]: {out['rows']} rows in {out['series']} series, "
            f"{out['first_day']} to {out['last_day']}."
        )


def _show_errors(exc: Invalid, file: Path, json_: bool) -> None:
    if json_:
        print_json({"ok": False, "errors": [e.as_dict() for e in exc.errors]})
        return
    table = Table(title=f"{escape(file.name)}: nothing was imported", title_justify="left")
    table.add_column("where")
    table.add_column("reason", style="red", overflow="fold")
    for e in exc.errors:
        table.add_row(escape(e.field), escape(e.reason))
    console.print(table)
    n = len(exc.errors)
    err_console.print(
        f"[bold red]Error:[/] {n} problem{'s' if n != 1 else ''} in {escape(file.name)}; nothing was written."
    )
