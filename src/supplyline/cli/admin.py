"""``supplyline admin``: the first keys into an installation and into each new tenant, and the
way back into a tenant whose admin keys were all lost or revoked.

The commands act as the operator of the installation: they run where the database is reachable,
so the person running them is trusted, and they need no key. Each secret is printed exactly
once (only its hash is stored). What they change is on the tenant's audit trail, with the
operator (``operator:<user>@<host>``) as the actor.
"""

from __future__ import annotations

import getpass
import re
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from supplyline import access, audit
from supplyline.access import ApiKeyView, CreatedKey, TenantView
from supplyline.cli.common import (
    CliError,
    base_url,
    check_schema,
    console,
    find_tenant,
    load_settings,
    open_services,
    print_json,
    run,
)
from supplyline.kernel.scope import Scope

app = typer.Typer(help="Operator administration: platform and tenant keys, tenants.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
ONCE = "This key is shown once and cannot be recovered; store it now (e.g. in a secret manager)."


def _key_json(created: CreatedKey) -> dict[str, Any]:
    return {
        "id": str(created.key.id),
        "name": created.key.name,
        "prefix": created.key.prefix,
        "role": created.key.role,
        "token": created.token,
    }


def _view_json(key: ApiKeyView, now: datetime) -> dict[str, Any]:
    return {
        "id": str(key.id),
        "name": key.name,
        "prefix": key.prefix,
        "role": key.role,
        "organization_id": str(key.organization_id) if key.organization_id else None,
        "created_at": key.created_at.isoformat(),
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "status": _status(key, now),
    }


def _status(key: ApiKeyView, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def operator_scope(tenant_id: uuid.UUID) -> Scope:
    """The person at this terminal, acting inside one tenant with every grant: they could
    edit the database by hand anyway, and this way what they do is on the trail under their name."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (some containers)
        user = "unknown"
    return Scope.system(tenant_id, f"operator:{user}@{socket.gethostname()}")


_DURATION = re.compile(r"^(\d{1,6})([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_expiry(given: str, now: datetime) -> datetime:
    """``--expires``: a duration from now (``90d``, ``12h``, ``30m``) or an ISO 8601 instant
    with its offset (``2027-01-31T00:00:00Z``)."""
    duration = _DURATION.match(given.strip())
    if duration:
        return now + timedelta(**{_UNITS[duration[2]]: int(duration[1])})
    try:
        at = datetime.fromisoformat(given.strip())
    except ValueError:
        raise CliError(
            f"--expires: '{given}' is neither a duration (90d, 12h, 30m) nor an ISO 8601 instant"
        ) from None
    if at.tzinfo is None:
        raise CliError("--expires: give the instant's offset (e.g. 2027-01-31T00:00:00Z)")
    if at <= now:
        raise CliError(f"--expires: {at.isoformat()} is not in the future")
    return at.astimezone(UTC)


@app.command("bootstrap")
def bootstrap(
    name: Annotated[str, typer.Option(help="A label for the key, shown in key lists.")] = "platform admin",
    json_: JsonFlag = False,
) -> None:
    """Create a platform-admin API key, which may create tenants."""
    settings = load_settings()

    async def main() -> CreatedKey:
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            async with services.uow() as uow:
                created = await access.create_platform_key(uow, name)
                await uow.commit()
            return created

    created = run(main)
    if json_:
        print_json({"api_key": _key_json(created), "note": ONCE})
        return
    console.print(
        Panel.fit(
            f"[bold]{created.token}[/]",
            title="Platform-admin API key",
            subtitle=f"prefix {created.key.prefix}",
        ),
        soft_wrap=True,
    )
    console.print(f"[yellow]{ONCE}[/]")
    console.print(
        "Create a tenant with it: curl -X POST -H 'Authorization: Bearer <key>' "
        '-H \'Content-Type: application/json\' -d \'{"slug": "acme", "name": "Acme"}\' '
        f"{base_url(settings)}/v1/tenants",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )


@app.command("create-tenant")
def create_tenant(
    slug: Annotated[str, typer.Argument(help="URL-safe id: lower-case letters, digits and '-'.")],
    name: Annotated[str, typer.Option(help="The tenant's display name.")],
    json_: JsonFlag = False,
) -> None:
    """Create a tenant and its first admin API key."""
    settings = load_settings()

    async def main() -> tuple[TenantView, CreatedKey]:
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            async with services.uow() as uow:
                tenant, created = await access.create_tenant(uow, Scope.platform("cli"), slug, name)
                await uow.commit()
            return tenant, created

    tenant, created = run(main)
    if json_:
        print_json(
            {
                "tenant": {
                    "id": str(tenant.id),
                    "slug": tenant.slug,
                    "name": tenant.name,
                    "created_at": tenant.created_at.isoformat(),
                },
                "api_key": _key_json(created),
                "note": ONCE,
            }
        )
        return
    table = Table.grid(padding=(0, 2))
    table.add_row("Tenant", escape(f"{tenant.name} ({tenant.slug})"))
    table.add_row("Tenant id", str(tenant.id))
    table.add_row("Admin API key", f"[bold]{created.token}[/]")
    console.print(Panel.fit(table, title="Tenant created"), soft_wrap=True)
    console.print(f"[yellow]{ONCE}[/]")


@app.command("create-key")
def create_key(
    tenant: Annotated[str, typer.Argument(help="The tenant's slug or id.")],
    role: Annotated[str, typer.Option(help="A role of the tenant, e.g. tenant_admin.")],
    name: Annotated[str, typer.Option(help="A label for the key, shown in key lists.")] = "operator key",
    expires: Annotated[
        str | None, typer.Option(help="When it stops working: 90d, 12h, 30m or an ISO 8601 instant.")
    ] = None,
    json_: JsonFlag = False,
) -> None:
    """Issue an API key in a tenant, no key needed: the way back in when its admin keys are lost."""
    # Recorded on the tenant's audit trail as done by the operator, in the key's own transaction.
    settings = load_settings()

    async def main() -> CreatedKey:
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            async with services.uow() as uow:
                tenant_id = await find_tenant(uow.conn, tenant)
                scope = operator_scope(tenant_id)
                expires_at = parse_expiry(expires, datetime.now(UTC)) if expires else None
                created = await access.create_api_key(uow, scope, name, role, expires_at)
                audit.record(
                    uow,
                    scope,
                    "api_keys.create",
                    f"api-keys/{created.key.id}",
                    after={k: v for k, v in _key_json(created).items() if k != "token"},
                    reason="issued by the operator with 'supplyline admin create-key'",
                )
                await uow.commit()
            return created

    created = run(main)
    if json_:
        print_json({"api_key": _key_json(created), "note": ONCE})
        return
    table = Table.grid(padding=(0, 2))
    table.add_row("Tenant", escape(tenant))
    table.add_row("Role", escape(created.key.role))
    table.add_row("Expires", created.key.expires_at.isoformat() if created.key.expires_at else "never")
    table.add_row("API key", f"[bold]{created.token}[/]")
    console.print(Panel.fit(table, title="API key created"), soft_wrap=True)
    console.print(f"[yellow]{ONCE}[/]")


@app.command("list-keys")
def list_keys(
    tenant: Annotated[str, typer.Argument(help="The tenant's slug or id.")],
    json_: JsonFlag = False,
) -> None:
    """List a tenant's API keys and their status (active, expired, revoked), never their secrets."""
    # The listing itself is recorded on the tenant's audit trail, as an export is.
    settings = load_settings()

    async def main() -> list[ApiKeyView]:
        async with open_services(settings) as services:
            await check_schema(services, auto_upgrade=False)
            async with services.uow() as uow:
                tenant_id = await find_tenant(uow.conn, tenant)
                scope = operator_scope(tenant_id)
                keys = await access.list_api_keys(uow.conn, scope)
                audit.record(
                    uow,
                    scope,
                    "api_keys.list",
                    f"tenants/{tenant_id}/api-keys",
                    reason="listed by the operator with 'supplyline admin list-keys'",
                )
                await uow.commit()
            return keys

    keys, now = run(main), datetime.now(UTC)
    if json_:
        print_json({"items": [_view_json(k, now) for k in keys]})
        return
    table = Table("id", "prefix", "name", "role", "status", "expires")
    for key in keys:
        expiry = key.expires_at.isoformat(timespec="seconds") if key.expires_at else "never"
        table.add_row(str(key.id), key.prefix, escape(key.name), key.role, _status(key, now), expiry)
    console.print(table)
