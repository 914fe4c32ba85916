"""``supplyline events``: read the log, replay a consumer, see every consumer's position.

The log is the platform's source of truth, so operators need to look at it directly: what
happened, in commit order, and whether each consumer has caught up.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from supplyline import access
from supplyline.bootstrap import Services
from supplyline.cli.common import (
    CliError,
    check_schema,
    console,
    load_settings,
    open_services,
    print_json,
    run,
)
from supplyline.eventlog import ConsumerFailed, ConsumerStatus, EventTypeRegistry
from supplyline.kernel.events import TYPE_PREFIX, StoredEvent
from supplyline.kernel.scope import Scope

app = typer.Typer(help="The event log: tail it, replay consumers, show their status.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output instead of tables.")]


def resolve_types(registry: EventTypeRegistry, given: Sequence[str]) -> list[str]:
    """Accept wire types (``supplyline.site.created.v1``) or names (``site.created``, every version)."""
    known = registry.all()
    out: list[str] = []
    for name in given:
        matches = [et.type for et in known if name in (et.type, et.name)]
        if not matches:
            raise CliError(
                f"unknown event type '{name}'; use a name such as 'site.created' "
                f"or a wire type such as '{TYPE_PREFIX}site.created.v1'"
            )
        out += matches
    return out


class EventPrinter:
    """Prints batches of events as CloudEvents JSON lines or as tables (one per batch with --follow)."""

    def __init__(self, as_json: bool, tenants: dict[uuid.UUID, str] | None) -> None:
        self.as_json = as_json
        self.tenants = tenants  # None: one tenant was asked for, so the column is left out
        self.printed = 0

    def show(self, events: list[StoredEvent]) -> None:
        if self.as_json:
            for ev in events:
                print_json(ev.cloudevent())
        else:
            console.print(self._table(events))
        self.printed += len(events)

    def _table(self, events: list[StoredEvent]) -> Table:
        table = Table(show_header=self.printed == 0, box=None, pad_edge=False)
        table.add_column("position", justify="right", min_width=8, no_wrap=True)
        table.add_column("time (UTC)", no_wrap=True)
        if self.tenants is not None:
            table.add_column("tenant", max_width=14, overflow="ellipsis", no_wrap=True)
        table.add_column("type", min_width=24, overflow="fold", style="cyan")
        table.add_column("subject", min_width=20, overflow="fold")
        for ev in events:
            row = [str(ev.position), ev.time.strftime("%Y-%m-%d %H:%M:%S")]
            if self.tenants is not None:
                row.append(self.tenants.get(ev.tenant_id, str(ev.tenant_id)) if ev.tenant_id else "-")
            row += [ev.type.removeprefix(TYPE_PREFIX), ev.subject]
            table.add_row(*(escape(cell) for cell in row))
        return table


async def _tenant_names(services: Services) -> dict[uuid.UUID, str]:
    async with services.read_engine.connect() as conn:
        return {t.id: t.slug for t in await access.list_tenants(conn, Scope.platform("cli"))}


@app.command("tail")
def tail(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's events (its slug).")] = None,
    after: Annotated[int, typer.Option(min=0, help="Only events after this log position.")] = 0,
    types: Annotated[
        list[str] | None,
        typer.Option("--type", help="Only this event type, e.g. site.created (repeatable)."),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=10_000, help="At most this many events (per read with --follow).")
    ] = 100,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events until Ctrl-C.")
    ] = False,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between polls with --follow.")] = 1.0,
    json_: JsonFlag = False,
) -> None:
    """Print events in log order: CloudEvents as JSON lines with --json, else a table.

    Without --follow: at most --limit events after --after. With --follow: everything after, then new events.
    """
    settings = load_settings()

    async def main() -> tuple[int, int]:
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            wanted = resolve_types(services.event_types, types or [])
            tenant_id: uuid.UUID | None = None
            names: dict[uuid.UUID, str] | None = None
            if tenant is not None:
                async with services.read_engine.connect() as conn:
                    tenant_id = (await access.get_tenant_by_slug(conn, tenant)).id
            else:
                names = await _tenant_names(services)
            printer = EventPrinter(json_, names)
            position = after
            while True:
                async with services.read_engine.connect() as conn:
                    batch = await services.events.read(
                        conn, after=position, limit=limit, tenant_id=tenant_id, types=wanted
                    )
                if names is not None and any(e.tenant_id and e.tenant_id not in names for e in batch):
                    names.update(await _tenant_names(services))
                if batch:
                    printer.show(batch)
                    position = batch[-1].position
                if not follow:
                    return printer.printed, position
                if len(batch) < limit:
                    await asyncio.sleep(interval)

    try:
        printed, last = run(main)
    except typer.Exit as exc:
        if exc.exit_code == 130 and follow:  # Ctrl-C is how --follow ends; not an error
            return
        raise
    if json_:
        return
    if printed == 0:
        console.print("[dim]No events match.[/]")
    elif printed == limit:
        console.print(f"[dim]{limit} events shown; more may follow: --after {last}[/]")


@app.command("replay")
def replay(
    consumer: Annotated[str, typer.Option(help="The consumer to re-run, e.g. entity-index.")],
    from_: Annotated[
        int,
        typer.Option("--from", min=0, help="First log position to process; 0 or 1 rebuilds from scratch."),
    ] = 1,
    json_: JsonFlag = False,
) -> None:
    """Re-run a consumer from a log position and wait until it has caught up."""
    settings = load_settings()

    async def main() -> int:
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            try:
                return await services.consumers.replay(consumer, from_)
            except ConsumerFailed as exc:
                raise CliError(f"{exc}; it will resume from there once the cause is fixed") from None

    processed = run(main)
    if json_:
        print_json({"consumer": consumer, "from": from_, "processed": processed})
        return
    console.print(
        f"Consumer [bold]{escape(consumer)}[/] replayed from position {from_}: {processed} events processed."
    )


@app.command("consumers")
def consumers(json_: JsonFlag = False) -> None:
    """Show each consumer's position, lag behind the head of the log, and any failure."""
    settings = load_settings()

    async def main() -> list[ConsumerStatus]:
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            return await services.consumers.status()

    statuses = run(main)
    if json_:
        print_json({"items": [s.as_dict() for s in statuses]})
        return
    table = Table(title="Event consumers")
    for col in ("consumer", "position", "head", "lag", "failing at", "attempts", "last error"):
        table.add_column(col, justify="right" if col in ("position", "head", "lag", "attempts") else "left")
    for s in statuses:
        lag = f"[green]{s.lag}[/]" if s.lag == 0 else f"[yellow]{s.lag}[/]"
        table.add_row(
            escape(s.name),
            str(s.position),
            str(s.head),
            lag,
            str(s.failing_position or "-"),
            str(s.attempts),
            f"[red]{escape(s.last_error)}[/]" if s.last_error else "-",
        )
    console.print(table)
