"""The event log over HTTP: read (tenant-scoped), the schema registry, consumer status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from starlette.responses import Response

from supplyline import access, audit, eventlog
from supplyline.api.deps import JSON, PLATFORM, requires, services
from supplyline.api.pagination import PAGE, PageQuery
from supplyline.bootstrap import Services
from supplyline.kernel.errors import NotFound
from supplyline.kernel.events import StoredEvent
from supplyline.kernel.json import INT_MAX
from supplyline.kernel.scope import Scope
from supplyline.resources import redaction_for

router = APIRouter()
EVENTS_READ = requires("events")
EVENT_COUNTS = requires("events", whole_tenant=True)


class CloudEvent(BaseModel):
    specversion: str
    id: str
    source: str
    type: str
    subject: str
    time: str
    datacontenttype: str
    tenantid: str | None
    correlationid: str | None
    position: int
    data: dict[str, Any]


class EventPage(BaseModel):
    items: list[CloudEvent]
    next_cursor: str | None


class EventTypeInfo(BaseModel):
    type: str
    name: str
    version: int
    description: str
    schema_: dict[str, Any]


@router.get(
    "/events",
    response_model=EventPage,
    tags=["events"],
    summary="Read this tenant's events in log order (CloudEvents 1.0)",
)
async def list_events(
    after: int = Query(0, ge=0, le=INT_MAX, description="Only events after this log position"),
    type: list[str] = Query([], description="Only these event types (repeatable)"),
    subject: str | None = Query(None, description="Only events about this subject"),
    correlation_id: str | None = Query(None),
    page_: PageQuery = PAGE,
    scope: Scope = EVENTS_READ,
    svc: Services = Depends(services),
) -> Response:
    start = eventlog.EVENT_PAGES.start(page_.cursor)
    if start is not None:
        after = start[0]
    events = await read_visible(
        svc, scope, after, page_.limit + 1, type, subject=subject, correlation_id=correlation_id
    )
    found = eventlog.EVENT_PAGES.cut(events, page_.limit, lambda e: (e.position,))
    return JSON({"items": shown(svc, scope, found.items), "next_cursor": found.next_cursor})


async def read_visible(
    svc: Services,
    scope: Scope,
    after: int,
    limit: int,
    types: Sequence[str],
    *,
    subject: str | None = None,
    correlation_id: str | None = None,
) -> list[StoredEvent]:
    """The caller's events after ``after``: its tenant, its grants' visibility. The one read of
    the log for callers, shared by this route and the live stream (``/v1/stream``)."""
    # Audit entries are read through /v1/audit. Here a caller allowed to read the audit trail
    # sees them only when asking for their type: a key that follows the log (an integration)
    # would otherwise get every write twice. Other callers never see them.
    audit_shown = audit.AUDIT_RECORDED.type in types and scope.can("audit")
    async with svc.read_engine.connect() as conn:
        return await svc.events.read(
            conn,
            after=after,
            limit=limit,
            tenant_id=scope.require_tenant(),
            types=types,
            exclude_types=() if audit_shown else (audit.AUDIT_RECORDED.type,),
            subject=subject,
            correlation_id=correlation_id,
            where=access.events_condition(scope),
        )


def shown(svc: Services, scope: Scope, events: Sequence[StoredEvent]) -> list[dict[str, Any]]:
    """The events as CloudEvents, with what the caller may not see redacted."""
    redaction = redaction_for(svc.catalog)
    return [redaction.shown(scope, e.cloudevent()) for e in events]


def _type_info(svc: Services, type_: str) -> dict[str, Any]:
    et = svc.event_types.get(type_)
    return {
        "type": et.type,
        "name": et.name,
        "version": et.version,
        "description": et.description,
        "schema": svc.event_types.schema(type_),
    }


@router.get(
    "/event-types",
    tags=["events"],
    summary="The schema registry: every event type with its JSON Schema",
)
async def list_event_types(scope: Scope = EVENTS_READ, svc: Services = Depends(services)) -> Response:
    return JSON({"items": [_type_info(svc, et.type) for et in svc.event_types.all()]})


@router.get("/event-types/{type}", tags=["events"], summary="One event type and its schema")
async def get_event_type(
    type: str, scope: Scope = EVENTS_READ, svc: Services = Depends(services)
) -> Response:
    try:
        return JSON(_type_info(svc, type))
    except Exception:
        raise NotFound(f"no event type '{type}'") from None


@router.get(
    "/stats",
    tags=["events"],
    summary="Entity counts of this tenant, from the entity-index projection",
)
async def stats(
    scope: Scope = requires("events", whole_tenant=True), svc: Services = Depends(services)
) -> Response:
    async with svc.read_engine.connect() as conn:
        counts = await eventlog.entity_counts(conn, scope.require_tenant())
    return JSON({"entities": counts})


@router.get(
    "/consumers",
    tags=["events"],
    summary="Event consumers: position, lag and failures (platform admin)",
)
async def consumers(scope: Scope = PLATFORM, svc: Services = Depends(services)) -> Response:
    out = [s.as_dict() for s in await svc.consumers.status()]
    return JSON({"items": out})
