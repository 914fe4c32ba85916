"""Read-side questions other capabilities ask of logistics."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.scope import Scope
from supplyline.logistics.tables import (
    logistics_lot,
    logistics_product,
    logistics_shipment,
    logistics_shipment_device,
    logistics_shipment_lot,
)
from supplyline.resources import scoped


@dataclass(frozen=True)
class TrackerWindow:
    """A device carried by a shipment between two instants (None: open-ended)."""

    shipment_id: uuid.UUID
    device_id: uuid.UUID
    start: datetime | None
    end: datetime | None


async def tracker_windows(
    conn: AsyncConnection, scope: Scope, shipment_ids: Sequence[uuid.UUID]
) -> list[TrackerWindow]:
    """When each tracker travelled with each shipment: its assignment, else the trip's times."""
    s, sd = logistics_shipment, logistics_shipment_device
    stmt = scoped(
        select(
            sd.c.shipment_id,
            sd.c.device_id,
            sd.c.assigned_at,
            sd.c.unassigned_at,
            s.c.actual_departure_at,
            s.c.actual_arrival_at,
        ).join(s, s.c.id == sd.c.shipment_id),
        s,
        scope,
    ).where(sd.c.shipment_id.in_(list(shipment_ids)))
    return [
        TrackerWindow(
            r.shipment_id,
            r.device_id,
            r.assigned_at or r.actual_departure_at,
            r.unassigned_at or r.actual_arrival_at,
        )
        for r in await conn.execute(stmt)
    ]


async def shipments_with_lot(conn: AsyncConnection, scope: Scope, lot_id: uuid.UUID) -> list[uuid.UUID]:
    s, sl = logistics_shipment, logistics_shipment_lot
    stmt = scoped(select(sl.c.shipment_id).join(s, s.c.id == sl.c.shipment_id), s, scope).where(
        sl.c.lot_id == lot_id
    )
    return sorted({r.shipment_id for r in await conn.execute(stmt)})


async def shipment_context(
    conn: AsyncConnection, scope: Scope, device_id: uuid.UUID, at: datetime
) -> list[tuple[uuid.UUID, list[uuid.UUID]]]:
    """Shipments (with their lots) that carried ``device_id`` at ``at``."""
    s, sd, sl = logistics_shipment, logistics_shipment_device, logistics_shipment_lot
    stmt = scoped(
        select(
            sd.c.shipment_id,
            sd.c.assigned_at,
            sd.c.unassigned_at,
            s.c.actual_departure_at,
            s.c.actual_arrival_at,
        ).join(s, s.c.id == sd.c.shipment_id),
        s,
        scope,
    ).where(sd.c.device_id == device_id)
    out = []
    for r in await conn.execute(stmt):
        start = r.assigned_at or r.actual_departure_at
        end = r.unassigned_at or r.actual_arrival_at
        if (start is None or start <= at) and (end is None or at <= end):
            lots = await conn.execute(select(sl.c.lot_id).where(sl.c.shipment_id == r.shipment_id))
            out.append((r.shipment_id, [x.lot_id for x in lots]))
    return out


@dataclass(frozen=True)
class Carried:
    """What a device travels with now: its shipments and the products of their lots."""

    shipment_ids: tuple[uuid.UUID, ...] = ()
    product_ids: frozenset[uuid.UUID] = frozenset()
    lot_ids: frozenset[uuid.UUID] = frozenset()


async def carried_by(
    conn: AsyncConnection, scope: Scope, device_ids: Sequence[uuid.UUID], at: datetime
) -> dict[uuid.UUID, Carried]:
    """For many devices in one query: the shipments carrying each at ``at`` and their products."""
    s, sd, sl = logistics_shipment, logistics_shipment_device, logistics_shipment_lot
    lot = logistics_lot
    stmt = (
        scoped(
            select(
                sd.c.device_id,
                sd.c.shipment_id,
                sd.c.assigned_at,
                sd.c.unassigned_at,
                s.c.actual_departure_at,
                s.c.actual_arrival_at,
                lot.c.product_id,
                sl.c.lot_id,
            )
            .join(s, s.c.id == sd.c.shipment_id)
            .outerjoin(sl, sl.c.shipment_id == sd.c.shipment_id)
            .outerjoin(lot, lot.c.id == sl.c.lot_id),
            s,
            scope,
        )
        .where(sd.c.device_id.in_(list(device_ids)))
        .where(s.c.status.notin_(("delivered", "cancelled")))
    )
    shipments: dict[uuid.UUID, dict[uuid.UUID, None]] = {}
    products: dict[uuid.UUID, set[uuid.UUID]] = {}
    lots: dict[uuid.UUID, set[uuid.UUID]] = {}
    for r in await conn.execute(stmt):
        start = r.assigned_at or r.actual_departure_at
        end = r.unassigned_at or r.actual_arrival_at
        if (start is None or start <= at) and (end is None or at <= end):
            shipments.setdefault(r.device_id, {})[r.shipment_id] = None
            if r.product_id is not None:
                products.setdefault(r.device_id, set()).add(r.product_id)
                lots.setdefault(r.device_id, set()).add(r.lot_id)
    return {d: Carried(tuple(shipments[d]), frozenset(products.get(d, ()))) for d in shipments}


async def product_names_by_gtin(conn: AsyncConnection, scope: Scope, gtins: Sequence[str]) -> dict[str, str]:
    """Product names by GTIN-14 (a product may hold its GTIN in 8, 12, 13 or 14 digits)."""
    wanted = {g.zfill(14) for g in gtins}
    if not wanted:
        return {}
    forms = {g[len(g) - n :] for g in wanted for n in (8, 12, 13, 14)}
    p = logistics_product
    stmt = scoped(select(p.c.gtin, p.c.name), p, scope).where(p.c.gtin.in_(sorted(forms)))
    found = {str(r.gtin).zfill(14): str(r.name) for r in await conn.execute(stmt)}
    return {g: name for g, name in found.items() if g in wanted}
