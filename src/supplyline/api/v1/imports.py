"""POST /v1/imports: an onboarding document in, every record created or none.

Errors name the row as a path into the body (``assets.17.site`` is the 18th asset), like every
other problem+json error of the API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from starlette.responses import Response

from supplyline.api import idempotency
from supplyline.api.deps import requires, services
from supplyline.bootstrap import Services
from supplyline.kernel.errors import Invalid
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.onboarding import document_from_json, import_in

router = APIRouter(prefix="/imports", tags=["imports"])

EXAMPLE = {
    "sites": [{"code": "DC-LYON", "name": "Lyon DC", "kind": "warehouse", "region": "EU"}],
    "zones": [{"site": "DC-LYON", "code": "CHILL-1", "name": "Chilled 1", "kind": "chilled"}],
    "assets": [{"code": "TRL-1", "name": "Reefer 1", "asset_type": "reefer", "site": "DC-LYON"}],
    "devices": [{"code": "trk-001", "kind": "tracker", "device_profile": "reefer-tracker", "asset": "TRL-1"}],
}


@router.post(
    "",
    status_code=201,
    summary="Import an onboarding document",
    description="Sections (organizations, regions, sites, zones, asset_types, assets, "
    "device_profiles, devices, products, lots, ...) of rows that refer to each other by code, "
    'e.g. `"site": "DC-LYON"`; the `site_id` form with a UUID also works. All rows are '
    "created in one transaction, or none: a 422 lists every refused row and field.",
    responses={201: {"description": "Rows created per section"}, 422: {"description": "Refused rows"}},
    dependencies=[idempotency.IDEMPOTENT],
)
async def import_(
    request: Request,
    document: dict[str, Any] = Body(..., openapi_examples={"onboarding": {"value": EXAMPLE}}),
    scope: Scope = requires("imports", Action.WRITE),
    svc: Services = Depends(services),
) -> Response:
    doc = document_from_json(document)

    async def action(uow: UnitOfWork) -> dict[str, Any]:
        report = await import_in(uow, svc.resources, scope, doc)
        if not report.ok:
            raise Invalid.many([e.as_field_error(zero_based=True) for e in report.errors])
        return {"created": report.created, "rows": report.rows}

    return await idempotency.write(request, svc, scope, action)
