"""Read-side questions other capabilities ask of the registry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.scope import Scope
from supplyline.registry.tables import (
    registry_asset,
    registry_device,
    registry_device_profile,
    registry_organization,
    registry_region,
    registry_site,
    registry_zone,
)
from supplyline.resources import scoped


async def devices_of_assets(
    conn: AsyncConnection, scope: Scope, asset_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """Devices attached to these assets or to assets inside them (a pallet on a trailer)."""
    a, d = registry_asset, registry_device
    found, frontier = set(asset_ids), list(asset_ids)
    while frontier:
        rows = await conn.execute(scoped(select(a.c.id), a, scope).where(a.c.parent_id.in_(frontier)))
        frontier = [r.id for r in rows if r.id not in found]
        found.update(frontier)
    rows = await conn.execute(scoped(select(d.c.id), d, scope).where(d.c.asset_id.in_(list(found))))
    return [r.id for r in rows]


async def asset_sites(conn: AsyncConnection, scope: Scope) -> dict[uuid.UUID, uuid.UUID | None]:
    """Every asset in the register the caller reaches (not archived), with its site."""
    a = registry_asset
    rows = await conn.execute(scoped(select(a.c.id, a.c.site_id), a, scope).where(a.c.archived_at.is_(None)))
    return {r.id: r.site_id for r in rows}


async def assets_at_site(conn: AsyncConnection, scope: Scope, site_id: uuid.UUID) -> list[uuid.UUID]:
    a = registry_asset
    rows = await conn.execute(scoped(select(a.c.id), a, scope).where(a.c.site_id == site_id))
    return [r.id for r in rows]


async def device_ids(conn: AsyncConnection, scope: Scope, refs: Sequence[str]) -> dict[str, uuid.UUID]:
    """Devices named by id or by code, as a caller wrote them."""
    d = registry_device
    ids = []
    for ref in refs:
        try:
            ids.append(uuid.UUID(ref))
        except ValueError:
            continue
    rows = await conn.execute(
        scoped(select(d.c.id, d.c.code), d, scope).where(or_(d.c.code.in_(list(refs)), d.c.id.in_(ids)))
    )
    out: dict[str, uuid.UUID] = {}
    for r in rows:
        out[r.code] = r.id
        out[str(r.id)] = r.id
    return {ref: out[ref] for ref in refs if ref in out}


async def places_of_assets(
    conn: AsyncConnection, scope: Scope, asset_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID | None, uuid.UUID | None, uuid.UUID | None]]:
    """asset -> (its site, that site's region, its asset type): where rules look for scopes."""
    a, s = registry_asset, registry_site
    stmt = (
        scoped(select(a.c.id, a.c.site_id, a.c.asset_type_id, s.c.region_id), a, scope)
        .outerjoin(s, (s.c.id == a.c.site_id) & (s.c.tenant_id == a.c.tenant_id))
        .where(a.c.id.in_(list(asset_ids)))
    )
    return {r.id: (r.site_id, r.region_id, r.asset_type_id) for r in await conn.execute(stmt)}


async def live_site_ids(conn: AsyncConnection, scope: Scope, site_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Those of these sites that exist in the scope's tenant and are not archived."""
    s = registry_site
    stmt = scoped(select(s.c.id), s, scope).where(s.c.id.in_(list(site_ids)), s.c.archived_at.is_(None))
    return {r.id for r in await conn.execute(stmt)}


async def site_ids_by_code(conn: AsyncConnection, scope: Scope, codes: Sequence[str]) -> dict[str, uuid.UUID]:
    """Code -> id of the live sites the caller reaches among these codes (a site out of reach
    is absent, exactly like one that does not exist)."""
    s, out = registry_site, {}
    wanted = sorted({c for c in codes if 0 < len(c) <= 64})
    for i in range(0, len(wanted), 500):
        stmt = scoped(select(s.c.code, s.c.id), s, scope).where(
            s.c.code.in_(wanted[i : i + 500]), s.c.archived_at.is_(None)
        )
        out.update({r.code: r.id for r in await conn.execute(stmt)})
    return out


async def profile_metric_specs(conn: AsyncConnection, scope: Scope) -> list[list[dict[str, Any]]]:
    """The declared metrics of each device profile of the tenant (MetricSpec dicts)."""
    p = registry_device_profile
    return [list(r.metrics or ()) for r in await conn.execute(scoped(select(p.c.metrics), p, scope))]


@dataclass(frozen=True)
class DevicePlace:
    """Where a device is and who answers for it: what actions need to address an alarm."""

    device_id: uuid.UUID
    code: str
    asset_id: uuid.UUID | None
    site_id: uuid.UUID | None
    owner_organization_id: uuid.UUID | None
    maintainer_organization_id: uuid.UUID | None


async def device_place(conn: AsyncConnection, scope: Scope, device_id: uuid.UUID) -> DevicePlace | None:
    d, a = registry_device, registry_asset
    stmt = scoped(
        select(
            d.c.id,
            d.c.code,
            d.c.asset_id,
            a.c.site_id,
            a.c.owner_organization_id,
            a.c.maintainer_organization_id,
        ).outerjoin(a, a.c.id == d.c.asset_id),
        d,
        scope,
    ).where(d.c.id == device_id)
    r = (await conn.execute(stmt)).first()
    if r is None:
        return None
    return DevicePlace(
        r.id, r.code, r.asset_id, r.site_id, r.owner_organization_id, r.maintainer_organization_id
    )


DEFAULT_SITE_RADIUS_M = 500.0


async def site_circles(
    conn: AsyncConnection, scope: Scope, site_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[float, float, float]]:
    """Each located site as a circle (lat, lon, radius in metres) for geofences: the radius is
    the site's ``geofence_radius_m`` attribute, else 500 m (a yard with its gates)."""
    s = registry_site
    stmt = scoped(select(s.c.id, s.c.latitude, s.c.longitude, s.c.attributes), s, scope).where(
        s.c.id.in_(list(site_ids))
    )
    out = {}
    for r in await conn.execute(stmt):
        if r.latitude is None or r.longitude is None:
            continue
        radius = (r.attributes or {}).get("geofence_radius_m", DEFAULT_SITE_RADIUS_M)
        out[r.id] = (float(r.latitude), float(r.longitude), float(radius))
    return out


async def device_assets(
    conn: AsyncConnection, scope: Scope, limit: int = 10_000
) -> list[tuple[uuid.UUID, str, uuid.UUID | None]]:
    """(device, code, asset) of the tenant's active devices, for questions asked of all of them."""
    d = registry_device
    stmt = scoped(select(d.c.id, d.c.code, d.c.asset_id), d, scope).where(d.c.archived_at.is_(None))
    return [(r.id, r.code, r.asset_id) for r in await conn.execute(stmt.order_by(d.c.code).limit(limit))]


async def organization_kinds(
    conn: AsyncConnection, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The kind (carrier, customer, oem...) of each of these live organisations of the tenant:
    what decides which relationships a partner's grant follows."""
    o = registry_organization
    if not ids:
        return {}
    stmt = select(o.c.id, o.c.kind).where(
        o.c.tenant_id == tenant_id, o.c.id.in_(list(ids)), o.c.archived_at.is_(None)
    )
    return {r.id: r.kind for r in await conn.execute(stmt)}


def organization_kind_of(
    tenant_id: ColumnElement[uuid.UUID], organization_id: ColumnElement[uuid.UUID | None]
) -> ScalarSelect[str]:
    """What ``organization_kinds`` answers for one organisation (NULL once it is archived or
    gone), as SQL: authentication reads it in the statement that finds the credential, which
    saves every partner request a query."""
    o = registry_organization
    return (
        select(o.c.kind)
        .where(o.c.tenant_id == tenant_id, o.c.id == organization_id, o.c.archived_at.is_(None))
        .scalar_subquery()
    )


async def region_site_ids(
    conn: AsyncConnection, tenant_id: uuid.UUID, region_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The sites of each region (a region grant reaches the sites it has now, not when granted)."""
    s = registry_site
    out: dict[uuid.UUID, set[uuid.UUID]] = {r: set() for r in region_ids}
    if region_ids:
        stmt = select(s.c.id, s.c.region_id).where(
            s.c.tenant_id == tenant_id, s.c.region_id.in_(list(region_ids))
        )
        for row in await conn.execute(stmt):
            out[row.region_id].add(row.id)
    return out


async def existing(
    conn: AsyncConnection, tenant_id: uuid.UUID, kind: str, ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of these ids that name a live region, site or organisation of the tenant."""
    table = {"regions": registry_region, "sites": registry_site, "organizations": registry_organization}[kind]
    stmt = select(table.c.id).where(
        table.c.tenant_id == tenant_id, table.c.id.in_(list(ids)), table.c.archived_at.is_(None)
    )
    return {r.id for r in await conn.execute(stmt)}


@dataclass(frozen=True)
class SiteIdentity:
    """How a site is named outside the platform: its GS1 GLN when one is recorded (the
    site's ``attributes.gln``, 13 digits), and the time zone its local times are in."""

    site_id: uuid.UUID
    gln: str | None
    timezone: str


async def site_identities(
    conn: AsyncConnection, tenant_id: uuid.UUID, site_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, SiteIdentity]:
    s = registry_site
    wanted = list(dict.fromkeys(site_ids))
    if not wanted:
        return {}
    stmt = select(s.c.id, s.c.timezone, s.c.attributes).where(s.c.tenant_id == tenant_id, s.c.id.in_(wanted))
    out = {}
    for r in await conn.execute(stmt):
        gln = (r.attributes or {}).get("gln") if isinstance(r.attributes, dict) else None
        out[r.id] = SiteIdentity(r.id, gln if isinstance(gln, str) and _gln_ok(gln) else None, r.timezone)
    return out


def _gln_ok(value: str) -> bool:
    """Thirteen digits whose last is the GS1 mod-10 check digit of the others."""
    if len(value) != 13 or not value.isdigit():
        return False
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(value[:12]))
    return (10 - total % 10) % 10 == int(value[12])


@dataclass(frozen=True)
class SitePlace:
    """A site as a place other records name: its region, its attributes (where a GS1 GLN may
    be kept) and the zones inside it."""

    id: uuid.UUID
    region_id: uuid.UUID | None
    attributes: dict[str, Any]
    zone_ids: tuple[uuid.UUID, ...]


async def site_places(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[SitePlace]:
    """Every site of the tenant with its zones: the place hierarchy (region > site > zone) that
    a "within this location" question walks. Archived places still name past events."""
    s, z = registry_site, registry_zone
    zones: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in await conn.execute(select(z.c.id, z.c.site_id).where(z.c.tenant_id == tenant_id)):
        zones.setdefault(row.site_id, []).append(row.id)
    rows = await conn.execute(select(s.c.id, s.c.region_id, s.c.attributes).where(s.c.tenant_id == tenant_id))
    return [SitePlace(r.id, r.region_id, dict(r.attributes or {}), tuple(zones.get(r.id, ()))) for r in rows]


@dataclass(frozen=True)
class SiteLabel:
    """How a site reads in a regulator's spreadsheet: its name and postal address."""

    code: str
    name: str
    address: str


def _address_text(address: Any) -> str:
    if not isinstance(address, dict):
        return ""
    parts = ("line1", "line2", "city", "state", "postal_code", "country")
    return ", ".join(str(address[p]) for p in parts if address.get(p))


async def sites_by_gln(conn: AsyncConnection, scope: Scope, glns: Sequence[str]) -> dict[str, SiteLabel]:
    """The live sites known by these GLNs (the site's code, or its ``gln`` attribute), by GLN."""
    wanted = set(glns)
    if not wanted:
        return {}
    s = registry_site
    stmt = scoped(select(s.c.code, s.c.name, s.c.address, s.c.attributes), s, scope).where(
        s.c.archived_at.is_(None)
    )
    found: dict[str, SiteLabel] = {}
    for row in await conn.execute(stmt):
        attributes = row.attributes if isinstance(row.attributes, dict) else {}
        for key in (str(attributes.get("gln", "")), row.code):
            if key in wanted:
                found.setdefault(key, SiteLabel(row.code, row.name, _address_text(row.address)))
    return found
