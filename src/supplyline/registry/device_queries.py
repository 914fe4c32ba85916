"""What telemetry asks the registry about devices and their profiles.

Telemetry authenticates devices, keeps a directory of them per tenant and joins its own device
state to the devices (silence, retention). It asks here rather than reading the registry's
tables: the columns it gets, and what "live" means (not archived), are the registry's to say.
Device authentication runs before any tenant is known, so the lookups by id are not scoped;
``get_device`` is, for use cases acting for a caller.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, RowMapping, Select, Subquery, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.db.keyset import by_id, page
from supplyline.kernel.pagination import Page
from supplyline.kernel.scope import Scope
from supplyline.registry.tables import registry_asset, registry_device, registry_device_profile
from supplyline.resources import scoped

_D, _P, _A = registry_device, registry_device_profile, registry_asset
# What the telemetry directory keeps of each device and profile.
_DIRECTORY_DEVICE = (
    _D.c.id,
    _D.c.code,
    _D.c.kind,
    _D.c.gateway_id,
    _D.c.device_profile_id,
    _D.c.asset_id,
    _D.c.status,
    _D.c.archived_at,
)
_DIRECTORY_PROFILE = (_P.c.id, _P.c.code, _P.c.metrics, _P.c.payload_mapping, _P.c.payload_mapping_version)


async def get_device(conn: AsyncConnection, scope: Scope, device_id: uuid.UUID) -> RowMapping | None:
    """The device as the caller may see it, or None."""
    stmt = scoped(select(_D), _D, scope).where(_D.c.id == device_id)
    return (await conn.execute(stmt)).mappings().first()


async def device_rows(conn: AsyncConnection, device_ids: Sequence[uuid.UUID]) -> list[RowMapping]:
    """These devices, whatever their tenant (device authentication; chunk large lists)."""
    return list((await conn.execute(select(_D).where(_D.c.id.in_(list(device_ids))))).mappings().all())


async def device_by_code(conn: AsyncConnection, tenant_id: uuid.UUID, code: str) -> RowMapping | None:
    stmt = select(_D).where(_D.c.tenant_id == tenant_id, _D.c.code == code)
    return (await conn.execute(stmt)).mappings().first()


async def devices_changed_since(
    conn: AsyncConnection, since: datetime, among: Sequence[uuid.UUID] | None = None
) -> set[uuid.UUID]:
    """Devices added or changed after ``since`` (of ``among`` only, when given)."""
    stmt = select(_D.c.id).where(_D.c.updated_at > since)
    if among is not None:
        stmt = stmt.where(_D.c.id.in_(list(among)))
    return set((await conn.execute(stmt)).scalars())


async def tenant_devices(
    conn: AsyncConnection, tenant_id: uuid.UUID
) -> Sequence[Row[Any, Any, Any, Any, Any, Any, Any, Any]]:
    """Every device of the tenant with what a device directory needs."""
    return (await conn.execute(select(*_DIRECTORY_DEVICE).where(_D.c.tenant_id == tenant_id))).all()


async def tenant_profiles(
    conn: AsyncConnection, tenant_id: uuid.UUID
) -> Sequence[Row[Any, Any, Any, Any, Any]]:
    """Every device profile of the tenant: its metrics and payload mapping."""
    return (await conn.execute(select(*_DIRECTORY_PROFILE).where(_P.c.tenant_id == tenant_id))).all()


async def devices_version(conn: AsyncConnection, tenant_id: uuid.UUID) -> tuple[Any, ...]:
    """A value that changes whenever a device or profile of the tenant is added, changed or
    archived: two aggregate queries, so a cache can ask often whether it is stale."""
    out: tuple[Any, ...] = ()
    for t in (_D, _P):
        stmt = select(func.count(), func.max(t.c.updated_at)).where(t.c.tenant_id == tenant_id)
        out += tuple((await conn.execute(stmt)).one())
    return out


def device_view(*, live: bool = False) -> Subquery:
    """Devices as a subquery to join to (``id``, ``tenant_id``, ``code``, ``device_profile_id``);
    ``live``: only those not archived."""
    stmt = select(_D.c.id, _D.c.tenant_id, _D.c.code, _D.c.device_profile_id)
    if live:
        stmt = stmt.where(_D.c.archived_at.is_(None))
    return stmt.subquery("registry_devices")


async def device_page(
    conn: AsyncConnection,
    scope: Scope,
    *,
    site_id: uuid.UUID | None = None,
    kind: str | None = None,
    among: Select[Any] | None = None,
    excluding: Select[Any] | None = None,
    cursor: str | None = None,
    limit: int = 50,
    list_name: str = "devices",
) -> Page[dict[str, Any]]:
    """A page of the live devices the caller reaches, in id order, each with its asset and site:
    ``site_id`` keeps those on assets at the site (or on assets inside those); ``among`` and
    ``excluding`` are selects of device ids (another capability's own, e.g. silent devices)."""
    stmt = scoped(
        select(_D.c.id, _D.c.code, _D.c.name, _D.c.kind, _D.c.status, _D.c.asset_id), _D, scope
    ).where(_D.c.archived_at.is_(None))
    if site_id is not None:
        # Written into the statement, not bound: a large site's assets would pass the drivers'
        # limit on bound values (32,767 on PostgreSQL), and a plain list plans well without
        # statistics, where a recursive select has the planner guess.
        at_site = await _assets_at(conn, scope, site_id)
        stmt = stmt.where(
            _D.c.asset_id.in_(bindparam("site_assets", at_site, expanding=True, literal_execute=True))
        )
    if kind is not None:
        stmt = stmt.where(_D.c.kind == kind)
    if among is not None:
        stmt = stmt.where(_D.c.id.in_(among))
    if excluding is not None:
        stmt = stmt.where(_D.c.id.not_in(excluding))
    found = await page(conn, stmt, by_id(_D, list_name), cursor, limit)
    # The asset (its code, its site) only where the caller reaches it too: a carrier reaches a
    # tracker through its shipment, not the trailer it is fixed to. Read for the page's devices
    # only, after the page: a join would have the database sort every device to find the page.
    wanted = list({d["asset_id"] for d in found.items if d["asset_id"] is not None})
    assets: dict[uuid.UUID, Any] = {}
    if wanted:
        rows = await conn.execute(
            scoped(select(_A.c.id, _A.c.code, _A.c.site_id), _A, scope).where(_A.c.id.in_(wanted))
        )
        assets = {r.id: r for r in rows}
    for d in found.items:
        asset = assets.get(d["asset_id"])
        d["asset_id"] = asset.id if asset else None
        d["asset_code"] = asset.code if asset else None
        d["site_id"] = asset.site_id if asset else None
    return found


async def _assets_at(conn: AsyncConnection, scope: Scope, site_id: uuid.UUID) -> list[uuid.UUID]:
    """Assets at a site and the assets inside them (a pallet on a trailer parked there)."""
    rows = await conn.execute(scoped(select(_A.c.id), _A, scope).where(_A.c.site_id == site_id))
    found = {r.id for r in rows}
    frontier = list(found)
    while frontier:
        inside: list[uuid.UUID] = []
        for start in range(0, len(frontier), 1000):
            chunk = frontier[start : start + 1000]
            stmt = scoped(select(_A.c.id), _A, scope).where(_A.c.parent_id.in_(chunk))
            inside += [r.id for r in await conn.execute(stmt) if r.id not in found]
        found.update(inside)
        frontier = inside
    return list(found)
