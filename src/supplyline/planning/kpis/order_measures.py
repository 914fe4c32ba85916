"""Measures over outbound orders: fill rate (units) and OTIF (orders, judged one by one).

OTIF is counted per order, on time AND in full together, never as the on-time share times the
in-full share: an order late but complete and one on time but short are both failures, and the
product of two shares would credit them half each.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics
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
