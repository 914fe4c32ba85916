"""Measures over stock: days of supply and inventory turns, per product at each site.

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

from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics
from supplyline.kernel.clock import utcnow
from supplyline.kernel.scope import Scope
from supplyline.planning.kpis.facts import Fact, Window, dims

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
        # The closing level of a day is today's less every change after that day: the level at
        # the window's end holds on every day, and each change in the window is undone on the
        # days before it.
        after = sum(q for day, q in changes.items() if window.end < day <= today)
        out.append(Fact(window.start, 0.0, on_hand.get(key, 0.0) - after, d, last=window.end))
        for day, q in changes.items():
            if window.start < day <= window.end:
                out.append(Fact(window.start, 0.0, -q, d, last=day - timedelta(days=1)))
        out += [Fact(day, outbound.get((*key, day), 0.0), 0.0, d) for day in changes if day <= window.end]
    return out
