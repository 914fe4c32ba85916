"""The ``epcis.platform_events`` consumer: the platform's own custody events stored as EPCIS
events, in the transaction that moves its position, so the trail needs no manual capture.

Idempotent: an event whose eventID the tenant already holds is skipped (a replay stores
nothing twice), and a step a record goes through once (a shipment's departure, its arrival) is
not stored again when a later change restates it (a status set, then the actual time).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.epcis.platform_events import MAPPERS, Emitted, Mapper
from supplyline.epcis.platform_ids import Lookup
from supplyline.epcis.store import EventRecord, canonical_term, index_event, insert_events
from supplyline.epcis.tables import epcis_event, epcis_event_ref
from supplyline.eventlog import ConsumerWork, EventLog
from supplyline.kernel.events import NewEvent, StoredEvent

CONSUMER_NAME = "epcis.platform_events"
SOURCE = "platform"
_CHUNK = 500  # ids per IN (...) list, well under SQLite's limit on bound parameters
Once = tuple[str, uuid.UUID, str]  # (ref kind, ref id, canonical bizStep)


class PlatformEvents:
    """Implements ``supplyline.eventlog.Consumer``; ``mappers`` say which types it takes."""

    name = CONSUMER_NAME

    def __init__(self, log: EventLog, mappers: Mapping[str, Mapper] = MAPPERS) -> None:
        self.log = log
        self.mappers = dict(mappers)

    def accepts(self, event_type: str) -> bool:
        return event_type in self.mappers

    async def handle(self, conn: AsyncConnection, event: StoredEvent) -> None:
        await self.handle_batch(conn, [event])

    async def handle_batch(self, conn: AsyncConnection, events: list[StoredEvent]) -> None:
        by_tenant: dict[uuid.UUID, list[StoredEvent]] = {}
        for ev in events:
            if ev.tenant_id is not None and ev.type in self.mappers:
                by_tenant.setdefault(ev.tenant_id, []).append(ev)
        staged: list[NewEvent] = []
        for tenant_id, evs in by_tenant.items():
            staged += await self._tenant(conn, tenant_id, evs)
        if staged:
            await self.log.append(conn, staged, staged[0].correlation_id or "")

    async def reset(self, conn: AsyncConnection) -> None:
        """Forget nothing: stored EPCIS events are a record (and ledger leaves), not a
        projection. A replay finds each one by its eventID and stores only what is missing."""

    async def _tenant(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, events: list[StoredEvent]
    ) -> list[NewEvent]:
        lookup = Lookup(conn, tenant_id)
        mapped = [(ev, await self.mappers[ev.type](ev, lookup)) for ev in events]
        ids = [str(e.document["eventID"]) for _, out in mapped for e in out]
        held = await _held_ids(conn, tenant_id, ids)
        done = await _done_once(conn, tenant_id, [_once(e) for _, out in mapped for e in out])
        causes: list[StoredEvent] = []
        records = []
        for ev, out in mapped:
            for e in out:
                once = _once(e)
                if e.document["eventID"] in held or (once is not None and once in done):
                    continue
                held.add(str(e.document["eventID"]))
                if once is not None:
                    done.add(once)
                record = index_event(e.document)
                record.refs = set(e.refs)
                records.append(record)
                causes.append(ev)
        return await self._store(conn, tenant_id, records, causes)

    async def _store(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        records: list[EventRecord],
        causes: list[StoredEvent],
    ) -> list[NewEvent]:
        """Store the tenant's new EPCIS events in one go; returns the ``epcis.event_recorded``
        events to append, one per record in order, each with its cause's correlation id and
        actor (one insert for the whole batch: one per platform event took three times as long)."""
        if not records:
            return []
        work = ConsumerWork(conn, self.log, causes[0].correlation_id)
        await insert_events(work, tenant_id, records, source=SOURCE, actor="platform")
        return [
            replace(
                recorded,
                correlation_id=cause.correlation_id or work.correlation_id,
                actor=cause.actor or "platform",
            )
            for recorded, cause in zip(work.take(), causes, strict=True)
        ]


def _once(e: Emitted) -> Once | None:
    if e.once_for is None:
        return None
    return (e.once_for[0], e.once_for[1], canonical_term(str(e.document["bizStep"]), "BizStep-"))


async def _held_ids(conn: AsyncConnection, tenant_id: uuid.UUID, ids: Sequence[str]) -> set[str]:
    t = epcis_event
    out: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        stmt = select(t.c.event_id).where(
            t.c.tenant_id == tenant_id, t.c.event_id.in_(ids[i : i + _CHUNK]), t.c.declaration.is_(False)
        )
        out.update((await conn.execute(stmt)).scalars())
    return out


async def _done_once(conn: AsyncConnection, tenant_id: uuid.UUID, wanted: Sequence[Once | None]) -> set[Once]:
    """Which (record, bizStep) pairs already have a platform event (one query per record)."""
    t, r = epcis_event, epcis_event_ref
    out: set[Once] = set()
    for kind, ref_id, step in {w for w in wanted if w is not None}:
        stmt = (
            select(t.c.seq)
            .join(r, r.c.seq == t.c.seq)
            .where(
                r.c.tenant_id == tenant_id,
                r.c.kind == kind,
                r.c.ref_id == ref_id,
                t.c.source == SOURCE,
                t.c.biz_step == step,
                t.c.declaration.is_(False),
            )
            .limit(1)
        )
        if (await conn.execute(stmt)).first() is not None:
            out.add((kind, ref_id, step))
    return out
