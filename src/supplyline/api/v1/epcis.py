"""The EPCIS 2.0 capture interface over HTTP: POST a document, GET the capture job.

Capture validates and stores in the request, so the job is finished when the answer leaves:
``202 Accepted`` with ``Location: /v1/epcis/capture/{captureID}`` and the job as the body. A
refused document answers at once (422 naming ``eventList[i].field`` for each fault, 409 for
eventIDs already held: the standard's capture interface allows both), stores nothing, and still
leaves a job with ``success: false`` and the same errors, whose id the problem carries as
``captureID``. (The query routes are in ``api/v1/epcis_query.py``.)
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body, Depends, Path, Request
from pydantic import BaseModel
from starlette.responses import Response

from supplyline import epcis
from supplyline.api import idempotency
from supplyline.api.deps import JSON, requires, services
from supplyline.api.middleware import correlation_id
from supplyline.api.pagination import PAGE, PageQuery
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

router = APIRouter(prefix="/epcis", tags=["epcis"])
CAPTURE, READ = requires("epcis", Action.WRITE), requires("epcis")


class CaptureError(BaseModel):
    """Member names are the standard's (camelCase)."""

    eventIndex: int | None
    field: str
    reason: str


class CaptureJob(BaseModel):
    captureID: str
    createdAt: str
    finishedAt: str | None
    running: bool
    success: bool | None
    captureErrorBehaviour: str
    eventCount: int
    errors: list[CaptureError]


class CaptureJobPage(BaseModel):
    items: list[CaptureJob]
    next_cursor: str | None


EXAMPLE = {
    "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
    "type": "EPCISDocument",
    "schemaVersion": "2.0",
    "creationDate": "2026-03-01T08:00:00Z",
    "epcisBody": {
        "eventList": [
            {
                "type": "ObjectEvent",
                "eventTime": "2026-03-01T08:00:00+01:00",
                "eventTimeZoneOffset": "+01:00",
                "epcList": ["urn:epc:id:sgtin:4012345.011111.1001"],
                "action": "OBSERVE",
                "bizStep": "shipping",
                "disposition": "in_transit",
                "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"},
            }
        ]
    },
}
BODY_MEDIA = {"application/json", "application/ld+json"}
_DOCUMENT_SCHEMA = {
    "type": "object",
    "description": "An EPCISDocument (`epcisBody.eventList`) or a single EPCIS 2.0 event",
}


@router.post(
    "/capture",
    status_code=202,
    response_model=CaptureJob,
    summary="Capture EPCIS 2.0 events",
    description="An EPCISDocument in JSON or JSON-LD (`application/json` or "
    "`application/ld+json`), or a single event: ObjectEvent, AggregationEvent, "
    "TransactionEvent, TransformationEvent or AssociationEvent. Every event is checked against "
    "the EPCIS 2.0 JSON structure and the CBV 2.0 vocabularies (a bizStep or disposition is a "
    "CBV term, bare, `cbv:` or as a URI, or a URI of your own namespace; ILMD and extension "
    "members carry a namespace of the `@context`) before anything is stored; one fault refuses "
    f"the whole document (422, every fault named as `eventList[i].field`). At most "
    f"{epcis.MAX_EVENTS} events per capture, and the body limit (SUPPLYLINE_MAX_BODY_BYTES). "
    "An eventID already held answers 409; an error declaration of an event is accepted once. "
    "The answer is the finished job; a refused capture leaves one too (`captureID` in the problem).",
    responses={
        202: {
            "description": "Captured: every event stored",
            "headers": {"Location": {"schema": {"type": "string"}, "description": "The capture job"}},
        },
        409: {"description": "An eventID already captured, or repeated in the document"},
        422: {"description": "The document is refused whole: every fault, as eventList[i].field"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": _DOCUMENT_SCHEMA, "example": EXAMPLE} for media in sorted(BODY_MEDIA)
            },
        }
    },
    dependencies=[idempotency.IDEMPOTENT],
)
async def capture(
    request: Request,
    document: dict[str, Any] = Body(...),
    scope: Scope = CAPTURE,
    svc: Services = Depends(services),
) -> Response:
    tenant_id = scope.require_tenant()

    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await epcis.capture(
            uow, tenant_id, document, actor=scope.actor, organization_id=scope.organization_id
        )

    def headers(job: dict[str, Any]) -> dict[str, str]:
        return {"Location": f"/v1/epcis/capture/{job['captureID']}"}

    try:
        return await idempotency.write(request, svc, scope, action, status_code=202, headers=headers)
    except (epcis.CaptureRefused, epcis.DuplicateEvents) as exc:
        async with svc.uow(correlation_id.get()) as uow:
            job = await epcis.record_refusal(
                uow, tenant_id, scope.actor, exc.event_errors, scope.organization_id
            )
            await uow.commit()
        exc.extensions = {"captureID": job["captureID"]}
        raise


@router.get("/capture", response_model=CaptureJobPage, summary="Capture jobs, newest first")
async def list_captures(
    page_: PageQuery = PAGE, scope: Scope = READ, svc: Services = Depends(services)
) -> Response:
    async with svc.read_engine.connect() as conn:
        found = await epcis.list_captures(conn, scope, cursor=page_.cursor, limit=page_.limit)
    return JSON({"items": found.items, "next_cursor": found.next_cursor})


@router.get(
    "/capture/{captureID}",
    response_model=CaptureJob,
    summary="A capture job: running, success, captureErrorBehaviour and errors",
)
async def get_capture(
    captureID: uuid.UUID = Path(description="The captureID a capture answered with"),
    scope: Scope = READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        return JSON(await epcis.get_capture(conn, scope, captureID))
