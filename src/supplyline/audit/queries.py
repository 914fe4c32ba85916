"""Reading the trail: one tenant's entries, newest first, filtered, a page or a stream at a time.

Entries are rows of the event log; the envelope's columns (actor, subject, time, correlation
id) filter directly, action and outcome through the portable JSON accessor.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.audit.events import AUDIT_RECORDED
from supplyline.db.keyset import Keyset
from supplyline.eventlog.log import to_stored
from supplyline.eventlog.tables import eventlog_event
from supplyline.kernel.events import StoredEvent
from supplyline.kernel.pagination import Page


@dataclass(frozen=True)
class AuditFilter:
    """Every given field must match. ``actor`` matches a prefix (``api-key:<id>`` finds a key's
    entries whatever its name); ``action`` and ``object`` match exactly, or by prefix when they
    end in ``*`` (``shipments.*``); ``since`` is inclusive, ``until`` exclusive."""

    actor: str | None = None
    action: str | None = None
    object: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    correlation_id: str | None = None


def _match(column: Any, value: str) -> ColumnElement[bool]:
    if value.endswith("*"):
        result: ColumnElement[bool] = column.startswith(value[:-1], autoescape=True)
        return result
    exact: ColumnElement[bool] = column == value
    return exact


def _select(tenant_id: uuid.UUID, f: AuditFilter) -> Select[Any]:
    e = eventlog_event
    stmt = select(e).where(e.c.tenant_id == tenant_id, e.c.type == AUDIT_RECORDED.type)
    if f.actor is not None:
        stmt = stmt.where(e.c.actor.startswith(f.actor, autoescape=True))
    if f.action is not None:
        stmt = stmt.where(_match(e.c.data["action"].as_string(), f.action))
    if f.object is not None:
        stmt = stmt.where(_match(e.c.subject, f.object))
    if f.outcome is not None:
        stmt = stmt.where(e.c.data["outcome"].as_string() == f.outcome)
    if f.since is not None:
        stmt = stmt.where(e.c.time >= f.since)
    if f.until is not None:
        stmt = stmt.where(e.c.time < f.until)
    if f.correlation_id is not None:
        stmt = stmt.where(e.c.correlation_id == f.correlation_id)
    return stmt


def entry_view(event: StoredEvent) -> dict[str, Any]:
    """The flat JSON form of an entry, shared by the API's list and its CSV export."""
    d = event.data
    return {
        "id": str(event.id),
        "position": event.position,
        "time": event.time.isoformat().replace("+00:00", "Z"),
        "tenant_id": str(event.tenant_id) if event.tenant_id else None,
        "actor": event.actor,
        "principal_id": d.get("principal_id"),
        "organization_id": d.get("organization_id"),
        "action": d.get("action"),
        "object": event.subject,
        "outcome": d.get("outcome"),
        "reason": d.get("reason"),
        "before": d.get("before"),
        "after": d.get("after"),
        "method": d.get("method"),
        "path": d.get("path"),
        "request_id": d.get("request_id"),
        "correlation_id": event.correlation_id,
        "key_prefix": d.get("key_prefix"),
    }


# Newest first: the log position orders entries as they committed.
PAGES = Keyset("audit", (eventlog_event.c.position,), descending=True)


async def _page(
    conn: AsyncConnection, tenant_id: uuid.UUID, f: AuditFilter, before: int | None, limit: int
) -> list[StoredEvent]:
    stmt = _select(tenant_id, f)
    if before is not None:
        stmt = stmt.where(PAGES.after((before,)))
    stmt = PAGES.ordered(stmt).limit(limit)
    return [to_stored(r) for r in (await conn.execute(stmt)).mappings()]


async def list_entries(
    conn: AsyncConnection, tenant_id: uuid.UUID, f: AuditFilter, cursor: str | None, limit: int
) -> Page[dict[str, Any]]:
    """One page, newest first."""
    start = PAGES.start(cursor)
    events = await _page(conn, tenant_id, f, start[0] if start else None, limit + 1)
    found = PAGES.cut(events, limit, lambda e: (e.position,))
    return Page([entry_view(e) for e in found.items], found.next_cursor)


async def stream_entries(
    conn: AsyncConnection, tenant_id: uuid.UUID, f: AuditFilter, batch: int = 500
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every matching entry, newest first, ``batch`` at a time (the CSV export's source)."""
    before: int | None = None
    while True:
        events = await _page(conn, tenant_id, f, before, batch)
        if not events:
            return
        yield [entry_view(e) for e in events]
        if len(events) < batch:
            return
        before = events[-1].position
