"""POST /v1/imports: an onboarding document in, every record created or none.

Errors name the row as a path into the body (``assets.17.site`` is the 18th asset), like every
other problem+json error of the API. A ``text/csv`` body is one section (``?kind=sites``, or a
``kind`` column) read by the same parser as ``supplyline import``; its errors name the file's
line instead (``sites.3.code`` is line 3, the header being line 1).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from supplyline.api import idempotency
from supplyline.api.deps import requires, services
from supplyline.bootstrap import Services
from supplyline.kernel.errors import Invalid
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.onboarding import ImportDocument, document_from_csv, document_from_json, import_in

router = APIRouter(prefix="/imports", tags=["imports"])

EXAMPLE = {
    "sites": [{"code": "DC-LYON", "name": "Lyon DC", "kind": "warehouse", "region": "EU"}],
    "zones": [{"site": "DC-LYON", "code": "CHILL-1", "name": "Chilled 1", "kind": "chilled"}],
    "assets": [{"code": "TRL-1", "name": "Reefer 1", "asset_type": "reefer", "site": "DC-LYON"}],
    "devices": [{"code": "trk-001", "kind": "tracker", "device_profile": "reefer-tracker", "asset": "TRL-1"}],
}
CSV_EXAMPLE = "code,name,kind,region\nDC-LYON,Lyon DC,warehouse,EU\n"
SECTION = r"^[a-z][a-z_]{0,63}$"


def _document(request: Request, body: bytes, kind: str | None) -> tuple[ImportDocument, bool]:
    """The document of a JSON or CSV body, and whether its rows are numbered by line (CSV)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "text/csv":
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid("body", "a CSV body must be UTF-8") from None
        return document_from_csv(text, kind=kind), True
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise Invalid("body", "is not JSON (send application/json, or text/csv)") from None
    if not isinstance(data, dict):
        raise Invalid("body", "expected an object whose keys are sections")
    return document_from_json(data), False


@router.post(
    "",
    status_code=201,
    summary="Import an onboarding document",
    description="Sections (organizations, regions, sites, zones, asset_types, assets, "
    "device_profiles, devices, products, lots, ...) of rows that refer to each other by code, "
    'e.g. `"site": "DC-LYON"`; the `site_id` form with a UUID also works. All rows are '
    "created in one transaction, or none: a 422 lists every refused row and field "
    "(`<section>.<index>.<field>`). A `text/csv` body is one section, named by `?kind=` or by "
    "a `kind` column, parsed as `supplyline import` parses a CSV file; its errors name the "
    "line (`<section>.<line>.<field>`, the header being line 1).",
    responses={
        201: {"description": "Rows created per section"},
        413: {"description": "Larger than SUPPLYLINE_MAX_BODY_BYTES"},
        422: {"description": "Refused whole: every refused row, its field and the reason"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}, "example": EXAMPLE},
                "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
            },
        }
    },
    dependencies=[idempotency.IDEMPOTENT],
)
async def import_(
    request: Request,
    kind: str | None = Query(None, pattern=SECTION, description="For a CSV body: the section of its rows"),
    scope: Scope = requires("imports", Action.WRITE),
    svc: Services = Depends(services),
) -> Response:
    doc, by_line = _document(request, await request.body(), kind)

    async def action(uow: UnitOfWork) -> dict[str, Any]:
        report = await import_in(uow, svc.resources, scope, doc)
        if not report.ok:
            raise Invalid.many([e.as_field_error(zero_based=not by_line) for e in report.errors])
        return {"created": report.created, "rows": report.rows}

    return await idempotency.write(request, svc, scope, action)
