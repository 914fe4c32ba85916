"""Measures over orders and stock: fill rate (units), OTIF (orders, judged one by one), days
of supply and inventory turns (per product at each site).

OTIF is counted per order, on time AND in full together, never as the on-time share times the
in-full share: an order late but complete and one on time but short are both failures, and the
product of two shares would credit them half each.

The platform keeps today's inventory positions, not their history, so the inventory of a past
day is rebuilt from today's by undoing the movements since: add back what left, take out what
arrived. Days of supply divides today's sellable stock by the period's average daily demand.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics
from supplyline.kernel.clock import utcnow
from supplyline.kernel.scope import Scope
from supplyline.planning.kpis.facts import Fact, Window, dims

ORDER_DIMENSIONS = frozenset({"product", "site", "customer"})


async def fill_rate(
    conn: AsyncConnection, scope: Scope, window: Window, params: Mapping[str, Any]
) -> list[Fact]:
    """One fact per order line: shipped units (never more than ordered) over ordered units."""
    orders = await logistics.order_fulfilment(conn, scope, window.since, window.until)
    return [
        Fact(
            o.counted_at.date(),
            line.shipped,
            line.ordered,
            dims(product=line.product_id, site=o.site_id, customer=o.customer_id),
        )
        for o in orders
        for line in o.lines
    ]


class OtifParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tolerance_hours: float = Field(ge=0, le=24 * 31, description="Grace after the requested time.")


async def otif(conn: AsyncConnection, scope: Scope, window: Window, params: Mapping[str, Any]) -> list[Fact]:
    """One fact per order with a requested time and at least one line: 1 when its last
    shipment arrived by the requested time (plus the tolerance) and every line shipped in full."""
    grace = timedelta(hours=OtifParams.model_validate(params).tolerance_hours)
    out = []
    for o in await logistics.order_fulfilment(conn, scope, window.since, window.until):
        if o.requested_at is None or not o.lines:
            continue  # nothing was promised to be on time against
        on_time = o.delivered_at is not None and o.delivered_at <= o.requested_at + grace
        in_full = all(line.shipped >= line.ordered for line in o.lines)
        out.append(
            Fact(
                o.counted_at.date(),
                1.0 if on_time and in_full else 0.0,
                1.0,
                dims(product=[line.product_id for line in o.lines], site=o.site_id, customer=o.customer_id),
            )
        )
    return out


STOCK_DIMENSIONS = frozenset({"product", "site"})
Key = tuple[uuid.UUID, uuid.UUID]


async def days_of_supply(
    conn: AsyncConnection, scope: Scope, window: Window, params: Mapping[str, Any]
) -> list[Fact]:
    """Per product and site: today's sellable stock on every day (numerator) and each day's
    outbound units (denominator); both are averaged over the period's days."""
    stock = {(s.product_id, s.site_id): s.sellable for s in await logistics.site_stock(conn, scope)}
    moves = await logistics.outbound_movements(conn, scope, window.start, window.end)
    demand: dict[Key, dict[date, float]] = defaultdict(dict)
    for (product, site, day), q in moves.items():
        demand[(product, site)][day] = q
    out = []
    for key in stock.keys() | demand.keys():
        d = dims(product=key[0], site=key[1])
        out.append(Fact(window.start, stock.get(key, 0.0), 0.0, d, last=window.end))
        out += [Fact(day, 0.0, q, d) for day, q in demand.get(key, {}).items()]
    return out


async def inventory_turns(
    conn: AsyncConnection, scope: Scope, window: Window, params: Mapping[str, Any]
) -> list[Fact]:
    """Per product and site: the units that left each day (numerator) and the on-hand inventory
    at the end of each day (denominator, averaged over the period's days)."""
    on_hand = {(s.product_id, s.site_id): s.on_hand for s in await logistics.site_stock(conn, scope)}
    outbound = await logistics.outbound_movements(conn, scope, window.start)
    inbound = await logistics.inbound_movements(conn, scope, window.start)
    net: dict[Key, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for (product, site, day), q in outbound.items():
        net[(product, site)][day] -= q
    for (product, site, day), q in inbound.items():
        net[(product, site)][day] += q
    today = utcnow().date()
    out = []
    for key in on_hand.keys() | net.keys():
        changes = net.get(key, {})
        d = dims(product=key[0], site=key[1])
        # The closing level of a day is today's less every change after that day: constant
        # between two days with movements, so one fact per stretch, walking back from the end.
        level = on_hand.get(key, 0.0) - sum(q for day, q in changes.items() if window.end < day <= today)
        last = window.end
        for day in sorted((t for t in changes if window.start < t <= window.end), reverse=True):
            out.append(Fact(day, 0.0, level, d, last=last))
            level -= changes[day]
            last = day - timedelta(days=1)
        out.append(Fact(window.start, 0.0, level, d, last=last))
        out += [Fact(day, outbound.get((*key, day), 0.0), 0.0, d) for day in changes if day <= window.end]
    return out
