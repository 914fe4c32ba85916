"""Reading demand up the hierarchies: a product or a category of products, at a site, several
sites or a region's sites, summed into one zero-filled daily or weekly series, within the
caller's reach; and the spike test the re-forecast trigger asks of a series.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics, registry
from supplyline.kernel.errors import Invalid, NotFound
from supplyline.kernel.scope import Scope
from supplyline.planning.demand_series import GRAINS, demand_series

MAX_DAYS = 3_660  # ten years of days in one answer
DEFAULT_DAYS = 90
# Far enough either way for any history or plan, and clear of date.min/max (a week's step past
# the end must still be a date).
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


async def read_demand(
    conn: AsyncConnection,
    scope: Scope,
    *,
    products: Sequence[uuid.UUID] = (),
    category: str | None = None,
    sites: Sequence[uuid.UUID] = (),
    region: uuid.UUID | None = None,
    grain: str = "day",
    start: date | None = None,
    end: date | None = None,
    today: date,
) -> dict[str, Any]:
    """The summed series; 404 for a product, site or region the caller does not reach (the same
    answer as for one that does not exist)."""
    scope.require("planning")
    tenant_id = scope.require_tenant()
    if grain not in GRAINS:
        raise Invalid("grain", f"must be one of {', '.join(GRAINS)}")
    for name, value in (("start", start), ("end", end)):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise Invalid(name, f"must be between {EARLIEST} and {LATEST}")
    end = end or today
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise Invalid("start", "must not be after end")
    if (end - start).days >= MAX_DAYS:
        raise Invalid("start", f"at most {MAX_DAYS} days from start to end")
    product_ids = await _products(conn, scope, products, category)
    site_ids = await _sites(conn, scope, tenant_id, sites, region)
    points = await demand_series(conn, tenant_id, product_ids, site_ids, grain=grain, start=start, end=end)
    return {
        "grain": grain,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "products": sorted(str(p) for p in product_ids),
        "sites": sorted(str(s) for s in site_ids),
        "points": [{"ds": ds.isoformat(), "y": y} for ds, y in points],
        "total": sum(y for _, y in points),
    }


async def _products(
    conn: AsyncConnection, scope: Scope, products: Sequence[uuid.UUID], category: str | None
) -> list[uuid.UUID]:
    if bool(products) == (category is not None):
        raise Invalid("product", "give one or more product ids, or a category")
    if category is not None:
        found = await logistics.product_ids_in_category(conn, scope, category)
        if not found:
            raise NotFound(f"no product of category {category!r}")
        return found
    for product_id in dict.fromkeys(products):
        if await logistics.product_unit(conn, scope, product_id) is None:
            raise NotFound(f"no product {product_id}")
    return list(dict.fromkeys(products))


async def _sites(
    conn: AsyncConnection,
    scope: Scope,
    tenant_id: uuid.UUID,
    sites: Sequence[uuid.UUID],
    region: uuid.UUID | None,
) -> list[uuid.UUID]:
    if bool(sites) == (region is not None):
        raise Invalid("site", "give one or more site ids, or a region")
    if region is not None:
        members = (await registry.region_site_ids(conn, tenant_id, [region]))[region]
        reached = await registry.live_site_ids(conn, scope, sorted(members)) if members else set()
        if not reached:
            raise NotFound(f"no region {region} with a site in reach")
        return sorted(reached)
    wanted = list(dict.fromkeys(sites))
    reached = await registry.live_site_ids(conn, scope, wanted)
    for site_id in wanted:
        if site_id not in reached:
            raise NotFound(f"no site {site_id}")
    return wanted


def demand_spike(
    values: Sequence[float],
    *,
    window: int = 28,
    sigmas: float = 4.0,
    minimum: float = 5.0,
    min_history: int = 14,
) -> bool:
    """Whether the last value stands out of the ``window`` before it: above their mean by more
    than ``sigmas`` standard deviations and by at least ``minimum`` units (so a flat or sparse
    series does not fire on a unit or two). Too short a history (under ``min_history``) never
    fires: there is nothing yet to stand out of."""
    if len(values) < min_history + 1:
        return False
    last, trailing = float(values[-1]), [float(v) for v in values[-window - 1 : -1]]
    mean = statistics.fmean(trailing)
    sd = statistics.stdev(trailing) if len(trailing) > 1 else 0.0
    return last - mean > sigmas * sd and last - mean >= minimum
