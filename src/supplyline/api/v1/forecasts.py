"""Forecasts over HTTP: the latest forecast of a product at a site with its 80% and 95% bands
and the provenance of the run that made it, and a run on demand.

Reading needs ``planning:read`` and reach over the product and the site; a run on demand needs
``planning:write``. Runs also happen on the schedule and when an event (a hold, a late or lost
shipment, a demand spike) moves the series.
"""

from __future__ import annotations

import uuid
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

PLANNING_READ = requires("planning", Action.READ)
PLANNING_WRITE = requires("planning", Action.WRITE)
router = APIRouter()
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such product or site in the caller's reach, or no forecast of it yet"}
}


@router.get(
    "/forecasts",
    tags=["planning"],
    summary="The latest forecast of a product at a site, with bands and provenance",
    description=(
        "Points per period (day or ISO week, Monday first) after the input window: mean, 80% and "
        "95% bands. `run` says how it was made: demand class (ADI, CV²), model and fitted "
        "parameters, library version, input window and its sha256 fingerprint, the backtest that "
        "chose the model, what triggered the run and how long it took."
    ),
    responses=NOT_FOUND,
)
async def get_forecast(
    product: uuid.UUID = Query(description="The product's id"),
    site: uuid.UUID = Query(description="The site's id"),
    grain: planning.GrainName = Query("day", description="day or week"),
    scope: Scope = PLANNING_READ,
    svc: Services = Depends(services),
) -> JSON:
    async with svc.read_engine.connect() as conn:
        return JSON(await planning.get_forecast(conn, scope, product, site, grain))


@router.get(
    "/forecasts/runs",
    tags=["planning"],
    summary="The forecast runs of a product at a site, newest first",
    description=(
        "Each run's provenance without its points: demand class, model and parameters, library, "
        "input window and fingerprint, backtest, trigger (`schedule`, `request` or the event type, "
        "with the event's id) and duration. `trigger=lot.held` finds the runs a hold caused even "
        "when later runs (a demand spike, the schedule) came after them."
    ),
    responses={404: {"description": "No such product or site in the caller's reach"}},
)
async def list_runs(
    product: uuid.UUID = Query(description="The product's id"),
    site: uuid.UUID = Query(description="The site's id"),
    grain: planning.GrainName = Query("day", description="day or week"),
    trigger: str | None = Query(
        None, min_length=1, max_length=100, description="Only runs with this trigger"
    ),
    page_: PageQuery = PAGE,
    scope: Scope = PLANNING_READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        found = await planning.list_runs(
            conn, scope, product, site, grain, trigger=trigger, cursor=page_.cursor, limit=page_.limit
        )
    return JSON({"items": found.items, "next_cursor": found.next_cursor})


@router.post(
    "/forecasts/runs",
    status_code=201,
    tags=["planning"],
    summary="Forecast a product at a site now",
    description="Fits the series as the schedule would and stores the run (trigger `request`).",
    responses=NOT_FOUND,
    dependencies=[idempotency.IDEMPOTENT],
)
async def post_run(
    request: Request,
    body: planning.ForecastRunRequest,
    scope: Scope = PLANNING_WRITE,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        fitted = await planning.fit_run(conn, scope, body, svc.forecaster, svc.clock().date())

    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await planning.save_run(uow.conn, scope, fitted)

    return await idempotency.write(request, svc, scope, action)
