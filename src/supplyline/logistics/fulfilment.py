"""What the KPI layer reads of outbound orders: each order's lines, what its shipments carried
of each product and when they arrived, so that fill rate and OTIF are judged order by order.

An order counts when the caller reaches it, or reaches a shipment that carries it (a carrier
sees the orders it moved, judged on its own shipments only). Orders fall in the period of their
requested time (their creation time when none was asked).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.scope import Scope
from supplyline.logistics.supply import SHIPPED_ORDERS, SHIPPED_SHIPMENTS
from supplyline.logistics.tables import (
    logistics_lot,
    logistics_order,
    logistics_order_line,
    logistics_shipment,
    logistics_shipment_lot,
)
from supplyline.resources import scoped

OUTBOUND_KINDS = ("sales", "transfer")
NOT_COUNTED = ("draft", "cancelled")


@dataclass(frozen=True)
class LineFulfilment:
    product_id: uuid.UUID
    ordered: float
    shipped: float  # what reached shipments carried of the product, shared out in line order


@dataclass(frozen=True)
class OrderFulfilment:
    order_id: uuid.UUID
    number: str
    site_id: uuid.UUID | None  # where it ships from
    customer_id: uuid.UUID | None
    requested_at: datetime | None
    counted_at: datetime  # requested_at, else created_at: the period it falls in
    delivered_at: datetime | None  # the last arrival, None while a shipment is still on its way
    lines: tuple[LineFulfilment, ...]


def _in_period(since: datetime, until: datetime) -> ColumnElement[bool]:
    o = logistics_order
    when = func.coalesce(o.c.requested_at, o.c.created_at)
    return and_(
        o.c.kind.in_(OUTBOUND_KINDS),
        o.c.status.not_in(NOT_COUNTED),
        o.c.archived_at.is_(None),
        when >= since,
        when < until,
    )


async def order_fulfilment(
    conn: AsyncConnection, scope: Scope, since: datetime, until: datetime
) -> list[OrderFulfilment]:
    """Outbound orders counted in ``[since, until)`` that the caller reaches, with what the
    reached shipments carried against each line."""
    o, s = logistics_order, logistics_shipment
    cols = (o.c.id, o.c.number, o.c.from_site_id, o.c.organization_id, o.c.requested_at, o.c.created_at)
    orders: dict[uuid.UUID, Any] = {}
    direct = scoped(select(*cols), o, scope).where(_in_period(since, until))
    via = (
        scoped(select(*cols).distinct(), s, scope)
        .join(o, (o.c.id == s.c.order_id) & (o.c.tenant_id == s.c.tenant_id))
        .where(_in_period(since, until))
    )
    # A caller who reaches every order finds them all directly.
    for stmt in (direct,) if scope.reaches("orders") is None else (direct, via):
        for r in await conn.execute(stmt):
            orders[r.id] = r
    if not orders:
        return []
    lines = await _lines(conn, scope, since, until, orders.keys())
    carried, arrivals, pending = await _carried(conn, scope, since, until)
    shipped_anyhow = await _carried_at_all(conn, scope)
    out = []
    for oid, r in orders.items():
        by_product = dict(carried.get(oid, {}))
        judged = []
        for product_id, ordered, status in lines.get(oid, []):
            if oid not in shipped_anyhow:
                # Shipped without shipment records: the order's status is all there is.
                shipped = ordered if status in SHIPPED_ORDERS else 0.0
            else:
                shipped = min(ordered, by_product.get(product_id, 0.0))
                by_product[product_id] = by_product.get(product_id, 0.0) - shipped
            judged.append(LineFulfilment(product_id, ordered, shipped))
        delivered = None if oid in pending else arrivals.get(oid)
        out.append(
            OrderFulfilment(
                oid,
                r.number,
                r.from_site_id,
                r.organization_id,
                r.requested_at,
                r.requested_at or r.created_at,
                delivered,
                tuple(judged),
            )
        )
    return out


async def _lines(
    conn: AsyncConnection, scope: Scope, since: datetime, until: datetime, wanted: Any
) -> dict[uuid.UUID, list[tuple[uuid.UUID, float, str]]]:
    o, ol = logistics_order, logistics_order_line
    stmt = (
        select(ol.c.order_id, ol.c.product_id, ol.c.quantity, o.c.status)
        .join(o, (o.c.id == ol.c.order_id) & (o.c.tenant_id == ol.c.tenant_id))
        .where(o.c.tenant_id == scope.require_tenant(), _in_period(since, until))
        .order_by(ol.c.order_id, ol.c.line_no)
    )
    keep = set(wanted)
    out: dict[uuid.UUID, list[tuple[uuid.UUID, float, str]]] = defaultdict(list)
    for r in await conn.execute(stmt):
        if r.order_id in keep:
            out[r.order_id].append((r.product_id, float(r.quantity), r.status))
    return out


async def _carried(
    conn: AsyncConnection, scope: Scope, since: datetime, until: datetime
) -> tuple[dict[uuid.UUID, dict[uuid.UUID, float]], dict[uuid.UUID, datetime], set[uuid.UUID]]:
    """Per order: units per product on its reached, departed shipments; its last arrival; and
    whether one of them has not arrived yet."""
    o, s, sl, lot = logistics_order, logistics_shipment, logistics_shipment_lot, logistics_lot
    stmt = (
        scoped(
            select(s.c.order_id, s.c.status, s.c.actual_arrival_at, lot.c.product_id, sl.c.quantity), s, scope
        )
        .join(o, (o.c.id == s.c.order_id) & (o.c.tenant_id == s.c.tenant_id))
        .outerjoin(sl, (sl.c.shipment_id == s.c.id) & (sl.c.tenant_id == s.c.tenant_id))
        .outerjoin(lot, (lot.c.id == sl.c.lot_id) & (lot.c.tenant_id == sl.c.tenant_id))
        .where(_in_period(since, until), s.c.status.in_(SHIPPED_SHIPMENTS), s.c.archived_at.is_(None))
    )
    carried: dict[uuid.UUID, dict[uuid.UUID, float]] = defaultdict(lambda: defaultdict(float))
    arrivals: dict[uuid.UUID, datetime] = {}
    pending: set[uuid.UUID] = set()
    for r in await conn.execute(stmt):
        if r.product_id is not None:
            carried[r.order_id][r.product_id] += float(r.quantity)
        if r.status != "delivered" or r.actual_arrival_at is None:
            pending.add(r.order_id)
        elif r.order_id not in arrivals or r.actual_arrival_at > arrivals[r.order_id]:
            arrivals[r.order_id] = r.actual_arrival_at
    return carried, arrivals, pending


async def _carried_at_all(conn: AsyncConnection, scope: Scope) -> set[uuid.UUID]:
    """Orders some shipment carries, reached or not: their shipped quantity comes from shipments."""
    s = logistics_shipment
    stmt = (
        select(s.c.order_id)
        .distinct()
        .where(s.c.tenant_id == scope.require_tenant(), s.c.order_id.is_not(None))
        .where(s.c.status != "cancelled", s.c.archived_at.is_(None))
    )
    return {r.order_id for r in await conn.execute(stmt)}
