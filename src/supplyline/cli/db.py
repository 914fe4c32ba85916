"""``supplyline db``: move the schema between migrations and say where it stands."""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer
from alembic.util.exc import CommandError
from sqlalchemy.ext.asyncio import AsyncEngine

from supplyline.cli.common import (
    CliError,
    console,
    database_label,
    load_settings,
    open_services,
    print_json,
    run,
    schema_revision,
)
from supplyline.db import create_engine
from supplyline.db.migrate import (
    ChainError,
    current_revision,
    downgrade,
    head_revision,
    new_revision,
    upgrade,
)

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]


def _migrate(
    verb: str, move: Callable[[AsyncEngine, str], Awaitable[None]], revision: str
) -> tuple[str | None, str | None]:
    """Move the schema to ``revision``; returns the revisions before and after."""
    settings = load_settings()

    async def main() -> tuple[str | None, str | None]:
        async with open_services(settings) as services:
            before = await schema_revision(services)
            try:
                await move(services.engine, revision)
            except CommandError as exc:
                raise CliError(f"cannot {verb} to '{revision}': {exc}") from None
            return before, await current_revision(services.engine)

    return run(main)


def _report(settings_label: str, before: str | None, after: str | None, json_: bool) -> bool:
    """Print the JSON form when asked; True when it did."""
    if json_:
        print_json({"database": settings_label, "from": before, "to": after, "head": head_revision()})
    return json_


@app.command("upgrade")
def upgrade_cmd(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    json_: JsonFlag = False,
) -> None:
    """Upgrade the schema (by default to the newest revision this version knows)."""
    label = database_label(load_settings())
    before, after = _migrate("upgrade", upgrade, revision)
    if _report(label, before, after, json_):
        return
    if before == after:
        console.print(f"The database at {label} is already at revision {after}.")
    else:
        console.print(
            f"Upgraded the database at {label} from {before or 'empty'} to revision [bold]{after}[/]."
        )


@app.command("downgrade")
def downgrade_cmd(
    revision: Annotated[
        str, typer.Option(help="Target revision; 'base' removes every table (and all data).")
    ],
    json_: JsonFlag = False,
) -> None:
    """Downgrade the schema to an earlier revision. Data in dropped tables is lost."""
    label = database_label(load_settings())
    before, after = _migrate("downgrade", downgrade, revision)
    if _report(label, before, after, json_):
        return
    console.print(
        f"Downgraded the database at {label} from {before or 'empty'} to {after or 'empty (base)'}."
    )


@app.command("current")
def current_cmd(json_: JsonFlag = False) -> None:
    """Show the schema revision of the database and whether it is at head."""
    settings = load_settings()

    async def main() -> str | None:
        async with open_services(settings) as services:
            return await schema_revision(services)

    current = run(main)
    head = head_revision()
    if json_:
        print_json(
            {
                "database": database_label(settings),
                "current": current,
                "head": head,
                "at_head": current == head,
            }
        )
        return
    state = "[green]up to date[/]" if current == head else "[yellow]run 'supplyline db upgrade'[/]"
    console.print(f"Database: {database_label(settings)}", highlight=False)
    console.print(f"Revision: {current or 'none (empty database)'}  (head: {head}) {state}")


@app.command("revision")
def revision_cmd(
    message: Annotated[str, typer.Argument(help="What the migration does, e.g. 'lot recall state'.")],
    empty: Annotated[
        bool, typer.Option("--empty", help="Write an empty upgrade/downgrade to fill in.")
    ] = False,
) -> None:
    """For developers: write the next migration (number and parent chosen for you).

    Its body is what the tables in src/ declare beyond the migrations so far, compared on a
    scratch SQLite database at head; review it (and check PostgreSQL with the test suite)."""

    async def main() -> Path:
        with tempfile.TemporaryDirectory() as scratch:
            engine = create_engine(f"sqlite:///{Path(scratch) / 'head.db'}")
            try:
                await upgrade(engine)
                return await new_revision(engine, message, autogenerate=not empty)
            except ChainError as exc:
                raise CliError(f"the migrations are not one straight line: {exc}") from None
            finally:
                await engine.dispose()

    path = run(main)
    console.print(f"Wrote {path}", highlight=False, soft_wrap=True)
