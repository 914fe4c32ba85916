"""``supplyline ledger``: verify the traceability checkpoint trail, list its newest checkpoints.

``verify`` is meant for scripts and audits as much as for people: it exits 1 when anything in
the chain or the log no longer matches what was recorded.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import access, trace
from supplyline.bootstrap import Services
from supplyline.cli.common import (
    CliError,
    check_schema,
    console,
    err_console,
    fail,
    find_tenant,
    load_settings,
    open_services,
    print_json,
    run,
)
from supplyline.kernel.events import TYPE_PREFIX
from supplyline.kernel.scope import Scope

app = typer.Typer(
    help="The traceability ledger: verify its checkpoint chain, list checkpoints.", no_args_is_help=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
TenantOption = Annotated[str | None, typer.Option(help="Only this tenant (its slug or id).")]


async def _names(conn: AsyncConnection) -> dict[uuid.UUID, str]:
    return {t.id: t.slug for t in await access.list_tenants(conn, Scope.platform("cli"))}


def _key(services: Services) -> bytes:
    settings = services.settings
    try:
        return trace.ledger_key(settings.secret_key, settings.data_dir)
    except RuntimeError as exc:
        raise CliError(str(exc)) from None


@app.command("verify")
def verify(
    export: Annotated[
        Path | None, typer.Argument(help="An export to check offline, with --key alone (no database).")
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="The verifier key you trust (GET /v1/ledger/public-key), for EXPORT.")
    ] = None,
    witness: Annotated[
        list[Path] | None, typer.Option(help="A signed checkpoint kept earlier: the log must extend it.")
    ] = None,
    tenant: TenantOption = None,
    json_: JsonFlag = False,
) -> None:
    """Recompute every checkpoint from the event log and the chain, or check an EXPORT offline;
    exit 1 on any problem."""
    if export is not None:
        _verify_export(export, key, witness or [], json_)
        return
    settings = load_settings()

    async def main() -> tuple[trace.VerifyReport, dict[uuid.UUID, str]]:
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            key = _key(services)
            coverage = await trace.recorder_coverage(services.consumers)
            async with services.read_engine.connect() as conn:
                tenant_id = await find_tenant(conn, tenant) if tenant is not None else None
                report = await trace.verify(conn, key, tenant_id, coverage=coverage)
                return report, await _names(conn)

    report, names = run(main)
    if json_:
        print_json(report.as_dict())
    else:
        _print_report(report, names)
    if not report.ok:
        raise typer.Exit(1)


def _verify_export(path: Path, key: str | None, witnesses: list[Path], json_: bool) -> None:
    try:
        doc = orjson.loads(path.read_bytes())
        notes = [w.read_text() for w in witnesses]
    except (OSError, orjson.JSONDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")
    trusted = key
    if trusted is None:
        trusted = str(doc.get("verifier_key", "")) if isinstance(doc, dict) else ""
        err_console.print(
            "[yellow]Checked against the key the file names: pass --key with the key you trust "
            "(GET /v1/ledger/public-key) for a check that does not trust the file.[/]"
        )
    try:
        verifier = trace.Verifier.parse(trusted)
    except trace.NoteError as exc:
        fail(f"the key: {exc}")
    report = trace.verify_export(doc, verifier, notes)
    if json_:
        print_json(report.as_dict())
    elif report.ok:
        console.print(
            f"[green]Log verified:[/] {report.tree_size} leaves, root {report.root_hash}; "
            f"{report.events_checked} events checked, {report.events_absent} no longer in the log."
        )
    else:
        for problem in report.problems:
            console.print(f"[red]{escape(problem)}[/]")
        console.print(f"[bold red]Log NOT verified:[/] {len(report.problems)} problem(s).")
    if not report.ok:
        raise typer.Exit(1)


@app.command("export")
def export_(
    tenant: Annotated[str, typer.Argument(help="The tenant (its slug or id).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Write the export here.")],
) -> None:
    """Write a tenant's log (leaves, events, signed tree head) for an offline `ledger verify`."""
    settings = load_settings()

    async def main() -> dict[str, Any]:
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            async with services.read_engine.connect() as conn:
                tenant_id = await find_tenant(conn, tenant)
                return await trace.export_log(conn, tenant_id, _key(services))

    doc = run(main)
    output.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    console.print(f"{len(doc['leaves'])} leaves written to {escape(str(output))}")


def _print_report(report: trace.VerifyReport, names: dict[uuid.UUID, str]) -> None:
    tenants = f"{report.tenants} tenant{'' if report.tenants == 1 else 's'}"
    if report.ok:
        console.print(f"[green]Ledger verified:[/] {report.checked} checkpoints in {tenants}, no problems.")
        return
    table = Table(title="Ledger problems")
    for col in ("tenant", "seq", "kind", "problem"):
        table.add_column(col, justify="right" if col == "seq" else "left", overflow="fold")
    for p in report.problems:
        table.add_row(
            escape(names.get(p.tenant_id, str(p.tenant_id))),
            str(p.seq) if p.seq is not None else "-",
            f"[red]{p.kind}[/]",
            escape(p.message),
        )
    console.print(table)
    count = len(report.problems)
    console.print(
        f"[bold red]Ledger NOT verified:[/] {count} problem{'' if count == 1 else 's'} "
        f"in {report.checked} checkpoints of {tenants}."
    )


@app.command("show")
def show(
    tenant: TenantOption = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many checkpoints.")] = 20,
    json_: JsonFlag = False,
) -> None:
    """List the newest checkpoints, newest first."""
    settings = load_settings()

    async def main() -> tuple[list[trace.Checkpoint], dict[uuid.UUID, str]]:
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            async with services.read_engine.connect() as conn:
                tenant_id = await find_tenant(conn, tenant) if tenant is not None else None
                return await trace.latest_checkpoints(conn, tenant_id, limit), await _names(conn)

    checkpoints, names = run(main)
    if json_:
        print_json({"items": [c.as_dict() for c in checkpoints]})
        return
    if not checkpoints:
        console.print("[dim]No checkpoints recorded.[/]")
        return
    table = Table(title="Ledger checkpoints", box=None, pad_edge=False)
    if tenant is None:
        table.add_column("tenant", max_width=14, overflow="ellipsis", no_wrap=True)
    table.add_column("seq", justify="right", no_wrap=True)
    table.add_column("recorded (UTC)", no_wrap=True)
    table.add_column("type", min_width=20, overflow="fold", style="cyan")
    table.add_column("subject", min_width=16, overflow="fold")
    table.add_column("hash", min_width=12, no_wrap=True)
    for c in checkpoints:
        recorded = c.recorded_at.strftime("%Y-%m-%d %H:%M:%S")
        row = [str(c.seq), recorded, c.event_type.removeprefix(TYPE_PREFIX), c.subject, c.hash[:12]]
        if tenant is None:
            row.insert(0, names.get(c.tenant_id, str(c.tenant_id)))
        table.add_row(*(escape(cell) for cell in row))
    console.print(table)
