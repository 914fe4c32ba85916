"""The demo tenant: a small pharma cold chain, seeded through the same use cases the API calls.

Everything is written in one unit of work, so the demo tenant is either fully seeded or
absent; a re-run finds it and reuses it instead of seeding twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from supplyline import access, planning
from supplyline.bootstrap import Services
from supplyline.demo.facts import ACTOR, TENANT_NAME, TENANT_SLUG
from supplyline.demo.history import demand_history
from supplyline.demo.records import Seeder, seed_records
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Conflict, NotFound
from supplyline.kernel.scope import Scope


@dataclass(frozen=True)
class DemoInfo:
    tenant_id: uuid.UUID
    slug: str
    name: str
    created: bool  # False when an existing demo tenant was reused
    counts: dict[str, int]  # live (not archived) records per resource
    first_key: str | None = None  # the tenant's first admin key, only on the run that created it


async def seed_demo(services: Services) -> DemoInfo:
    """Create the demo tenant with realistic data, or reuse it if it exists."""
    existing = await _find_tenant(services)
    if existing is not None:
        return DemoInfo(
            existing.id, existing.slug, existing.name, False, await _counts(services, existing.id)
        )
    try:
        async with services.uow() as uow:
            tenant, key = await access.create_tenant(uow, Scope.platform(ACTOR), TENANT_SLUG, TENANT_NAME)
            scope = Scope.system(tenant.id, ACTOR)
            await seed_records(Seeder(services.resources, uow, scope))
            rows = demand_history(utcnow().date())
            await planning.import_demand(
                uow, scope, rows, where=planning.json_where, filename="erp-sales-history.csv"
            )
            await uow.commit()
    except Conflict:
        # Another process seeded it between our look-up and our insert: reuse theirs.
        return await seed_demo(services)
    counts = await _counts(services, tenant.id)
    return DemoInfo(tenant.id, tenant.slug, tenant.name, True, counts, key.token)


async def _find_tenant(services: Services) -> access.TenantView | None:
    async with services.engine.connect() as conn:
        try:
            return await access.get_tenant_by_slug(conn, TENANT_SLUG)
        except NotFound:
            return None


async def _counts(services: Services, tenant_id: uuid.UUID) -> dict[str, int]:
    scope = Scope.system(tenant_id, ACTOR)
    out: dict[str, int] = {}
    async with services.engine.connect() as conn:
        for spec in services.catalog:
            total, cursor = 0, None
            while True:
                page = await services.resources.list_page(conn, scope, spec.name, cursor=cursor, limit=500)
                total += len(page.items)
                cursor = page.next_cursor
                if cursor is None:
                    break
            out[spec.name] = total
    return out
