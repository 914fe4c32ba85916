"""What the KPI layer reads of stock and of shipments: every position's stock, the units that
arrived at each site per day, and each departed shipment with the temperature excursions
logistics recorded for it.

Scoped reads, like ``supply``: a caller's KPI counts only the rows they reach.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.eventlog import EventFilter
from supplyline.kernel.scope import Scope
from supplyline.logistics.events import SHIPMENT_TEMPERATURE_EXCEEDED
from supplyline.logistics.supply import SHIPPED_SHIPMENTS
from supplyline.logistics.tables import (
    logistics_inventory,
    logistics_lot,
    logistics_shipment,
    logistics_shipment_lot,
)
from supplyline.resources import scoped

# A shipment counts from its departure: on its way, delivered, or stopped by an exception.
DEPARTED = (*SHIPPED_SHIPMENTS, "exception")


@dataclass(frozen=True)
class SiteStock:
    """The stock of a product at a site now, summed over its lots."""

    product_id: uuid.UUID
    site_id: uuid.UUID
    on_hand: float
    held: float
    allocated: float
    sellable: float  # on hand less held and allocated, position by position, never below zero


@dataclass(frozen=True)
class ShipmentCondition:
    shipment_id: uuid.UUID
    number: str
    origin_site_id: uuid.UUID
    carrier_id: uuid.UUID | None
    departed_at: datetime
    arrived_at: datetime | None
    product_ids: tuple[uuid.UUID, ...]
    excursions: int  # shipment.temperature_exceeded events recorded for it


async def site_stock(conn: AsyncConnection, scope: Scope) -> list[SiteStock]:
    """Every product's stock at every site the caller reaches (inventory positions)."""
    inv = logistics_inventory
    stmt = scoped(
        select(inv.c.product_id, inv.c.site_id, inv.c.on_hand, inv.c.held, inv.c.allocated), inv, scope
    ).where(inv.c.archived_at.is_(None))
    sums: dict[tuple[uuid.UUID, uuid.UUID], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for r in await conn.execute(stmt):
        acc = sums[(r.product_id, r.site_id)]
        acc[0] += r.on_hand
        acc[1] += r.held
        acc[2] += r.allocated
        acc[3] += max(0.0, r.on_hand - r.held - r.allocated)
    return [SiteStock(p, s, *acc) for (p, s), acc in sums.items()]


async def inbound_movements(
    conn: AsyncConnection, scope: Scope, since: date
) -> dict[tuple[uuid.UUID, uuid.UUID, date], float]:
    """Units that arrived at each site per (product, site, day) from ``since``: lots on
    delivered shipments, on the day of their arrival."""
    s, sl, lot = logistics_shipment, logistics_shipment_lot, logistics_lot
    stmt = (
        scoped(
            select(s.c.actual_arrival_at, s.c.destination_site_id, lot.c.product_id, sl.c.quantity), s, scope
        )
        .join(sl, (sl.c.shipment_id == s.c.id) & (sl.c.tenant_id == s.c.tenant_id))
        .join(lot, (lot.c.id == sl.c.lot_id) & (lot.c.tenant_id == sl.c.tenant_id))
        .where(s.c.status == "delivered", s.c.actual_arrival_at.is_not(None))
    )
    out: dict[tuple[uuid.UUID, uuid.UUID, date], float] = defaultdict(float)
    for r in await conn.execute(stmt):
        day = r.actual_arrival_at.date()
        if day >= since:
            out[(r.product_id, r.destination_site_id, day)] += r.quantity
    return dict(out)


async def shipment_conditions(
    conn: AsyncConnection, scope: Scope, since: datetime, until: datetime
) -> list[ShipmentCondition]:
    """Shipments the caller reaches that departed in ``[since, until)`` (actual departure, else
    planned), each with the number of temperature excursions recorded for it on the log."""
    s, sl, lot = logistics_shipment, logistics_shipment_lot, logistics_lot
    when = func.coalesce(s.c.actual_departure_at, s.c.planned_departure_at)
    stmt = (
        scoped(
            select(
                s.c.id,
                s.c.number,
                s.c.origin_site_id,
                s.c.carrier_organization_id,
                when.label("departed_at"),
                s.c.actual_arrival_at,
                lot.c.product_id,
            ),
            s,
            scope,
        )
        .outerjoin(sl, (sl.c.shipment_id == s.c.id) & (sl.c.tenant_id == s.c.tenant_id))
        .outerjoin(lot, (lot.c.id == sl.c.lot_id) & (lot.c.tenant_id == sl.c.tenant_id))
        .where(s.c.status.in_(DEPARTED), s.c.archived_at.is_(None), when >= since, when < until)
    )
    rows: dict[uuid.UUID, tuple[str, uuid.UUID, uuid.UUID | None, datetime, datetime | None]] = {}
    products: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for r in await conn.execute(stmt):
        rows[r.id] = (
            r.number,
            r.origin_site_id,
            r.carrier_organization_id,
            r.departed_at,
            r.actual_arrival_at,
        )
        if r.product_id is not None and r.product_id not in products[r.id]:
            products[r.id].append(r.product_id)
    if not rows:
        return []
    counts = await _excursions(conn, scope.require_tenant(), since)
    return [
        ShipmentCondition(sid, *row, tuple(products[sid]), counts.get(sid, 0)) for sid, row in rows.items()
    ]


async def _excursions(conn: AsyncConnection, tenant_id: uuid.UUID, since: datetime) -> dict[uuid.UUID, int]:
    """Temperature excursions per shipment recorded since ``since`` (one comes after departure)."""
    stmt = EventFilter(types=[SHIPMENT_TEMPERATURE_EXCEEDED.type], since=since).select(tenant_id)
    out: dict[uuid.UUID, int] = defaultdict(int)
    for event in (await conn.execute(stmt)).mappings():
        try:
            out[uuid.UUID(event["subject"].removeprefix("shipments/"))] += 1
        except ValueError:
            continue
    return dict(out)
