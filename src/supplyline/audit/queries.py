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

from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import eventlog
from supplyline.audit.events import AUDIT_RECORDED
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


def _events(f: AuditFilter) -> eventlog.EventFilter:
    data = {
        name: value for name, value in (("action", f.action), ("outcome", f.outcome)) if value is not None
    }
    return eventlog.EventFilter(
        types=(AUDIT_RECORDED.type,),
        actor=f.actor,
        subject=f.object,
        data=data,
        since=f.since,
        until=f.until,
        correlation_id=f.correlation_id,
    )


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
PAGES = eventlog.newest_first("audit")


async def list_entries(
    conn: AsyncConnection, tenant_id: uuid.UUID, f: AuditFilter, cursor: str | None, limit: int
) -> Page[dict[str, Any]]:
    """One page, newest first: the log position orders entries as they committed."""
    found = await eventlog.find_events(conn, tenant_id, _events(f), PAGES, cursor, limit)
    return Page([entry_view(e) for e in found.items], found.next_cursor)


async def stream_entries(
    conn: AsyncConnection, tenant_id: uuid.UUID, f: AuditFilter, batch: int = 500
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every matching entry, newest first, ``batch`` at a time (the CSV export's source)."""
    cursor: str | None = None
    while True:
        found = await eventlog.find_events(conn, tenant_id, _events(f), PAGES, cursor, batch)
        if found.items:
            yield [entry_view(e) for e in found.items]
        if found.next_cursor is None:
            return
        cursor = found.next_cursor
