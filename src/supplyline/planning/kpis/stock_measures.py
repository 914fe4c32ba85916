"""Measures over stock: days of supply and inventory turns, per product at each site.

The platform keeps today's inventory positions, not their history, so the inventory of a past
day is rebuilt from today's by undoing the movements since: add back what left, take out what
arrived. Days of supply divides today's sellable stock by the period's average daily demand.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
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
    """Per product, site and day: today's sellable stock (numerator) and that day's outbound
    units (denominator); both are averaged over the period's days."""
    stock = {(s.product_id, s.site_id): s.sellable for s in await logistics.site_stock(conn, scope)}
    moves = await logistics.outbound_movements(conn, scope, window.start, window.end)
    demand: dict[Key, dict[date, float]] = defaultdict(dict)
    for (product, site, day), q in moves.items():
        demand[(product, site)][day] = q
    out = []
    for key in stock.keys() | demand.keys():
        sellable, by_day = stock.get(key, 0.0), demand.get(key, {})
        d = dims(product=key[0], site=key[1])
        out += [Fact(day, sellable, by_day.get(day, 0.0), d) for day in window.days()]
    return out


async def inventory_turns(
    conn: AsyncConnection, scope: Scope, window: Window, params: Mapping[str, Any]
) -> list[Fact]:
    """Per product, site and day: the units that left (numerator) and the on-hand inventory at
    the end of the day (denominator, averaged over the period's days)."""
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
        level = on_hand.get(key, 0.0)
        # Walk back from today: the level at the end of a day is the next day's less its change.
        levels: dict[date, float] = {}
        later = sorted((d for d in changes if d > window.end), reverse=True)
        level -= sum(changes[d] for d in later if d <= today)
        for day in reversed(list(window.days())):
            levels[day] = max(0.0, level)
            level -= changes.get(day, 0.0)
        d = dims(product=key[0], site=key[1])
        out += [Fact(day, outbound.get((*key, day), 0.0), levels[day], d) for day in window.days()]
    return out
