"""The purge job for the event log's classes: traceability checkpoints, audit entries, events.

One transaction per tenant and class, which deletes what is older than the cutoff and, when it
deleted anything, stages one audit entry (``retention.purge`` of ``retention/<class>``) saying
what went: every purge is on the trail it may one day purge too. Telemetry is purged by the
compactor (``supplyline.telemetry``), under the same settings and holds.

The rules that keep the ledger verifiable and the consumers whole:

- traceability: checkpoints recorded before the cutoff, from the start of the chain only,
  leaving a signed anchor in their place (``supplyline.trace.purge_checkpoints``);
- audit: ``audit.recorded`` events before the cutoff whose checkpoints are gone;
- events: every other event before the cutoff whose checkpoint, if it had one, is gone;
- and for both, only positions every consumer has handled (``eventlog.handled_through``).

So an audit entry or a checkpointed event outlives its own retention until traceability's
purges its checkpoint: in effect it is kept for the longer of the two. Retention is per tenant:
events of no tenant (platform events, refusals of callers nobody knows) are never purged.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from supplyline import audit, eventlog, trace
from supplyline.governance.model import DataClass
from supplyline.governance.service import is_held, lock_tenant, retention_days
from supplyline.governance.tables import governance_retention
from supplyline.kernel.clock import utcnow
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWorkFactory

# In this order: a checkpoint purged first lets its event go in the same run.
LOG_CLASSES: tuple[DataClass, ...] = ("traceability", "audit", "events")
ACTOR = "retention"


@dataclass(frozen=True)
class Purged:
    """What one purge of one tenant's class did (``held``: a legal hold suspended it)."""

    tenant_id: uuid.UUID
    data_class: DataClass
    days: int
    cutoff: datetime
    deleted: int
    held: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": str(self.tenant_id),
            "data_class": self.data_class,
            "days": self.days,
            "cutoff": self.cutoff.isoformat(),
            "deleted": self.deleted,
            "held": self.held,
            **self.detail,
        }


class Purger:
    """Runs the purges; ``consumers`` are the names of the log consumers this deployment runs
    (one that has not saved a position yet holds the whole log back)."""

    def __init__(
        self, uow: UnitOfWorkFactory, read_engine: AsyncEngine, key: bytes, consumers: Sequence[str]
    ) -> None:
        self.uow = uow
        self.read_engine = read_engine
        self.key = key
        self.consumers = tuple(consumers)

    async def due(self) -> bool:
        """Whether any tenant has set a retention for a class of the log (a read)."""
        t = governance_retention
        async with self.read_engine.connect() as conn:
            stmt = select(t.c.tenant_id).where(t.c.data_class.in_(LOG_CLASSES)).limit(1)
            return (await conn.execute(stmt)).first() is not None

    async def run(self, tenant_id: uuid.UUID | None = None, *, now: datetime | None = None) -> list[Purged]:
        """Purge every tenant's classes that have a retention (or only ``tenant_id``'s)."""
        t = governance_retention
        stmt = select(t.c.tenant_id, t.c.data_class).where(t.c.data_class.in_(LOG_CLASSES))
        if tenant_id is not None:
            stmt = stmt.where(t.c.tenant_id == tenant_id)
        async with self.read_engine.connect() as conn:
            todo = {(r.tenant_id, r.data_class) for r in await conn.execute(stmt)}
        now = now or utcnow()
        out = []
        for tenant in sorted({tenant for tenant, _ in todo}):
            for data_class in LOG_CLASSES:
                if (tenant, data_class) in todo and (done := await self.purge(tenant, data_class, now)):
                    out.append(done)
        return out

    async def run_all(self) -> int:
        """One run over every tenant (the workers' periodic job); how many rows went."""
        return sum(p.deleted for p in await self.run())

    async def purge(self, tenant_id: uuid.UUID, data_class: DataClass, now: datetime) -> Purged | None:
        """One tenant's class, in a transaction of its own; None when it has no retention."""
        async with self.uow(f"retention-{data_class}") as uow:
            conn = uow.conn
            await lock_tenant(conn, tenant_id)
            days = await retention_days(conn, tenant_id, data_class)
            if days is None:
                return None
            cutoff = now - timedelta(days=days)
            if await is_held(conn, tenant_id, data_class):
                return Purged(tenant_id, data_class, days, cutoff, 0, held=True)
            if data_class == "traceability":
                deleted, detail = await self._checkpoints(conn, tenant_id, cutoff)
            else:
                deleted, detail = await self._events(
                    conn, tenant_id, cutoff, audit_entries=data_class == "audit"
                )
            purged = Purged(tenant_id, data_class, days, cutoff, deleted, detail=detail)
            if deleted:
                scope = Scope.system(tenant_id, ACTOR)
                audit.record(uow, scope, "retention.purge", f"retention/{data_class}", after=purged.as_dict())
                await uow.commit()
            return purged

    async def _checkpoints(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, cutoff: datetime
    ) -> tuple[int, dict[str, Any]]:
        anchor = await trace.purge_checkpoints(conn, tenant_id, cutoff, self.key)
        if anchor is None:
            return 0, {}
        return anchor.purged, {"anchor_seq": anchor.seq, "anchor_event_position": anchor.event_position}

    async def _events(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, cutoff: datetime, *, audit_entries: bool
    ) -> tuple[int, dict[str, Any]]:
        through = await eventlog.handled_through(conn, self.consumers)
        entries = [audit.AUDIT_RECORDED.type]
        which: dict[str, Any] = {"types": entries} if audit_entries else {"exclude_types": entries}
        checkpointed = trace.checkpoint_exists(eventlog.eventlog_event)
        # Counted for the record: old enough, but kept while their checkpoints are.
        kept = await eventlog.count_events(
            conn, tenant_id, before=cutoff, through=through, where=checkpointed, **which
        )
        deleted = await eventlog.delete_events(
            conn, tenant_id, before=cutoff, through=through, unless=checkpointed, **which
        )
        return deleted, {"handled_through": through, "kept_for_ledger": kept}
