"""``supplyline import``: onboard a tenant's master data from a JSON or CSV file.

The onboarding service checks the whole file before writing anything, so a file with errors
leaves the tenant untouched and the user gets every bad row at once, in the file's own terms.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from supplyline import access
from supplyline.cli.common import (
    CliError,
    check_schema,
    console,
    err_console,
    fail,
    load_settings,
    open_services,
    print_json,
    run,
)
from supplyline.cli.demand import import_demand_file
from supplyline.kernel.scope import Scope
from supplyline.onboarding import ImportReport, import_document, load_document


class SectionProgress:
    """One bar per section, fed by the service's ``progress(section, done, total)`` callback."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, section: str, done: int, total: int) -> None:
        if self.progress is None:
            return
        task = self.tasks.get(section)
        if task is None:
            task = self.tasks[section] = self.progress.add_task(section, total=total)
        self.progress.update(task, completed=done, total=total)


def _progress_bar() -> Progress:
    # Progress goes to stderr so that stdout carries only the result.
    return Progress(
        TextColumn("[bold]{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
    )


def import_file(
    file: Annotated[
        Path, typer.Argument(help="A .json file of sections, or a .csv of one section; or the word 'demand'.")
    ],
    tenant: Annotated[str, typer.Option(help="The tenant to import into (its slug).")],
    history: Annotated[
        Path | None,
        typer.Argument(help="After 'demand': a long-format CSV (unique_id=<sku>@<site code>, ds, y)."),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            help="The section (e.g. sites) when the file holds one; needed for a CSV without a kind column."
        ),
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    mode: Annotated[
        str, typer.Option(help="For demand: upsert, or replace (drop the series' earlier imported days).")
    ] = "upsert",
) -> None:
    """Import master data into a tenant: all of it, or nothing and a list of every error.
    ``supplyline import demand FILE.csv`` imports demand history the same way."""
    if str(file) == "demand":
        if history is None:
            fail("name the file: supplyline import demand FILE.csv --tenant SLUG")
        import_demand_file(history, tenant, mode, json_)
        return
    settings = load_settings()
    if not file.is_file():
        fail(f"no such file: {file}")

    async def main() -> ImportReport:
        try:
            doc = load_document(file, kind=kind)
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read {file}: {exc}") from None
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            async with services.engine.connect() as conn:
                found = await access.get_tenant_by_slug(conn, tenant)
            bar_cm: contextlib.AbstractContextManager[Progress | None]
            bar_cm = contextlib.nullcontext() if json_ else _progress_bar()
            with bar_cm as bar:
                return await import_document(
                    services.uow,
                    services.resources,
                    Scope.system(found.id, "cli import"),
                    doc,
                    progress=SectionProgress(bar),
                )

    report = run(main)
    if json_:
        print_json(
            {
                "ok": report.ok,
                "rows": report.rows,
                "created": report.created,
                "errors": [asdict(e) for e in report.errors],
            }
        )
    else:
        _show(report, file)
    if not report.ok:
        raise typer.Exit(1)


def _show(report: ImportReport, file: Path) -> None:
    if report.ok:
        created = ", ".join(f"{n} {section}" for section, n in report.created.items() if n) or "nothing"
        console.print(f"[green]Imported {escape(file.name)}[/]: {report.rows} rows; created {created}.")
        return
    table = Table(title=f"{escape(file.name)}: nothing was imported", title_justify="left")
    table.add_column("section")
    table.add_column("row", justify="right")
    table.add_column("field")
    table.add_column("reason", style="red", overflow="fold")
    for e in report.errors:
        table.add_row(
            escape(e.section or "-"), str(e.row) if e.row else "-", escape(e.field or "-"), escape(e.reason)
        )
    console.print(table)
    n = len(report.errors)
    err_console.print(
        f"[bold red]Error:[/] {n} problem{'s' if n != 1 else ''} in {escape(file.name)}; "
        "fix them and run the import again (nothing was written)."
    )
