"""What planning reads of a product at a site: its stock positions, its outbound demand, its
open purchase orders and the lead times purchase orders took.

Scoped reads (the caller's reach), so a recommendation sees only what its caller may see.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.scope import Scope
from supplyline.logistics.tables import (
    logistics_inventory,
    logistics_lot,
    logistics_order,
    logistics_order_line,
    logistics_product,
    logistics_shipment,
    logistics_shipment_lot,
)
from supplyline.resources import scoped

SHIPPED_SHIPMENTS = ("in_transit", "delivered")
SHIPPED_ORDERS = ("shipped", "delivered", "closed")
OPEN_ORDERS = ("open", "allocated", "shipped")
_BATCH = 500  # values per IN list, under SQLite's and asyncpg's parameter limits


@dataclass(frozen=True)
class StockPosition:
    """One inventory position (a lot, or none) of the product at the site."""

    lot_id: uuid.UUID | None
    lot_code: str | None
    on_hand: float
    allocated: float
    held: float
    unit: str


@dataclass(frozen=True)
class OpenSupply:
    order_number: str
    quantity: float
    requested_at: datetime | None


async def product_unit(conn: AsyncConnection, scope: Scope, product_id: uuid.UUID) -> str | None:
    """The product's unit, None when the caller sees no such product."""
    p = logistics_product
    stmt = scoped(select(p.c.unit), p, scope).where(p.c.id == product_id, p.c.archived_at.is_(None))
    return (await conn.execute(stmt)).scalar_one_or_none()


async def product_ids_by_sku(
    conn: AsyncConnection, scope: Scope, skus: Sequence[str]
) -> dict[str, uuid.UUID]:
    """SKU -> id of the live products the caller sees among these SKUs (others are absent, so
    a narrowed caller cannot tell a product it does not reach from one that does not exist)."""
    p, out = logistics_product, {}
    wanted = sorted({s for s in skus if 0 < len(s) <= 64})
    for i in range(0, len(wanted), _BATCH):
        stmt = scoped(select(p.c.sku, p.c.id), p, scope).where(
            p.c.sku.in_(wanted[i : i + _BATCH]), p.c.archived_at.is_(None)
        )
        out.update({r.sku: r.id for r in await conn.execute(stmt)})
    return out


async def product_ids_in_category(conn: AsyncConnection, scope: Scope, category: str) -> list[uuid.UUID]:
    """The live products the caller sees whose ``attributes.category`` is ``category`` (compared
    in Python: JSON paths differ between SQLite and PostgreSQL, and a tenant's item master is small)."""
    p = logistics_product
    stmt = scoped(select(p.c.id, p.c.attributes), p, scope).where(p.c.archived_at.is_(None))
    return [
        r.id
        for r in await conn.execute(stmt)
        if isinstance(r.attributes, dict) and r.attributes.get("category") == category
    ]


async def stock_positions(
    conn: AsyncConnection, scope: Scope, product_id: uuid.UUID, site_id: uuid.UUID
) -> list[StockPosition]:
    """The product's positions at the site with their lot codes (held = on hand for a lot on hold)."""
    inv, lot = logistics_inventory, logistics_lot
    stmt = (
        scoped(select(inv, lot.c.lot_code), inv, scope)
        .outerjoin(lot, lot.c.id == inv.c.lot_id)
        .where(inv.c.product_id == product_id, inv.c.site_id == site_id, inv.c.archived_at.is_(None))
        .order_by(lot.c.lot_code)
    )
    return [
        StockPosition(r.lot_id, r.lot_code, r.on_hand, r.allocated, r.held, r.unit)
        for r in await conn.execute(stmt)
    ]


async def daily_outbound(
    conn: AsyncConnection, scope: Scope, product_id: uuid.UUID, site_id: uuid.UUID, since: date
) -> dict[date, float]:
    """Units of the product that left the site per day since ``since`` (see ``outbound_movements``)."""
    moves = await outbound_movements(conn, scope, since, product_id=product_id, site_id=site_id)
    return {day: q for (_, _, day), q in moves.items()}


async def outbound_movements(
    conn: AsyncConnection,
    scope: Scope,
    since: date,
    until: date | None = None,
    *,
    product_id: uuid.UUID | None = None,
    site_id: uuid.UUID | None = None,
) -> dict[tuple[uuid.UUID, uuid.UUID, date], float]:
    """Units that left each site per (product, site, day) from ``since`` to ``until`` (inclusive):
    shipped lots on shipments from the site, plus shipped sales order lines from the site that
    no shipment carries (so a shipped order is not counted twice)."""
    out: dict[tuple[uuid.UUID, uuid.UUID, date], float] = defaultdict(float)
    s, sl, lot = logistics_shipment, logistics_shipment_lot, logistics_lot
    when = func.coalesce(s.c.actual_departure_at, s.c.planned_departure_at)
    stmt = (
        scoped(select(when.label("at"), s.c.origin_site_id, lot.c.product_id, sl.c.quantity), s, scope)
        .join(sl, sl.c.shipment_id == s.c.id)
        .join(lot, lot.c.id == sl.c.lot_id)
        .where(s.c.status.in_(SHIPPED_SHIPMENTS), when.is_not(None))
    )
    if site_id is not None:
        stmt = stmt.where(s.c.origin_site_id == site_id)
    if product_id is not None:
        stmt = stmt.where(lot.c.product_id == product_id)
    for r in await conn.execute(stmt):
        day = r.at.date()
        if day >= since and (until is None or day <= until):
            out[(r.product_id, r.origin_site_id, day)] += r.quantity
    o, ol = logistics_order, logistics_order_line
    # One list of carried orders rather than a correlated EXISTS: shipments have no index on
    # order_id, and SQLite would scan them once per order line.
    carried = o.c.id.in_(
        select(s.c.order_id).where(s.c.tenant_id == scope.require_tenant(), s.c.order_id.is_not(None))
    )
    lines = (
        scoped(
            select(o.c.requested_at, o.c.created_at, o.c.from_site_id, ol.c.product_id, ol.c.quantity),
            o,
            scope,
        )
        .join(ol, ol.c.order_id == o.c.id)
        .where(o.c.kind == "sales", o.c.from_site_id.is_not(None))
        .where(o.c.status.in_(SHIPPED_ORDERS), ~carried)
    )
    if site_id is not None:
        lines = lines.where(o.c.from_site_id == site_id)
    if product_id is not None:
        lines = lines.where(ol.c.product_id == product_id)
    for line in await conn.execute(lines):
        day = (line.requested_at or line.created_at).date()
        if day >= since and (until is None or day <= until):
            out[(line.product_id, line.from_site_id, day)] += line.quantity
    return dict(out)


async def open_purchase_orders(
    conn: AsyncConnection, scope: Scope, product_id: uuid.UUID, site_id: uuid.UUID
) -> list[OpenSupply]:
    """Purchase orders of the product to the site not received yet: stock on order."""
    o, ol = logistics_order, logistics_order_line
    stmt = (
        scoped(select(o.c.number, o.c.requested_at, func.sum(ol.c.quantity).label("qty")), o, scope)
        .join(ol, ol.c.order_id == o.c.id)
        .where(o.c.kind == "purchase", o.c.to_site_id == site_id, ol.c.product_id == product_id)
        .where(o.c.status.in_(OPEN_ORDERS), o.c.archived_at.is_(None))
        .group_by(o.c.number, o.c.requested_at)
        .order_by(o.c.number)
    )
    return [OpenSupply(r.number, float(r.qty), r.requested_at) for r in await conn.execute(stmt)]


async def purchase_lead_times(
    conn: AsyncConnection, scope: Scope, product_id: uuid.UUID, site_id: uuid.UUID, since: date
) -> list[float]:
    """Days from each received purchase order of the product (to the site) to its shipment's
    arrival there: the lead times the site has seen."""
    o, ol, s = logistics_order, logistics_order_line, logistics_shipment
    has_line = exists().where(ol.c.order_id == o.c.id, ol.c.product_id == product_id)
    stmt = (
        scoped(select(o.c.requested_at, o.c.created_at, s.c.actual_arrival_at), o, scope)
        .join(s, (s.c.order_id == o.c.id) & (s.c.tenant_id == o.c.tenant_id))
        .where(o.c.kind == "purchase", o.c.to_site_id == site_id, has_line)
        .where(s.c.destination_site_id == site_id, s.c.actual_arrival_at.is_not(None))
    )
    out = []
    for r in await conn.execute(stmt):
        start = r.requested_at or r.created_at
        if r.actual_arrival_at.date() >= since and r.actual_arrival_at >= start:
            out.append((r.actual_arrival_at - start).total_seconds() / 86400)
    return out


async def lot_stock_sites(
    conn: AsyncConnection, tenant_id: uuid.UUID, lot_id: uuid.UUID
) -> tuple[uuid.UUID | None, list[uuid.UUID]]:
    """The lot's product and the sites holding a position of it: the series a hold on it moves.
    Read for the tenant's own consumers (no caller's reach)."""
    lot, inv = logistics_lot, logistics_inventory
    product = (
        await conn.execute(select(lot.c.product_id).where(lot.c.tenant_id == tenant_id, lot.c.id == lot_id))
    ).scalar_one_or_none()
    stmt = (
        select(inv.c.site_id)
        .where(inv.c.tenant_id == tenant_id, inv.c.lot_id == lot_id, inv.c.archived_at.is_(None))
        .distinct()
    )
    return product, sorted((await conn.execute(stmt)).scalars().all())


async def shipment_products(
    conn: AsyncConnection, tenant_id: uuid.UUID, shipment_id: uuid.UUID
) -> list[uuid.UUID]:
    """The products of the lots a shipment carries (for the tenant's own consumers)."""
    sl, lot = logistics_shipment_lot, logistics_lot
    stmt = (
        select(lot.c.product_id)
        .join(sl, (sl.c.lot_id == lot.c.id) & (sl.c.tenant_id == lot.c.tenant_id))
        .where(sl.c.tenant_id == tenant_id, sl.c.shipment_id == shipment_id)
        .distinct()
    )
    return sorted((await conn.execute(stmt)).scalars().all())
