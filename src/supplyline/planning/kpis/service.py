"""Computing a KPI for a caller: the one path the API and the export command both take.

The definition says what to count and who may see it; the measure reads the rows through the
caller's scope, so a carrier's OTIF or excursion rate counts its own shipments only; the shared
aggregation turns facts into values per period with their numerator and denominator.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.errors import Invalid, NotFound
from supplyline.kernel.scope import Scope
from supplyline.planning.kpis.catalog import KpiCatalog, KpiDefinition, packaged_catalog
from supplyline.planning.kpis.facts import DIMENSIONS, Dimension, Grain, Window, aggregate
from supplyline.planning.kpis.measures import MEASURES

MAX_DAYS = 3 * 366  # a longer window is an export of raw rows, not a KPI
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)


class KpiQuery(BaseModel):
    """What a caller asks of one KPI: the window (both days included, UTC), the grain, the
    definition version (latest when not given), filters by dimension and one grouping."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: date
    end: date
    grain: Grain = "total"
    version: int | None = Field(default=None, ge=1, le=1000)
    product: uuid.UUID | None = None
    site: uuid.UUID | None = None
    customer: uuid.UUID | None = None
    carrier: uuid.UUID | None = None
    asset: uuid.UUID | None = None
    group_by: Dimension | None = None

    def filters(self) -> dict[str, uuid.UUID]:
        return {d: v for d in DIMENSIONS if (v := getattr(self, d)) is not None}


def kpi_definitions(scope: Scope, catalog: KpiCatalog | None = None) -> list[dict[str, Any]]:
    """Every version of every KPI the caller may compute (the latest marked current)."""
    catalog = catalog or packaged_catalog()
    out = []
    for name in catalog.names():
        versions = catalog.versions(name)
        if all(scope.can(p) for p in versions[-1].permissions):
            out += [d.view(current=d is versions[-1]) for d in versions]
    return out


def _definition(catalog: KpiCatalog, name: str, query: KpiQuery, scope: Scope) -> KpiDefinition:
    latest = catalog.find(name)
    if latest is None:
        raise NotFound(f"no KPI {name!r}; there are {', '.join(catalog.names())}")
    for permission in latest.permissions:
        scope.require(permission)
    found = catalog.find(name, query.version)
    if found is None:
        known = ", ".join(str(d.version) for d in catalog.versions(name))
        raise Invalid("version", f"{name} has no version {query.version}; it has {known}")
    return found


def check_query(definition: KpiDefinition, query: KpiQuery) -> Window:
    """The window, once every parameter fits the definition (422 naming the first that does not)."""
    for field, day in (("start", query.start), ("end", query.end)):
        if not EARLIEST <= day <= LATEST:
            raise Invalid(field, f"must be between {EARLIEST} and {LATEST}")
    if query.end < query.start:
        raise Invalid("end", "is before start")
    if (query.end - query.start).days + 1 > MAX_DAYS:
        raise Invalid("end", f"the window may span at most {MAX_DAYS} days")
    if query.grain not in definition.grains:
        raise Invalid("grain", f"{definition.name} is given by {', '.join(definition.grains)}")
    allowed = ", ".join(definition.dimensions) or "nothing"
    for dim in query.filters():
        if dim not in definition.dimensions:
            raise Invalid(dim, f"{definition.name} cannot be filtered by {dim}; it can be by {allowed}")
    if query.group_by is not None and query.group_by not in definition.dimensions:
        raise Invalid(
            "group_by", f"{definition.name} cannot be grouped by {query.group_by}; it can be by {allowed}"
        )
    return Window(query.start, query.end)


async def kpi_values(
    conn: AsyncConnection, scope: Scope, name: str, query: KpiQuery, catalog: KpiCatalog | None = None
) -> dict[str, Any]:
    """The KPI's values per period (and group), each with its numerator and denominator, over
    the rows the caller reaches, with the definition version that made them."""
    scope.require_tenant()
    definition = _definition(catalog or packaged_catalog(), name, query, scope)
    window = check_query(definition, query)
    measure = MEASURES[definition.measure]
    facts = await measure.compute(conn, scope, window, definition.params)
    points = aggregate(
        facts,
        window,
        query.grain,
        query.filters(),
        query.group_by,
        definition.numerator_aggregate,
        definition.denominator_aggregate,
        definition.scale,
    )
    return {
        "kpi": definition.name,
        "version": definition.version,
        "title": definition.title,
        "unit": definition.unit,
        "direction": definition.direction,
        "numerator": definition.numerator,
        "denominator": definition.denominator,
        "grain": query.grain,
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "filters": {k: str(v) for k, v in query.filters().items()},
        "group_by": query.group_by,
        "points": points,
    }
