"""Retention of the ledger: delete the start of a tenant's chain and leave a signed anchor there.

Only a prefix of a chain can go: a checkpoint in the middle could not be told from one deleted
by someone covering their tracks. The anchor keeps the hash of the last checkpoint deleted, so
the first one kept still links to something the key vouches for (``verify`` starts from it),
and the log position of its event, below which an event without a checkpoint is purged, not
uncovered.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.clock import utcnow
from supplyline.trace.canonical import anchor_signature
from supplyline.trace.tables import trace_anchor, trace_checkpoint, trace_leaf


@dataclass(frozen=True)
class Anchor:
    tenant_id: uuid.UUID
    seq: int  # the last checkpoint deleted
    hash: str  # its hash: the prev_hash of the first checkpoint kept
    event_position: int  # the log position of its event
    cutoff: datetime
    purged: int  # checkpoints this purge deleted
    signature: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Anchor:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


async def anchors(conn: AsyncConnection, tenant_id: uuid.UUID) -> list[Anchor]:
    """A tenant's anchors, newest (highest seq) first."""
    t = trace_anchor
    stmt = select(t).where(t.c.tenant_id == tenant_id).order_by(t.c.seq.desc())
    return [Anchor.from_row(r) for r in (await conn.execute(stmt)).mappings()]


async def latest_anchor(conn: AsyncConnection, tenant_id: uuid.UUID) -> Anchor | None:
    found = await anchors(conn, tenant_id)
    return found[0] if found else None


def checkpoint_exists(events: Table) -> ColumnElement[bool]:
    """True for an event of ``events`` (the event log) that has a checkpoint: such an event must
    stay while its checkpoint does, or verify would report it missing."""
    c = trace_checkpoint
    return exists().where(c.c.tenant_id == events.c.tenant_id, c.c.event_id == events.c.id)


async def purge_checkpoints(
    conn: AsyncConnection, tenant_id: uuid.UUID, cutoff: datetime, key: bytes
) -> Anchor | None:
    """Delete the tenant's checkpoints recorded before ``cutoff``, from the start of the chain up
    to the first one recorded after it, and anchor the chain there; None when none is that old."""
    t = trace_checkpoint
    mine = t.c.tenant_id == tenant_id
    first_young = (
        await conn.execute(select(func.min(t.c.seq)).where(mine, t.c.recorded_at >= cutoff))
    ).scalar()
    stmt = select(t.c.seq, t.c.hash, t.c.event_position).where(mine, t.c.recorded_at < cutoff)
    if first_young is not None:
        stmt = stmt.where(t.c.seq < first_young)
    # The recorder locks the newest checkpoint before it chains after it: when that is the one
    # purged here, one of the two waits for the other (and the recorder then chains after the
    # anchor, see ``consumer._last``).
    stmt = stmt.order_by(t.c.seq.desc()).limit(1).with_for_update()
    last = (await conn.execute(stmt)).first()
    if last is None:
        return None
    purged = (t.c.tenant_id == tenant_id) & (t.c.seq <= last.seq)
    # The leaf hashes stay: the Merkle log keeps every leaf, whatever retention removes.
    # So do stored subtree hashes: a purge changes no leaf, so no root either.
    kept = select(t.c.tenant_id, t.c.seq, t.c.event_hash, t.c.leaf).where(purged)
    await conn.execute(trace_leaf.insert().from_select(["tenant_id", "seq", "event_hash", "leaf"], kept))
    gone = await conn.execute(delete(t).where(purged))
    anchor = Anchor(
        tenant_id=tenant_id,
        seq=int(last.seq),
        hash=str(last.hash),
        event_position=int(last.event_position),
        cutoff=cutoff,
        purged=int(gone.rowcount or 0),
        signature=anchor_signature(key, tenant_id, int(last.seq), last.hash, last.event_position, cutoff),
        created_at=utcnow(),
    )
    await conn.execute(trace_anchor.insert().values(**anchor.__dict__))
    return anchor
