"""Which registry rows a narrowed caller reaches (see ``supplyline.resources.scoping``).

An OEM reaches the assets it made, a service provider those it maintains, any organisation
those it owns; devices follow their assets. Reference data (organisations, asset types, device
profiles) is reached through what is reached, so a partner sees its own organisation and the
types of its equipment, not the tenant's whole list. Staff granted sites see those sites'
places and equipment, and the tenant's reference data.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Table, false, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.scope import Reach, ReachKind
from supplyline.registry import tables as t
from supplyline.resources import Visibility, VisibilityRules

Cond = ColumnElement[bool] | None


def _org(reach: Reach) -> uuid.UUID | None:
    return reach.organization_id if reach.kind is ReachKind.ORGANIZATION else None


def _organizations(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    org = _org(reach)
    return table.c.id == org if org is not None else true()


def _regions(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    if reach.kind is ReachKind.SITES:
        s = t.registry_site
        return table.c.id.in_(
            select(s.c.region_id).where(s.c.tenant_id == tenant, s.c.id.in_(reach.site_ids))
        )
    return None


def _sites(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    if reach.kind is ReachKind.SITES:
        return table.c.id.in_(reach.site_ids)
    a = t.registry_asset
    return table.c.id.in_(select(a.c.site_id).where(a.c.id.in_(rules.in_reach("assets", reach, tenant))))


def _zones(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    return table.c.site_id.in_(reach.site_ids) if reach.kind is ReachKind.SITES else None


def _asset_types(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    if reach.kind is ReachKind.SITES:
        return true()
    a = t.registry_asset
    return table.c.id.in_(
        select(a.c.asset_type_id).where(a.c.id.in_(rules.in_reach("assets", reach, tenant)))
    )


def _assets(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    if reach.kind is ReachKind.SITES:
        return table.c.site_id.in_(reach.site_ids)
    org = _org(reach)
    owned = table.c.owner_organization_id == org
    if reach.organization_kind == "oem":
        return owned | (table.c.manufacturer_organization_id == org)
    if reach.organization_kind == "service_provider":
        return owned | (table.c.maintainer_organization_id == org)
    return owned


def _device_profiles(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    if reach.kind is ReachKind.SITES:
        return true()
    d = t.registry_device
    return table.c.id.in_(
        select(d.c.device_profile_id).where(d.c.id.in_(rules.in_reach("devices", reach, tenant)))
    )


def _devices(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    return table.c.asset_id.in_(rules.in_reach("assets", reach, tenant))


VISIBILITY = [
    Visibility("organizations", t.registry_organization, _organizations),
    Visibility("regions", t.registry_region, _regions),
    Visibility("sites", t.registry_site, _sites),
    Visibility("zones", t.registry_zone, _zones),
    Visibility("asset-types", t.registry_asset_type, _asset_types),
    Visibility("assets", t.registry_asset, _assets),
    Visibility("device-profiles", t.registry_device_profile, _device_profiles),
    Visibility("devices", t.registry_device, _devices),
]


async def device_ids_reached(
    conn: AsyncConnection,
    tenant: uuid.UUID,
    reach: Reach,
    device_ids: Sequence[uuid.UUID],
    rules: VisibilityRules,
) -> set[uuid.UUID]:
    """Those of these devices reached through their equipment (readable at any time), as
    opposed to trackers reached through a trip (readable only during it)."""
    d = t.registry_device
    reached = _devices(d, reach, tenant, rules)
    stmt = select(d.c.id).where(
        d.c.tenant_id == tenant, d.c.id.in_(list(device_ids)), reached if reached is not None else false()
    )
    return {r.id for r in await conn.execute(stmt)}
