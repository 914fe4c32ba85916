"""What a recall reaches in logistics: lots by their GS1 identity, a supplier's batch, and the
shipments, order lines and customers of a set of lots.

The EPCIS lineage (``supplyline.epcis``) speaks identifiers; these read the platform's own
records for them, tenant-wide (a recall answers for the whole tenant), in batched queries.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.logistics.tables import (
    logistics_inventory,
    logistics_lot,
    logistics_order,
    logistics_order_line,
    logistics_product,
    logistics_shipment,
    logistics_shipment_lot,
)

CHUNK = 500


@dataclass(frozen=True)
class LotIdentity:
    lot_id: uuid.UUID
    lot_code: str
    gtin: str | None  # 14 digits, or None when the product has no GTIN
    sku: str
    quantity: float
    unit: str
    status: str
    supplier_organization_id: uuid.UUID | None
    site_id: uuid.UUID | None = None  # the site holding most of its stock, if any position has some


@dataclass(frozen=True)
class ShipmentOfLot:
    shipment_id: uuid.UUID
    number: str
    lot_id: uuid.UUID
    quantity: float
    unit: str
    destination_site_id: uuid.UUID
    order_id: uuid.UUID | None


@dataclass(frozen=True)
class OrderLineOfLot:
    order_id: uuid.UUID
    number: str
    kind: str
    organization_id: uuid.UUID | None
    to_site_id: uuid.UUID | None
    lot_id: uuid.UUID
    quantity: float
    unit: str


def gtin14(gtin: str | None) -> str | None:
    """A GTIN-8/12/13/14 as the 14 digits a GS1 Digital Link carries."""
    return gtin.zfill(14) if gtin and gtin.isdigit() and len(gtin) <= 14 else None


def _chunks(values: Iterable[object]) -> list[list[object]]:
    items = list(dict.fromkeys(values))
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def _identity_query() -> Select[Any]:
    lot, p = logistics_lot, logistics_product
    return select(
        lot.c.id,
        lot.c.lot_code,
        p.c.gtin,
        p.c.sku,
        lot.c.quantity,
        lot.c.unit,
        lot.c.status,
        lot.c.supplier_organization_id,
    ).join(p, (p.c.id == lot.c.product_id) & (p.c.tenant_id == lot.c.tenant_id))


def _identity(r: Row[Any]) -> LotIdentity:
    m = r._mapping
    return LotIdentity(
        m["id"],
        m["lot_code"],
        gtin14(m["gtin"]),
        m["sku"],
        m["quantity"],
        m["unit"],
        m["status"],
        m["supplier_organization_id"],
    )


async def lot_identities(
    conn: AsyncConnection, tenant_id: uuid.UUID, lot_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, LotIdentity]:
    """GTIN, lot code, quantity and status of each lot that exists in the tenant."""
    lot = logistics_lot
    out: dict[uuid.UUID, LotIdentity] = {}
    for chunk in _chunks(lot_ids):
        stmt = _identity_query().where(lot.c.tenant_id == tenant_id, lot.c.id.in_(chunk))
        out.update({i.lot_id: i for i in map(_identity, await conn.execute(stmt))})
    sites = await _stock_sites(conn, tenant_id, list(out))
    return {k: replace(v, site_id=sites.get(k)) for k, v in out.items()}


async def _stock_sites(
    conn: AsyncConnection, tenant_id: uuid.UUID, lot_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """The site holding most of each lot's stock, for lots with stock anywhere."""
    inv = logistics_inventory
    most: dict[uuid.UUID, tuple[float, uuid.UUID]] = {}
    for chunk in _chunks(lot_ids):
        stmt = select(inv.c.lot_id, inv.c.site_id, inv.c.on_hand).where(
            inv.c.tenant_id == tenant_id, inv.c.lot_id.in_(chunk), inv.c.on_hand > 0
        )
        for r in await conn.execute(stmt):
            if r.lot_id not in most or r.on_hand > most[r.lot_id][0]:
                most[r.lot_id] = (r.on_hand, r.site_id)
    return {lot_id: site for lot_id, (_, site) in most.items()}


async def lots_by_gtin_lot(
    conn: AsyncConnection, tenant_id: uuid.UUID, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], LotIdentity]:
    """The platform lots of (GTIN-14, lot code) pairs, as an LGTIN names them."""
    wanted = set(pairs)
    lot = logistics_lot
    out: dict[tuple[str, str], LotIdentity] = {}
    for chunk in _chunks(code for _, code in wanted):
        stmt = _identity_query().where(lot.c.tenant_id == tenant_id, lot.c.lot_code.in_(chunk))
        for found in map(_identity, await conn.execute(stmt)):
            if found.gtin is not None and (found.gtin, found.lot_code) in wanted:
                out[(found.gtin, found.lot_code)] = found
    return out


async def supplier_batch_lots(
    conn: AsyncConnection, tenant_id: uuid.UUID, organization_id: uuid.UUID, lot_code: str
) -> list[LotIdentity]:
    """The lots a supplier delivered under its own lot code."""
    lot = logistics_lot
    stmt = _identity_query().where(
        lot.c.tenant_id == tenant_id,
        lot.c.supplier_organization_id == organization_id,
        lot.c.lot_code == lot_code,
    )
    return [_identity(r) for r in await conn.execute(stmt)]


async def shipments_of_lots(
    conn: AsyncConnection, tenant_id: uuid.UUID, lot_ids: Sequence[uuid.UUID]
) -> list[ShipmentOfLot]:
    s, sl = logistics_shipment, logistics_shipment_lot
    out: list[ShipmentOfLot] = []
    for chunk in _chunks(lot_ids):
        stmt = (
            select(
                s.c.id,
                s.c.number,
                sl.c.lot_id,
                sl.c.quantity,
                sl.c.unit,
                s.c.destination_site_id,
                s.c.order_id,
            )
            .join(s, (s.c.id == sl.c.shipment_id) & (s.c.tenant_id == sl.c.tenant_id))
            .where(sl.c.tenant_id == tenant_id, sl.c.lot_id.in_(chunk))
        )
        out += [ShipmentOfLot(*r) for r in await conn.execute(stmt)]
    return out


async def order_lines_of_lots(
    conn: AsyncConnection, tenant_id: uuid.UUID, lot_ids: Sequence[uuid.UUID]
) -> list[OrderLineOfLot]:
    o, ol = logistics_order, logistics_order_line
    out: list[OrderLineOfLot] = []
    for chunk in _chunks(lot_ids):
        stmt = (
            select(
                o.c.id,
                o.c.number,
                o.c.kind,
                o.c.organization_id,
                o.c.to_site_id,
                ol.c.lot_id,
                ol.c.quantity,
                ol.c.unit,
            )
            .join(o, (o.c.id == ol.c.order_id) & (o.c.tenant_id == ol.c.tenant_id))
            .where(ol.c.tenant_id == tenant_id, ol.c.lot_id.in_(chunk))
        )
        out += [OrderLineOfLot(*r) for r in await conn.execute(stmt)]
    return out
