"""The leaves of a tenant's Merkle log, read from the checkpoints and from what retention kept.

The leaf at index ``seq - 1`` is the checkpoint's stored leaf data when it has one (an EPCIS
event's Event Hash ID, ``ni:///sha-256;<hex>?ver=CBV2.0``), and otherwise the event's hash in
``ni`` form (RFC 6920), ``ni:///sha-256;<event_hash>``, as UTF-8 bytes. Retention copies both
columns into ``trace_leaf`` before it deletes a checkpoint, so a leaf outlives its event.
"""

from __future__ import annotations

import uuid
from typing import NamedTuple

from sqlalchemy import Uuid, cast, func, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.errors import Conflict
from supplyline.trace import merkle
from supplyline.trace.tables import trace_checkpoint, trace_leaf


class LogGap(Conflict):
    """The start of the tenant's trail was purged: its Merkle tree cannot be rebuilt."""


class LeafRow(NamedTuple):
    seq: int
    event_hash: str
    event_id: uuid.UUID | None  # None once retention purged the checkpoint
    leaf: str | None  # the stored leaf data, when it is not the event hash's ni form

    @property
    def data(self) -> bytes:
        return leaf_data(self.event_hash, self.leaf)


def leaf_data(event_hash: str, leaf: str | None = None) -> bytes:
    """The bytes a leaf commits to: its stored data, or the event hash in ``ni`` form."""
    return leaf.encode() if leaf is not None else f"ni:///sha-256;{event_hash}".encode()


def leaf_hash_of(event_hash: str, leaf: str | None = None) -> bytes:
    """The leaf hash a partner computes for an event hash (or hash ID) it holds."""
    return merkle.leaf_hash(leaf_data(event_hash, leaf))


_GAP = "retention purged the start of this trail before its leaf hashes were kept"


async def leaf_rows(
    conn: AsyncConnection, tenant_id: uuid.UUID, after: int = 0, through: int | None = None
) -> list[LeafRow]:
    """The leaves with ``after < seq <= through`` (default: all) of the tenant's log, in order.

    Raises ``LogGap`` when a leaf of the range is missing: a tree without it has no root that
    an earlier head would be consistent with.
    """
    t, kept = trace_checkpoint, trace_leaf
    live = select(t.c.seq, t.c.event_hash, t.c.event_id, t.c.leaf).where(
        t.c.tenant_id == tenant_id, t.c.seq > after
    )
    gone = cast(null(), Uuid).label("event_id")
    purged = select(kept.c.seq, kept.c.event_hash, gone, kept.c.leaf).where(
        kept.c.tenant_id == tenant_id, kept.c.seq > after
    )
    if through is not None:
        live, purged = live.where(t.c.seq <= through), purged.where(kept.c.seq <= through)
    result = await conn.execute(union_all(purged, live).order_by("seq"))
    rows = [LeafRow(int(r[0]), str(r[1]), r[2], r[3]) for r in result]
    last = rows[-1].seq if rows else after
    if len(rows) != last - after or (through is not None and last != through):
        raise LogGap(_GAP)
    return rows


async def leaf_hashes(
    conn: AsyncConnection, tenant_id: uuid.UUID, lo: int = 0, hi: int | None = None
) -> list[bytes]:
    """The hashes of leaves ``lo`` to ``hi - 1`` (default: to the end) of the tenant's log."""
    return [merkle.leaf_hash(r.data) for r in await leaf_rows(conn, tenant_id, lo, hi)]


async def log_size(conn: AsyncConnection, tenant_id: uuid.UUID) -> int:
    """How many leaves the tenant's log holds, read from the ends of the two tables alone.

    A log whose first leaf is gone (purged before leaf hashes were kept) raises ``LogGap``.
    """
    t, kept = trace_checkpoint, trace_leaf
    ends = select(
        select(func.max(t.c.seq)).where(t.c.tenant_id == tenant_id).scalar_subquery(),
        select(func.max(kept.c.seq)).where(kept.c.tenant_id == tenant_id).scalar_subquery(),
        select(func.min(t.c.seq)).where(t.c.tenant_id == tenant_id).scalar_subquery(),
        select(func.min(kept.c.seq)).where(kept.c.tenant_id == tenant_id).scalar_subquery(),
    )
    row = (await conn.execute(ends)).one()
    highs = [int(v) for v in row[:2] if v is not None]
    lows = [int(v) for v in row[2:] if v is not None]
    if not highs:
        return 0
    if min(lows) != 1:
        raise LogGap(_GAP)
    return max(highs)


async def find_leaf(conn: AsyncConnection, tenant_id: uuid.UUID, leaf: str) -> int | None:
    """The seq of the leaf whose stored data is ``leaf`` (an EPCIS Event Hash ID), if any."""
    t, kept = trace_checkpoint, trace_leaf
    live = select(t.c.seq).where(t.c.tenant_id == tenant_id, t.c.leaf == leaf)
    purged = select(kept.c.seq).where(kept.c.tenant_id == tenant_id, kept.c.leaf == leaf)
    found = (await conn.execute(union_all(purged, live).order_by("seq").limit(1))).scalar()
    return None if found is None else int(found)
