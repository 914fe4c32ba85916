"""What other capabilities need to name logistics records outside the platform (EPCIS): a
shipment's route and lots, an order's number and kind (a lot's identity is in ``exposure``).
Read by tenant, unscoped: callers are the platform's own consumers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.logistics.tables import (
    logistics_order,
    logistics_shipment,
    logistics_shipment_lot,
)


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
