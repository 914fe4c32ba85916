"""Finding platform records by the identifiers other systems use: a GTIN and lot code (an
LGTIN, a GS1 Digital Link with /10/), an order or shipment number.

EPCIS capture links events to the lots, orders and shipments they concern this way, for a whole
document in a few queries (one per batch), so a capture of thousands of events stays fast.
The tenant's whole table is searched: linking is not a read on the caller's behalf.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.logistics.tables import logistics_lot, logistics_order, logistics_product, logistics_shipment

BATCH = 500  # values per IN list: well under SQLite's and asyncpg's parameter limits


def _batches(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = sorted(set(values))
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def _gtin_forms(gtin14: str) -> list[str]:
    """A GTIN as a product may hold it: 14 digits, or without the leading zeros of a GTIN-13/12/8."""
    forms = [gtin14]
    for size in (13, 12, 8):
        if gtin14[: 14 - size] == "0" * (14 - size):
            forms.append(gtin14[14 - size :])
    return forms


async def lots_by_gtin(
    conn: AsyncConnection, tenant_id: uuid.UUID, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], uuid.UUID]:
    """(GTIN-14, lot code) -> the lot's id, for those pairs a product and lot of the tenant match."""
    wanted = {(g.zfill(14), lot) for g, lot in pairs if g.isdigit() and len(g) <= 14}
    if not wanted:
        return {}
    p, lot = logistics_product, logistics_lot
    found: dict[tuple[str, str], uuid.UUID] = {}
    for batch in _batches(wanted):
        gtins = sorted({form for g, _ in batch for form in _gtin_forms(g)})
        codes = sorted({code for _, code in batch})
        stmt = (
            select(p.c.gtin, lot.c.lot_code, lot.c.id)
            .join(lot, (lot.c.tenant_id == p.c.tenant_id) & (lot.c.product_id == p.c.id))
            .where(p.c.tenant_id == tenant_id, p.c.gtin.in_(gtins), lot.c.lot_code.in_(codes))
        )
        for row in await conn.execute(stmt):
            key = (str(row.gtin).zfill(14), row.lot_code)
            if key in wanted:
                found[key] = row.id
    return found


async def records_by_number(
    conn: AsyncConnection, tenant_id: uuid.UUID, numbers: Iterable[str]
) -> dict[str, dict[str, uuid.UUID]]:
    """``{"order": {number: id}, "shipment": {number: id}}`` for the numbers the tenant uses."""
    out: dict[str, dict[str, uuid.UUID]] = {"order": {}, "shipment": {}}
    for kind, table in (("order", logistics_order), ("shipment", logistics_shipment)):
        for batch in _batches(n for n in numbers if 0 < len(n) <= 64):
            stmt = select(table.c.number, table.c.id).where(
                table.c.tenant_id == tenant_id, table.c.number.in_(batch)
            )
            out[kind].update({row.number: row.id for row in await conn.execute(stmt)})
    return out
