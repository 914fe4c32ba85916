"""Which logistics rows a narrowed caller reaches (see ``supplyline.resources.scoping``).

A carrier reaches the shipments assigned to it; a customer its orders (sales orders name it)
and their shipments; a supplier its purchase orders and the lots it supplied. Lots follow the
shipments that carry them, products their lots. Trackers travelling with a reached shipment
are reached devices, and the shipment's sites are reached sites. Inventory positions (stock
levels) are the tenant's business: no partner reaches them. Staff granted sites reach what
starts, ends or lies there.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Table, select, true, union
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.scope import Reach, ReachKind
from supplyline.logistics import tables as t
from supplyline.resources import Visibility, VisibilityRules

Cond = ColumnElement[bool] | None


def _shipments(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    if reach.kind is ReachKind.SITES:
        return table.c.origin_site_id.in_(reach.site_ids) | table.c.destination_site_id.in_(reach.site_ids)
    if reach.organization_kind == "carrier":
        return table.c.carrier_organization_id == reach.organization_id
    if reach.organization_kind == "customer":
        return table.c.order_id.in_(rules.in_reach("orders", reach, tenant))
    return None


def _orders(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    if reach.kind is ReachKind.SITES:
        return table.c.from_site_id.in_(reach.site_ids) | table.c.to_site_id.in_(reach.site_ids)
    if reach.organization_kind in ("customer", "supplier"):
        return table.c.organization_id == reach.organization_id
    return None


def _lots(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    sl = t.logistics_shipment_lot
    carried = select(sl.c.lot_id).where(
        sl.c.tenant_id == tenant, sl.c.shipment_id.in_(rules.in_reach("shipments", reach, tenant))
    )
    if reach.kind is ReachKind.SITES:
        inv = t.logistics_inventory
        stocked = select(inv.c.lot_id).where(inv.c.tenant_id == tenant, inv.c.site_id.in_(reach.site_ids))
        return table.c.id.in_(union(carried, stocked))
    if reach.organization_kind == "supplier":
        return table.c.supplier_organization_id == reach.organization_id
    return table.c.id.in_(carried)


def _products(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    if reach.kind is ReachKind.SITES:
        return true()
    lot = t.logistics_lot
    return table.c.id.in_(select(lot.c.product_id).where(lot.c.id.in_(rules.in_reach("lots", reach, tenant))))


def _inventory(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    return table.c.site_id.in_(reach.site_ids) if reach.kind is ReachKind.SITES else None


def _holds(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    return table.c.lot_id.in_(rules.in_reach("lots", reach, tenant))


def _devices(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    """Trackers that travel (or travelled) with a reached shipment; when they may be read is
    decided by ``telemetry_windows``."""
    if reach.kind is ReachKind.SITES:
        return None
    sd = t.logistics_shipment_device
    return table.c.id.in_(
        select(sd.c.device_id).where(
            sd.c.tenant_id == tenant, sd.c.shipment_id.in_(rules.in_reach("shipments", reach, tenant))
        )
    )


def _sites(table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules) -> Cond:
    if reach.kind is ReachKind.SITES:
        return None
    s = t.logistics_shipment
    starts = rules.in_reach("shipments", reach, tenant).with_only_columns(s.c.origin_site_id)
    ends = rules.in_reach("shipments", reach, tenant).with_only_columns(s.c.destination_site_id)
    # Two lists rather than one UNION: SQLite sorts a UNION into a temporary b-tree before it
    # can look anything up in it (twice the time), and builds a second list only for a site
    # the first does not hold.
    return table.c.id.in_(starts) | table.c.id.in_(ends)


VISIBILITY = [
    Visibility("shipments", t.logistics_shipment, _shipments),
    Visibility("orders", t.logistics_order, _orders),
    Visibility("lots", t.logistics_lot, _lots),
    Visibility("products", t.logistics_product, _products),
    Visibility("inventory-positions", t.logistics_inventory, _inventory),
    Visibility("holds", t.logistics_hold, _holds),
    # Additions to the registry's own rules for these resources.
    Visibility("devices", None, _devices),
    Visibility("sites", None, _sites),
]


@dataclass(frozen=True)
class TripWindow:
    device_id: uuid.UUID
    start: datetime | None  # None: not picked up yet
    end: datetime | None  # None: not delivered yet


async def trip_windows(
    conn: AsyncConnection,
    tenant: uuid.UUID,
    reach: Reach,
    device_ids: Sequence[uuid.UUID],
    rules: VisibilityRules,
) -> list[TripWindow]:
    """When each of these trackers travelled with a reached shipment: from pickup (the later of
    departure and the tracker's assignment) to delivery (the earlier of arrival and its removal)."""
    s, sd = t.logistics_shipment, t.logistics_shipment_device
    stmt = (
        select(
            sd.c.device_id,
            sd.c.assigned_at,
            sd.c.unassigned_at,
            s.c.actual_departure_at,
            s.c.actual_arrival_at,
        )
        .join(s, s.c.id == sd.c.shipment_id)
        .where(
            sd.c.tenant_id == tenant,
            sd.c.device_id.in_(list(device_ids)),
            s.c.id.in_(rules.in_reach("shipments", reach, tenant)),
        )
    )
    out = []
    for r in await conn.execute(stmt):
        start = r.actual_departure_at
        if start is not None and r.assigned_at is not None:
            start = max(start, r.assigned_at)
        ends = [x for x in (r.actual_arrival_at, r.unassigned_at) if x is not None]
        out.append(TripWindow(r.device_id, start, min(ends) if ends else None))
    return out
