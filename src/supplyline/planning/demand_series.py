"""Reading a demand series: daily or weekly, zero-filled, from the stored daily demand.

Where a day has both an imported quantity and one seen on the event log, the imported one wins:
a planner loads history to state what demand was (cleaned of stock-outs, say), so it is not added
to what the platform saw.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.planning.tables import planning_demand

GRAINS = ("day", "week")


def period_start(day: date, grain: str) -> date:
    """The first day of the period holding ``day``; weeks start on Monday (ISO 8601)."""
    return day if grain == "day" else day - timedelta(days=day.weekday())


def periods(start: date, end: date, grain: str) -> list[date]:
    """Period starts from the one holding ``start`` to the one holding ``end``, inclusive."""
    step = timedelta(days=1 if grain == "day" else 7)
    out, p = [], period_start(start, grain)
    while p <= end:
        out.append(p)
        p += step
    return out


async def daily_demand(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    product_ids: Sequence[uuid.UUID],
    site_ids: Sequence[uuid.UUID],
    start: date,
    end: date,
) -> dict[date, float]:
    """Demand per day over the products and sites given (summed: a hierarchy node is the sum of
    its leaves), imported figures winning over seen ones day by day per product and site."""
    d = planning_demand
    stmt = select(d.c.product_id, d.c.site_id, d.c.day, d.c.source, d.c.quantity).where(
        d.c.tenant_id == tenant_id,
        d.c.product_id.in_(list(product_ids)),
        d.c.site_id.in_(list(site_ids)),
        d.c.day >= start,
        d.c.day <= end,
    )
    cells: dict[tuple[uuid.UUID, uuid.UUID, date], dict[str, float]] = {}
    for product_id, site_id, day, source, quantity in (await conn.execute(stmt)).all():
        cells.setdefault((product_id, site_id, day), {})[source] = float(quantity)
    out: dict[date, float] = {}
    for (_, _, day), by_source in cells.items():
        q = by_source["import"] if "import" in by_source else sum(by_source.values())
        out[day] = out.get(day, 0.0) + q
    return out


async def imported_days(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    product_id: uuid.UUID,
    site_id: uuid.UUID,
    start: date,
    end: date,
) -> dict[date, float]:
    """The days of one series that imported history covers, with their quantities."""
    d = planning_demand
    stmt = select(d.c.day, d.c.quantity).where(
        d.c.tenant_id == tenant_id,
        d.c.product_id == product_id,
        d.c.site_id == site_id,
        d.c.source == "import",
        d.c.day >= start,
        d.c.day <= end,
    )
    return {day: float(q) for day, q in (await conn.execute(stmt)).all()}


async def demand_series(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    product_ids: Sequence[uuid.UUID],
    site_ids: Sequence[uuid.UUID],
    *,
    grain: str,
    start: date,
    end: date,
) -> list[tuple[date, float]]:
    """``(period start, quantity)`` for every period from ``start`` to ``end``, gaps as zeros.
    Callers check the caller's reach over the products and sites first."""
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}")
    by_day = await daily_demand(conn, tenant_id, product_ids, site_ids, start, end)
    totals = dict.fromkeys(periods(start, end, grain), 0.0)
    for day, q in by_day.items():
        totals[period_start(day, grain)] += q
    return sorted(totals.items())
