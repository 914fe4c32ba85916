"""Replenishment recommendations over HTTP: computed on request, not stored, but each one is
an event on the log (``replenishment.recommended`` v1) so that the ERP's adapter can take it.

``planning:write`` asks for one (planners, operations managers); the reads behind it are the
caller's own (their reach over inventory, orders and shipments).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from supplyline import planning
from supplyline.api import idempotency
from supplyline.api.deps import requires, services
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

PLANNING_WRITE = requires("planning", Action.WRITE)
router = APIRouter()


@router.post(
    "/replenishment/recommendations",
    status_code=200,
    tags=["planning"],
    summary="Recommend an order for a product at a site: safety stock, reorder point, reasons",
    description=(
        "Sellable stock is on hand less held and allocated; open purchase orders count as on "
        "order. Demand and lead time come from the site's history unless given. Safety stock is "
        "z·sqrt(L·sd_d² + d²·sd_L²), or a quantile of bootstrapped lead-time demand for "
        "intermittent items. The recommendation is published as `replenishment.recommended`."
    ),
    responses={404: {"description": "No such product or site in the caller's reach"}},
    dependencies=[idempotency.IDEMPOTENT],
)
async def post_recommendation(
    request: Request,
    body: planning.RecommendationRequest,
    scope: Scope = PLANNING_WRITE,
    svc: Services = Depends(services),
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await planning.recommend_and_publish(uow, scope, body)

    return await idempotency.write(request, svc, scope, action, status_code=200)
