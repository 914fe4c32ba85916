"""``supplyline admin``: the first keys into an installation and into each new tenant.

Both commands act as the platform itself (they run where the database is reachable, so the
operator is trusted) and print each secret exactly once: only its hash is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from supplyline import access
from supplyline.access import CreatedKey, TenantView
from supplyline.cli.common import (
    base_url,
    check_schema,
    console,
    load_settings,
    open_services,
    print_json,
    run,
)
from supplyline.kernel.scope import Scope

app = typer.Typer(help="Platform administration: admin keys and tenants.", no_args_is_help=True)

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
