"""The live feed: the caller's events as server-sent events, as they commit.

What a stream shows is what ``GET /v1/events`` would answer the same caller (the same read,
``events.read_visible``, and the same redaction), so a console never sees more than its
session's grants. Each event's ``id:`` is its log position: a browser's EventSource sends the
last one back as ``Last-Event-ID`` when it reconnects and the stream resumes after it.

A stream is bounded (SUPPLYLINE_STREAM_MAX_S) and re-checks its credential at every heartbeat,
so a revoked session or a narrowed grant stops it soon; EventSource reconnects on its own.
Commits of this process wake it at once; those of other processes (the workers, which raise
the alarms) are found by polling every SUPPLYLINE_STREAM_POLL_S.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import StreamingResponse

from supplyline import access, audit, eventlog
from supplyline.api.deps import bearer_token, requires, services
from supplyline.api.v1.events import read_visible, shown
from supplyline.bootstrap import Services
from supplyline.kernel.errors import Invalid, Unauthorized
from supplyline.kernel.json import INT_MAX
from supplyline.kernel.scope import Scope

router = APIRouter(tags=["events"])
EVENTS_READ = requires("events")
BATCH = 200  # events read per query; a backlog is sent in batches, without waiting between them
RETRY_MS = 3000  # how long EventSource waits before reconnecting


SSE_EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "The event's log position"},
        "event": {"type": "string"},
        "data": {"type": "string", "description": "The CloudEvent, as JSON"},
        "retry": {"type": "integer"},
    },
}


class EventStream(StreamingResponse):
    media_type = "text/event-stream"


def event_types(svc: Services, raw: str) -> list[str]:
    """``alarm.*,shipment.delivered`` -> the wire types they match (by name or type, ``*`` any
    run of characters); none given: every type. A pattern nothing matches is refused, so a
    typing mistake does not look like a quiet stream. A wildcard never matches the audit
    trail's entries: they are shown only to a caller naming their type (as in /v1/events)."""
    out: list[str] = []
    for pattern in (p.strip() for p in raw.split(",")):
        if not pattern:
            continue
        regex = re.compile(".*".join(re.escape(part) for part in pattern.split("*")))
        matched = [
            et.type
            for et in svc.event_types.all()
            if (regex.fullmatch(et.type) or regex.fullmatch(et.name))
            and ("*" not in pattern or et.type != audit.AUDIT_RECORDED.type)
        ]
        if not matched:
            raise Invalid("types", f"no event type matches '{pattern}' (see GET /v1/event-types)")
        out.extend(t for t in matched if t not in out)
    return out


def frame(position: int, data: bytes) -> bytes:
    return b"id: %d\ndata: %s\n\n" % (position, data)


@router.get(
    "/stream",
    response_class=EventStream,
    summary="This tenant's events as they commit, as server-sent events",
    description="Each event is one `message` whose `data:` is the CloudEvent (as in `GET /v1/events`) "
    "and whose `id:` is its log position. Starts after `Last-Event-ID` (sent by EventSource when it "
    "reconnects), else after `after`, else at the present. A comment line every "
    "SUPPLYLINE_STREAM_HEARTBEAT_S keeps proxies open; the stream closes after SUPPLYLINE_STREAM_MAX_S "
    "(or when the credential stops working) and the client reconnects.",
    responses={
        200: {
            "description": "An endless stream of events, until it closes",
            # One server-sent event: its fields as the client sees them (data: a CloudEvent's JSON).
            "content": {"text/event-stream": {"schema": SSE_EVENT}},
        }
    },
)
async def stream(
    request: Request,
    types: str = Query(
        "",
        max_length=2000,
        description="Comma-separated event names or types, '*' a wildcard: alarm.*,shipment.*",
    ),
    after: int | None = Query(None, ge=0, le=INT_MAX, description="Start after this log position"),
    last_event_id: int | None = Header(
        None, alias="Last-Event-ID", ge=0, le=INT_MAX, description="Resume after this position"
    ),
    scope: Scope = EVENTS_READ,
    svc: Services = Depends(services),
) -> EventStream:
    wanted = event_types(svc, types)
    start = last_event_id if last_event_id is not None else after
    if start is None:
        async with svc.read_engine.connect() as conn:
            start = await eventlog.head_position(conn)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return EventStream(_feed(request, svc, scope, start, wanted), headers=headers)


async def _feed(
    request: Request, svc: Services, scope: Scope, cursor: int, types: list[str]
) -> AsyncIterator[bytes]:
    cfg = svc.settings
    clock = asyncio.get_running_loop().time
    deadline = clock() + cfg.stream_max_s
    beat = clock() + cfg.stream_heartbeat_s
    # The id alone sets the client's Last-Event-ID: a reconnect resumes from here even when
    # nothing arrived in between.
    yield b"retry: %d\nid: %d\n\n" % (RETRY_MS, cursor)
    while True:
        events = await read_visible(svc, scope, cursor, BATCH, types)
        for event, item in zip(events, shown(svc, scope, events), strict=True):
            yield frame(event.position, orjson.dumps(item))
        if events:
            cursor = events[-1].position
            if len(events) == BATCH:
                continue
        now = clock()
        if now >= deadline:
            return
        if now >= beat:
            renewed = await _renewed(request, svc)
            if renewed is None:
                return
            scope, beat = renewed, now + cfg.stream_heartbeat_s
            yield b": heartbeat\n\n"
        await svc.events.notifier.wait(min(cfg.stream_poll_s, beat - now, deadline - now))


async def _renewed(request: Request, svc: Services) -> Scope | None:
    """The caller's Scope as it stands now, or None once the credential stopped working."""
    async with svc.read_engine.connect() as conn:
        try:
            scope = await access.authenticate(
                conn, bearer_token(request) or "", svc.settings.admin_token, rules=svc.visibility
            )
        except Unauthorized:
            return None
    return scope if scope.can("events") else None
