"""The EPCIS 2.0 query interface: ``GET /v1/epcis/events`` with the SimpleEventQuery parameters.

The parameters are read from the raw query string (their names are open-ended, such as
``EQ_bizTransaction_po``, and lists are ``|``-separated), so the route declares them for the
OpenAPI document by hand; ``supplyline.epcis.query`` is where they are understood.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from supplyline import epcis
from supplyline.api.deps import JSON, requires, services
from supplyline.bootstrap import Services
from supplyline.kernel.clock import utcnow
from supplyline.kernel.scope import Scope

router = APIRouter()
EPCIS_READ = requires("epcis")
LD_JSON = "application/ld+json"


def _param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string", "maxLength": 2000},
    }


def _enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


_LIST = "; a list is separated by '|'"
PARAMETERS = [
    _param(
        "eventType",
        "ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent" + _LIST,
    ),
    *(
        _param(n, "A date-time with a UTC offset: 2026-03-01T08:00:00+01:00")
        for n in ("GE_eventTime", "LT_eventTime", "GE_recordTime", "LT_recordTime")
    ),
    _param("EQ_action", "ADD, OBSERVE or DELETE" + _LIST),
    _param("EQ_bizStep", "CBV business step, bare, cbv:, URN or URI form" + _LIST),
    _param("EQ_disposition", "CBV disposition, bare, cbv:, URN or URI form" + _LIST),
    *(
        _param(n, "Location (EPC URN, Digital Link or urn:uuid of a region, site or zone)" + _LIST)
        for n in ("EQ_readPoint", "WD_readPoint", "EQ_bizLocation", "WD_bizLocation")
    ),
    *(
        _param(n, "Identifiers or EPC patterns (urn:epc:idpat:...:*), URN or Digital Link" + _LIST)
        for n in epcis.MATCH_PARAMETERS
    ),
    _param("EQ_eventID", "Event IDs" + _LIST),
    _param("EXISTS_errorDeclaration", "Only error declarations (no value)"),
    _param(
        "orderBy",
        "eventTime or recordTime (default: record order)",
        {"type": "string", "enum": ["eventTime", "recordTime"]},
    ),
    _param(
        "orderDirection",
        "ASC or DESC (default DESC with orderBy)",
        {"type": "string", "enum": ["ASC", "DESC"]},
    ),
    _param("eventCountLimit", "At most this many events in all pages", {"type": "integer", "minimum": 1}),
    _param(
        "perPage",
        "Events per page",
        {"type": "integer", "minimum": 1, "maximum": epcis.PER_PAGE_MAX, "default": epcis.PER_PAGE_DEFAULT},
    ),
    _param("nextPageToken", "The token of the previous page: it carries the query, so it may be sent alone"),
]
DESCRIPTION = (
    "The SimpleEventQuery of the EPCIS 2.0 REST binding over this tenant's events, captured and "
    "the platform's own. Also EQ_bizTransaction_<type>, EQ_source_<type> and EQ_destination_<type>. "
    "Identifiers match in EPC URN and GS1 Digital Link form alike. An unknown parameter or a "
    "malformed value answers 400 (epcisException:QueryParameterException) naming it."
)


def _next_link(request: Request, token: str, per_page: int) -> str:
    url = request.url.replace_query_params(nextPageToken=token, perPage=str(per_page))
    return f'<{url}>; rel="next"'


@router.get(
    "/epcis/events",
    tags=["epcis"],
    summary="Query EPCIS events (EPCIS 2.0 SimpleEventQuery): an EPCISQueryDocument",
    description=DESCRIPTION,
    responses={
        400: {"description": "An unknown query parameter or a malformed value, named in errors"},
        422: {"description": "A NUL character in the query string (refused before the query is read)"},
    },
    openapi_extra={"parameters": PARAMETERS},
)
async def query_events(
    request: Request, scope: Scope = EPCIS_READ, svc: Services = Depends(services)
) -> Response:
    async with svc.read_engine.connect() as conn:
        page = await epcis.search_events(conn, scope, request.query_params.multi_items())
    headers: dict[str, str] = {}
    if page.next_token is not None:
        headers["Link"] = _next_link(request, page.next_token, page.per_page)
    media = LD_JSON if LD_JSON in request.headers.get("accept", "") else JSON.media_type
    return JSON(epcis.query_document(page, utcnow()), headers=headers, media_type=media)
