"""What other capabilities need to name logistics records outside the platform (EPCIS): a
lot's code and its product's GTIN, where its stock is, a shipment's route and lots, an order's
number and kind. Read by tenant, unscoped: callers are the platform's own consumers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.logistics.tables import (
    logistics_inventory,
    logistics_lot,
    logistics_order,
    logistics_product,
    logistics_shipment,
    logistics_shipment_lot,
)


@dataclass(frozen=True)
class LotIdentity:
    lot_id: uuid.UUID
    lot_code: str
    product_id: uuid.UUID
    gtin: str | None
    unit: str
    site_id: uuid.UUID | None  # the site holding most of its stock, if any position has some


@dataclass(frozen=True)
class ShipmentLine:
    lot_id: uuid.UUID
    quantity: float
    unit: str


@dataclass(frozen=True)
class ShipmentRoute:
    shipment_id: uuid.UUID
    number: str
    origin_site_id: uuid.UUID
    destination_site_id: uuid.UUID
    order_id: uuid.UUID | None
    lots: tuple[ShipmentLine, ...]


@dataclass(frozen=True)
class OrderIdentity:
    order_id: uuid.UUID
    number: str
    kind: str  # purchase | sales | transfer


def _unique(ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(ids))


async def lot_identities(
    conn: AsyncConnection, tenant_id: uuid.UUID, lot_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, LotIdentity]:
    wanted = _unique(lot_ids)
    if not wanted:
        return {}
    lot, p, inv = logistics_lot, logistics_product, logistics_inventory
    stock = select(inv.c.lot_id, inv.c.site_id, inv.c.on_hand).where(
        inv.c.tenant_id == tenant_id, inv.c.lot_id.in_(wanted), inv.c.on_hand > 0
    )
    where: dict[uuid.UUID, tuple[float, uuid.UUID]] = {}
    for r in await conn.execute(stock):
        if r.lot_id not in where or r.on_hand > where[r.lot_id][0]:
            where[r.lot_id] = (r.on_hand, r.site_id)
    stmt = (
        select(lot.c.id, lot.c.lot_code, lot.c.product_id, lot.c.unit, p.c.gtin)
        .join(p, p.c.id == lot.c.product_id)
        .where(lot.c.tenant_id == tenant_id, lot.c.id.in_(wanted))
    )
    return {
        r.id: LotIdentity(
            r.id, r.lot_code, r.product_id, r.gtin, r.unit, where[r.id][1] if r.id in where else None
        )
        for r in await conn.execute(stmt)
    }


async def shipment_routes(
    conn: AsyncConnection, tenant_id: uuid.UUID, shipment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ShipmentRoute]:
    wanted = _unique(shipment_ids)
    if not wanted:
        return {}
    s, sl = logistics_shipment, logistics_shipment_lot
    lines: dict[uuid.UUID, list[ShipmentLine]] = {}
    got = await conn.execute(
        select(sl.c.shipment_id, sl.c.lot_id, sl.c.quantity, sl.c.unit)
        .where(sl.c.tenant_id == tenant_id, sl.c.shipment_id.in_(wanted))
        .order_by(sl.c.shipment_id, sl.c.line_no)
    )
    for r in got:
        lines.setdefault(r.shipment_id, []).append(ShipmentLine(r.lot_id, r.quantity, r.unit))
    stmt = select(s.c.id, s.c.number, s.c.origin_site_id, s.c.destination_site_id, s.c.order_id).where(
        s.c.tenant_id == tenant_id, s.c.id.in_(wanted)
    )
    return {
        r.id: ShipmentRoute(
            r.id, r.number, r.origin_site_id, r.destination_site_id, r.order_id, tuple(lines.get(r.id, ()))
        )
        for r in await conn.execute(stmt)
    }


async def order_identities(
    conn: AsyncConnection, tenant_id: uuid.UUID, order_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, OrderIdentity]:
    wanted = _unique(order_ids)
    if not wanted:
        return {}
    o = logistics_order
    stmt = select(o.c.id, o.c.number, o.c.kind).where(o.c.tenant_id == tenant_id, o.c.id.in_(wanted))
    return {r.id: OrderIdentity(r.id, r.number, r.kind) for r in await conn.execute(stmt)}
