"""Append to and read from the log; wake in-process readers when something commits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.db.dialect import lock_event_log
from supplyline.db.keyset import Keyset
from supplyline.eventlog.registry import EventTypeRegistry
from supplyline.eventlog.tables import eventlog_event
from supplyline.kernel.events import NewEvent, StoredEvent

# Readers page through the log in position order (the order events committed in).
EVENT_PAGES = Keyset("events", (eventlog_event.c.position,))


class LogNotifier:
    """Tells waiting readers of this process that new events committed; others poll."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Event] = set()

    def notify(self) -> None:
        for waiter in list(self._waiters):
            waiter.set()

    async def wait(self, timeout: float) -> None:  # noqa: ASYNC109 - a bounded poll
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)


class EventLog:
    def __init__(self, registry: EventTypeRegistry, notifier: LogNotifier | None = None) -> None:
        self.registry = registry
        self.notifier = notifier or LogNotifier()

    async def append(self, conn: AsyncConnection, events: Sequence[NewEvent], correlation_id: str) -> None:
        """Check each event against its schema, then insert them all under the append lock."""
        for ev in events:
            self.registry.check(ev.type, ev.data)
        await lock_event_log(conn)
        await conn.execute(
            eventlog_event.insert(),
            [
                {
                    "id": ev.id,
                    "type": ev.type,
                    "source": ev.source,
                    "subject": ev.subject,
                    "time": ev.time,
                    "tenant_id": ev.tenant_id,
                    "correlation_id": ev.correlation_id or correlation_id,
                    "data": ev.data,
                    "actor": ev.actor,
                }
                for ev in events
            ],
        )

    def on_commit(self) -> None:
        self.notifier.notify()

    @staticmethod
    def query(
        after: int = 0,
        limit: int = 500,
        *,
        tenant_id: uuid.UUID | None,
        types: Sequence[str] = (),
        exclude_types: Sequence[str] = (),
        subject: str | None = None,
        correlation_id: str | None = None,
        where: ColumnElement[bool] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Select[Any]:
        """``where``: the caller's visibility (``supplyline.access.events_condition``);
        ``since`` (included) and ``until`` (excluded): the events' own time."""
        stmt = select(eventlog_event).where(eventlog_event.c.position > after)
        if since is not None:
            stmt = stmt.where(eventlog_event.c.time >= since)
        if until is not None:
            stmt = stmt.where(eventlog_event.c.time < until)
        if where is not None:
            stmt = stmt.where(where)
        if tenant_id is not None:
            stmt = stmt.where(eventlog_event.c.tenant_id == tenant_id)
        if types:
            stmt = stmt.where(eventlog_event.c.type.in_(list(types)))
        if exclude_types:
            stmt = stmt.where(eventlog_event.c.type.not_in(list(exclude_types)))
        if subject is not None:
            stmt = stmt.where(eventlog_event.c.subject == subject)
        if correlation_id is not None:
            stmt = stmt.where(eventlog_event.c.correlation_id == correlation_id)
        return stmt.order_by(eventlog_event.c.position).limit(limit)

    async def read(
        self,
        conn: AsyncConnection,
        after: int = 0,
        limit: int = 500,
        *,
        tenant_id: uuid.UUID | None,
        **filters: Any,
    ) -> list[StoredEvent]:
        """Events after ``after`` in log order. ``tenant_id`` is required so that no caller
        reads across tenants by omission; only platform code passes None (all tenants)."""
        stmt = self.query(after, limit, tenant_id=tenant_id, **filters)
        rows = (await conn.execute(stmt)).mappings().all()
        return [to_stored(r) for r in rows]


def to_stored(row: Any) -> StoredEvent:
    return StoredEvent(
        position=row["position"],
        id=row["id"],
        type=row["type"],
        source=row["source"],
        subject=row["subject"],
        time=row["time"],
        tenant_id=row["tenant_id"],
        correlation_id=row["correlation_id"],
        data=row["data"],
        actor=row["actor"],
    )
