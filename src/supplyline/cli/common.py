"""What every command shares: consoles, settings, services, the schema check and error handling.

Commands are sync (typer) and run their async body with ``run``; that is the one place
where domain errors, database failures and Ctrl-C turn into a sentence and an exit code,
so no command ever shows a user a traceback for a mistake they can fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, NoReturn, TypeVar

import orjson
import typer
from alembic.util.exc import CommandError
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import access
from supplyline.bootstrap import Services, build_services
from supplyline.db.migrate import current_revision, head_revision, upgrade
from supplyline.kernel.errors import DomainError
from supplyline.settings import Settings

T = TypeVar("T")

# Rich picks sys.stdout / sys.stderr at print time, so test runners that swap them still see output.
console = Console()
err_console = Console(stderr=True)


class CliError(Exception):
    """A failure the user can act on; ``run`` prints the message and exits with code 1."""


def fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def print_json(obj: Any) -> None:
    """One JSON document on one line of stdout: what scripts and ``jq`` expect."""
    typer.echo(orjson.dumps(obj, default=str).decode())


async def find_tenant(conn: AsyncConnection, given: str) -> uuid.UUID:
    """The id of the tenant named by its slug or its id (NotFound otherwise)."""
    try:
        tenant_id = uuid.UUID(given)
    except ValueError:
        return (await access.get_tenant_by_slug(conn, given)).id
    return (await access.get_tenant(conn, tenant_id)).id


def load_settings() -> Settings:
    """Settings from SUPPLYLINE_* variables; a bad value is reported by its variable name."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"SUPPLYLINE_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        fail(f"invalid configuration: {problems}")


def embedded(settings: Settings) -> bool:
    """True for the default SQLite file in the data dir, which the CLI may migrate on its own."""
    return not settings.database_url


def base_url(settings: Settings) -> str:
    """Where a browser or curl on this machine reaches the server (not the wildcard it binds)."""
    host = settings.host
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def database_label(settings: Settings) -> str:
    """The database URL with any password masked, fit to show in messages."""
    try:
        return make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable SUPPLYLINE_DATABASE_URL>"


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Services for one command; the engines are always disposed, whatever happens inside."""
    try:
        services = build_services(settings)
    except ValueError as exc:
        raise CliError(f"SUPPLYLINE_DATABASE_URL: {exc}") from None
    try:
        yield services
    finally:
        await services.close()


async def schema_revision(services: Services) -> str | None:
    """The schema revision of the database, with an unreachable database told as a sentence."""
    try:
        return await current_revision(services.engine)
    except (OSError, SQLAlchemyError) as exc:
        label = database_label(services.settings)
        raise CliError(f"cannot reach the database at {label}: {_reason(exc)}") from None


async def check_schema(services: Services, *, auto_upgrade: bool) -> str | None:
    """Make sure the schema is at head; upgrade it when allowed, else refuse with the fix.

    Returns a line describing an upgrade that happened, or None when nothing was needed.
    """
    label = database_label(services.settings)
    current, head = await schema_revision(services), head_revision()
    if current == head:
        return None
    if not auto_upgrade:
        at = f"at revision {current}" if current else "empty (no schema)"
        raise CliError(
            f"the database at {label} is {at}, but this version of supplyline needs revision {head}. "
            "Run 'supplyline db upgrade' first."
        )
    try:
        await upgrade(services.engine, "head")
    except CommandError as exc:
        raise CliError(f"cannot upgrade the database at {label}: {exc}") from None
    return f"Upgraded the database at {label} from {current or 'empty'} to revision {head}."


def _reason(exc: BaseException) -> str:
    """The driver's own first line (SQLAlchemy wraps it in SQL text and a docs link)."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, BaseException):
        exc = orig
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def describe(exc: DomainError) -> str:
    """A domain error as one sentence, naming each refused field."""
    if len(exc.errors) > 1:
        return "; ".join(f"{e.field}: {e.reason}" for e in exc.errors)
    return exc.detail


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM: long-running commands finish their work and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def configure_logging(settings: Settings) -> None:
    """Our warnings and errors (a failing consumer, a compaction that retries) to stderr."""
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (it comes with uvicorn[standard]), as uvicorn itself uses."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a command's async body, turning expected failures into a message and exit code 1."""
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(main())
    except CliError as exc:
        fail(str(exc))
    except DomainError as exc:
        fail(describe(exc))
    except SQLAlchemyError as exc:
        fail(f"the database refused the operation: {_reason(exc)}")
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
