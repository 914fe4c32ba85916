"""Questions other capabilities ask of the log beyond reading it in order.

The audit trail finds its entries by actor, action, object and time; the traceability verifier
looks events up by id and joins them to its checkpoints. They ask here rather than reading the
log's table, so that how the log is stored stays the log's business.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.db.keyset import Keyset
from supplyline.eventlog.log import to_stored
from supplyline.eventlog.tables import eventlog_event
from supplyline.kernel.events import StoredEvent
from supplyline.kernel.pagination import Page

_E = eventlog_event
_CHUNK = 500


def matches(column: Any, pattern: str) -> ColumnElement[bool]:
    """Exact, or by prefix when ``pattern`` ends in ``*`` (``shipments.*``)."""
    if pattern.endswith("*"):
        prefix: ColumnElement[bool] = column.startswith(pattern[:-1], autoescape=True)
        return prefix
    exact: ColumnElement[bool] = column == pattern
    return exact


@dataclass(frozen=True)
class EventFilter:
    """Every given field must match: ``actor`` by prefix; ``subject`` and each ``data`` field
    (a top-level string of the payload) exactly or by prefix (``*``); ``since`` inclusive,
    ``until`` exclusive."""

    types: Sequence[str] = ()
    actor: str | None = None
    subject: str | None = None
    data: Mapping[str, str] = field(default_factory=dict)
    since: datetime | None = None
    until: datetime | None = None
    correlation_id: str | None = None

    def select(self, tenant_id: uuid.UUID) -> Select[Any]:
        stmt = select(_E).where(_E.c.tenant_id == tenant_id)
        if self.types:
            stmt = stmt.where(_E.c.type.in_(list(self.types)))
        if self.actor is not None:
            stmt = stmt.where(_E.c.actor.startswith(self.actor, autoescape=True))
        if self.subject is not None:
            stmt = stmt.where(matches(_E.c.subject, self.subject))
        for name, pattern in self.data.items():
            stmt = stmt.where(matches(_E.c.data[name].as_string(), pattern))
        if self.since is not None:
            stmt = stmt.where(_E.c.time >= self.since)
        if self.until is not None:
            stmt = stmt.where(_E.c.time < self.until)
        if self.correlation_id is not None:
            stmt = stmt.where(_E.c.correlation_id == self.correlation_id)
        return stmt


def newest_first(kind: str) -> Keyset:
    """The order of a list of events shown latest first (the audit trail); ``kind`` names it."""
    return Keyset(kind, (_E.c.position,), descending=True)


async def find_events(
    conn: AsyncConnection, tenant_id: uuid.UUID, f: EventFilter, pages: Keyset, cursor: str | None, limit: int
) -> Page[StoredEvent]:
    """One page of the tenant's events matching ``f``, in the order of ``pages``."""
    start = pages.start(cursor)
    stmt = f.select(tenant_id)
    if start is not None:
        stmt = stmt.where(pages.after(start))
    rows = (await conn.execute(pages.ordered(stmt).limit(limit + 1))).mappings()
    return pages.cut([to_stored(r) for r in rows], limit, lambda e: (e.position,))


async def events_by_id(conn: AsyncConnection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, StoredEvent]:
    """Events by id, whatever their tenant (the ledger's verifier must find a moved event)."""
    out: dict[uuid.UUID, StoredEvent] = {}
    for i in range(0, len(ids), _CHUNK):
        stmt = select(_E).where(_E.c.id.in_(list(ids[i : i + _CHUNK])))
        for r in (await conn.execute(stmt)).mappings():
            out[r["id"]] = to_stored(r)
    return out


def event_view() -> Subquery:
    """The log as a subquery to join to (``id``, ``position``, ``type``, ``tenant_id``)."""
    return select(_E.c.id, _E.c.position, _E.c.type, _E.c.tenant_id).subquery("eventlog_events")
