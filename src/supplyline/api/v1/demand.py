"""Demand over HTTP: import history in the long format (JSON rows or a CSV body) and read a
zero-filled daily or weekly series for a product or category at sites or a region.

``planning:write`` imports, ``planning:read`` reads; products and sites are those the caller
reaches, and one out of reach answers like one that does not exist.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from supplyline import planning
from supplyline.api import idempotency
from supplyline.api.deps import JSON, requires, services
from supplyline.bootstrap import Services
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Invalid
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

router = APIRouter(tags=["planning"])

_ROW = {
    "type": "object",
    "required": ["unique_id", "ds", "y"],
    "properties": {
        "unique_id": {"type": "string", "minLength": 3, "maxLength": 200, "description": "<sku>@<site code>"},
        "ds": {"type": "string", "format": "date"},
        "y": {"type": "number", "minimum": 0},
    },
}
_JSON_BODY = {
    "type": "object",
    "required": ["rows"],
    "properties": {
        "rows": {"type": "array", "items": _ROW, "minItems": 1, "maxItems": planning.MAX_DEMAND_ROWS},
        "mode": {"type": "string", "enum": list(planning.DEMAND_IMPORT_MODES), "default": "upsert"},
        "filename": {"type": ["string", "null"], "maxLength": 255},
    },
}
EXAMPLE = {"rows": [{"unique_id": "SKU-1@DC-LYON", "ds": "2026-11-30", "y": 12}]}


def _records(
    request: Request, body: bytes, mode: str, filename: str | None
) -> tuple[list[dict[str, Any]], str, str | None, Any]:
    """(rows, mode, filename, where) from a JSON document or a CSV body; the JSON document's
    own ``mode`` and ``filename`` win over the query's."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "text/csv":
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid("body", "a CSV body must be UTF-8") from None
        return planning.csv_records(text), mode, filename, planning.csv_where
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise Invalid("body", "is not JSON (send application/json, or text/csv)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
        raise Invalid("rows", "is required: a list of {unique_id, ds, y}")
    rows = [r if isinstance(r, dict) else {} for r in doc["rows"]]
    mode, filename = doc.get("mode", mode), doc.get("filename", filename)
    if not isinstance(mode, str):
        raise Invalid("mode", f"must be one of {', '.join(planning.DEMAND_IMPORT_MODES)}")
    if filename is not None and not isinstance(filename, str):
        raise Invalid("filename", "must be a string of at most 255 characters")
    return rows, mode, filename, planning.json_where


@router.post(
    "/demand-history",
    status_code=201,
    summary="Import demand history (long format: unique_id, ds, y)",
    description=(
        "Rows of `unique_id` (`<sku>@<site code>`), `ds` (an ISO date) and `y` (a finite number "
        "at least 0), as JSON `{rows, mode?, filename?}` or a `text/csv` body with those columns "
        "(`?mode=` and `?filename=` then). Every row is checked first: a 422 lists every bad row "
        "(`rows.<i>.<field>` for JSON, `row <line>.<field>` for CSV) and nothing is written. "
        f"At most {planning.MAX_DEMAND_ROWS} rows. Imported days win over the demand seen on "
        "the event log. `mode=replace` drops the named series' earlier imported days first."
    ),
    responses={
        201: {"description": "Imported: rows, series, first and last day"},
        413: {"description": "Larger than SUPPLYLINE_MAX_BODY_BYTES"},
        422: {"description": "Refused whole: every bad row, its field and the reason"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _JSON_BODY, "example": EXAMPLE},
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "unique_id,ds,y\nSKU-1@DC-LYON,2026-11-30,12\n",
                },
            },
        }
    },
    dependencies=[idempotency.IDEMPOTENT],
)
async def import_history(
    request: Request,
    mode: Literal["upsert", "replace"] = Query("upsert", description="For a CSV body (JSON: `mode`)"),
    filename: str | None = Query(None, max_length=255, description="For a CSV body: kept on the import"),
    scope: Scope = requires("planning", Action.WRITE),
    svc: Services = Depends(services),
) -> Response:
    rows, chosen, name, where = _records(request, await request.body(), mode, filename)

    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await planning.import_demand(uow, scope, rows, where=where, filename=name, mode=chosen)

    return await idempotency.write(request, svc, scope, action)


@router.get(
    "/demand",
    summary="A demand series: daily or weekly, zero-filled, summed over products and sites",
    description=(
        "Name the products (`product`, repeatable, or `category`: the products whose "
        "`attributes.category` it is) and the sites (`site`, repeatable, or `region`: its sites "
        "in reach). Each day is the imported figure where one was imported, else what the event "
        "log showed; weeks start on Monday. Default: the 90 days to today."
    ),
    responses={404: {"description": "No such product, category, site or region in the caller's reach"}},
)
async def get_demand(
    product: list[uuid.UUID] = Query([], max_length=100, description="Product id (repeatable)"),
    category: str | None = Query(None, min_length=1, max_length=100),
    site: list[uuid.UUID] = Query([], max_length=100, description="Site id (repeatable)"),
    region: uuid.UUID | None = Query(None),
    grain: Literal["day", "week"] = Query("day"),
    start: date | None = Query(None, description="First day (default: 89 days before end)"),
    end: date | None = Query(None, description="Last day (default: today)"),
    scope: Scope = requires("planning", Action.READ),
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        out = await planning.read_demand(
            conn,
            scope,
            products=product,
            category=category,
            sites=site,
            region=region,
            grain=grain,
            start=start,
            end=end,
            today=utcnow().date(),
        )
    return JSON(out)
