"""Planner overrides of the forecast over HTTP, and what they were worth (forecast value added).

An override never changes the statistical forecast: it is kept beside it, withdrawn (DELETE)
rather than deleted, and stops applying at ``expires_at``. ``planning:write`` makes and withdraws
them; ``planning:read`` lists them and reads FVA. A product or site outside the caller's reach
is a 404, like replenishment's.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from supplyline import planning
from supplyline.api import idempotency
from supplyline.api.deps import JSON, requires, services
from supplyline.api.pagination import PAGE, PageQuery
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

PLANNING_READ = requires("planning")
PLANNING_WRITE = requires("planning", Action.WRITE)
NOT_REACHED: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such product, site or override in the caller's reach"}
}
router = APIRouter(tags=["planning"])


@router.post(
    "/forecast-overrides",
    status_code=201,
    summary="Override the forecast of a product at a site over a range of days, with a reason",
    description=(
        "`set` replaces the statistical daily quantity, `delta` adds to it, `percent` scales it. "
        "The statistical forecast is kept; the override is published as "
        "`forecast.override_created` and stops applying at `expires_at` (default: the day "
        "after `ends_on`). Reason codes: "
        + ", ".join(f"`{k}` ({v})" for k, v in planning.REASON_CODES.items())
        + "."
    ),
    responses=NOT_REACHED,
    dependencies=[idempotency.IDEMPOTENT],
)
async def post_override(
    request: Request,
    body: planning.OverrideRequest,
    scope: Scope = PLANNING_WRITE,
    svc: Services = Depends(services),
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await planning.create_override(uow, scope, body)

    return await idempotency.write(request, svc, scope, action, status_code=201)


@router.get(
    "/forecast-overrides",
    summary="Forecast overrides the caller reaches, newest first",
    description="`active=true`: only those that apply now; `false`: only withdrawn or expired ones.",
)
async def list_overrides(
    product: uuid.UUID | None = Query(None, description="Only this product's"),
    site: uuid.UUID | None = Query(None, description="Only this site's"),
    active: bool | None = Query(None, description="Only those applying now (true) or not (false)"),
    page_: PageQuery = PAGE,
    scope: Scope = PLANNING_READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        found = await planning.list_overrides(
            conn,
            scope,
            product_id=product,
            site_id=site,
            active=active,
            cursor=page_.cursor,
            limit=page_.limit,
        )
    return JSON({"items": found.items, "next_cursor": found.next_cursor})


@router.get(
    "/forecast-overrides/value-added",
    summary="Forecast value added of the overrides: statistical against final forecast error",
    description=(
        "Over the complete periods from `start` to `end`, each judged by the latest forecast run "
        "started before the period, with the overrides as they stood at that run: MAE and WAPE "
        "(percent) of the statistical and the final forecast, FVA = WAPE(statistical) - "
        "WAPE(final) in points (positive: the overrides helped), per reason code too."
    ),
    responses=NOT_REACHED,
)
async def value_added(
    product: uuid.UUID = Query(description="The product"),
    site: uuid.UUID = Query(description="The site"),
    start: date = Query(description="First day (its period's start); 1970-01-01 to 2999-12-31"),
    end: date = Query(description="Last day; at most 1096 days after start"),
    grain: str = Query("day", pattern="^(day|week)$", description="Periods: day, or ISO week"),
    scope: Scope = PLANNING_READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        out = await planning.forecast_value_added(
            conn, scope, product, site, start=start, end=end, grain=grain
        )
    return JSON(out)


@router.get("/forecast-overrides/{id}", summary="One forecast override", responses=NOT_REACHED)
async def get_override(
    id: uuid.UUID, scope: Scope = PLANNING_READ, svc: Services = Depends(services)
) -> Response:
    async with svc.read_engine.connect() as conn:
        return JSON(await planning.get_override(conn, scope, id))


@router.delete(
    "/forecast-overrides/{id}",
    summary="Withdraw a forecast override (it is kept, marked withdrawn)",
    description="Published as `forecast.override_withdrawn`; 409 when it was already withdrawn.",
    responses={**NOT_REACHED, 409: {"description": "Already withdrawn"}},
    dependencies=[idempotency.IDEMPOTENT],
)
async def withdraw_override(
    id: uuid.UUID, request: Request, scope: Scope = PLANNING_WRITE, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await planning.withdraw_override(uow, scope, id)

    return await idempotency.write(
        request, svc, scope, action, status_code=200, audit_action="forecast_overrides.withdraw"
    )
