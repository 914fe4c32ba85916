"""KPIs over HTTP: the definitions, and one KPI's values per period for the caller's reach.

Which permission a KPI needs is part of its definition (the resources whose rows it counts):
a quality manager reading shipments and alarms gets the excursion KPIs without planning, a
carrier's OTIF counts its own shipments. So the route asks only for a tenant caller and the
service checks the definition's permissions.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from supplyline import planning
from supplyline.api.deps import current_scope, services
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Scope

router = APIRouter()


async def kpi_caller(scope: Scope = Depends(current_scope)) -> Scope:
    """A tenant's caller; the KPI's definition names the permissions it needs."""
    scope.require_tenant()
    return scope


kpi_caller.supplyline_scope = "kpis:read"  # type: ignore[attr-defined]
KPI_CALLER = Depends(kpi_caller)
NAME = Path(pattern=r"^[a-z][a-z0-9_]{1,47}$", description="The KPI's name, e.g. otif.")


@router.get(
    "/kpis",
    tags=["planning"],
    summary="KPI definitions: name, version, formula in words, unit, grains, dimensions",
    description=(
        "Every version of every KPI the caller may compute (the latest is `current`). A KPI is "
        "data: a definition names its measure, grains, dimensions and the permissions it needs."
    ),
)
async def list_kpis(scope: Scope = KPI_CALLER) -> dict[str, Any]:
    return {"items": planning.kpi_definitions(scope)}


@router.get(
    "/kpis/{name}",
    tags=["planning"],
    summary="One KPI's values per period, with numerator, denominator and definition version",
    description=(
        "Counts only the rows the caller reaches. `start` and `end` are days (UTC), both "
        "included; `grain` is day, week (ISO, from Monday), month or total; filter by the "
        "definition's dimensions and group by one of them. A period with nothing to count has "
        "a null value."
    ),
    responses={
        403: {"description": "The caller may not read the rows this KPI counts"},
        404: {"description": "No KPI of that name"},
    },
)
async def get_kpi(
    query: Annotated[planning.KpiQuery, Query()],
    name: str = NAME,
    scope: Scope = KPI_CALLER,
    svc: Services = Depends(services),
) -> dict[str, Any]:
    async with svc.read_engine.connect() as conn:
        return await planning.kpi_values(conn, scope, name, query)
