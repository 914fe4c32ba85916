"""Read side of the checkpoint trail: a tenant's checkpoints in chain order, or the newest ones."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.db.keyset import Keyset, page
from supplyline.kernel.pagination import Page
from supplyline.trace.tables import trace_checkpoint


@dataclass(frozen=True)
class Checkpoint:
    tenant_id: uuid.UUID
    seq: int
    event_id: uuid.UUID
    event_position: int
    event_type: str
    subject: str
    correlation_id: str | None
    event_hash: str
    prev_hash: str
    hash: str
    signature: str
    recorded_at: datetime
    leaf: str | None = None  # the Merkle leaf when it is not ni:///sha-256;<event_hash>

    @classmethod
    def from_row(cls, row: Any) -> Checkpoint:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    def as_dict(self) -> dict[str, Any]:
        """The JSON form shared by the API and the CLI."""
        return {
            "tenant_id": str(self.tenant_id),
            "seq": self.seq,
            "event_id": str(self.event_id),
            "event_position": self.event_position,
            "event_type": self.event_type,
            "subject": self.subject,
            "correlation_id": self.correlation_id,
            "event_hash": self.event_hash,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "signature": self.signature,
            "recorded_at": self.recorded_at.isoformat().replace("+00:00", "Z"),
            "leaf": self.leaf,
        }


PAGES = Keyset("ledger", (trace_checkpoint.c.seq,))


async def list_checkpoints(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    after: int = 0,
    subject: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[Checkpoint]:
    """One page of a tenant's checkpoints with seq above ``after`` (and of events about
    ``subject``, such as ``lots/<id>``: a lot's holds and releases), in chain order."""
    t = trace_checkpoint
    stmt = select(t).where(t.c.tenant_id == tenant_id, t.c.seq > after)
    if subject is not None:
        stmt = stmt.where(t.c.subject == subject)
    found = await page(conn, stmt, PAGES, cursor, limit)
    return Page([Checkpoint.from_row(r) for r in found.items], found.next_cursor)


async def latest_checkpoints(
    conn: AsyncConnection, tenant_id: uuid.UUID | None, limit: int
) -> list[Checkpoint]:
    """The newest checkpoints, newest first: of one tenant, or of every tenant when None."""
    t = trace_checkpoint
    stmt = select(t)
    if tenant_id is not None:
        stmt = stmt.where(t.c.tenant_id == tenant_id).order_by(t.c.seq.desc())
    else:
        stmt = stmt.order_by(t.c.recorded_at.desc(), t.c.tenant_id, t.c.seq.desc())
    return [Checkpoint.from_row(r) for r in (await conn.execute(stmt.limit(limit))).mappings()]
