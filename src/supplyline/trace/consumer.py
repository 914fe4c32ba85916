"""The recorder: a log consumer that appends a signed checkpoint for each event of chosen types.

Which bytes an event's leaf of the Merkle log commits to is chosen where the recorder is built:
``leaf_of`` maps an event type to the rule that gives its leaf data (the composition root maps
``epcis.event_recorded`` to the event's GS1 Event Hash ID), stored in ``trace_checkpoint.leaf``;
other events' leaves are their event hash in ``ni`` form. The checkpoint chain itself is the
same for both. The roots of complete subtrees are stored in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.eventlog import ConsumerRunner
from supplyline.kernel.clock import utcnow
from supplyline.kernel.events import StoredEvent
from supplyline.trace.canonical import GENESIS, chain_hash, event_hash, sign
from supplyline.trace.subtree import extend
from supplyline.trace.tables import trace_anchor, trace_checkpoint

CONSUMER_NAME = "trace.checkpoints"
_CHUNK = 500  # ids per IN (...) list, well under SQLite's limit on bound parameters
MAX_LEAF = 120  # characters of stored leaf data (trace_checkpoint.leaf)

LeafRule = Callable[[StoredEvent], str]
"""The leaf data of an event, as text (e.g. its EPCIS Event Hash ID)."""


def leaf_for(event: StoredEvent, leaf_of: Mapping[str, LeafRule]) -> str | None:
    """The stored leaf data of an event: its type's rule applied, or None (its event hash)."""
    rule = leaf_of.get(event.type)
    if rule is None:
        return None
    leaf = rule(event)
    if not 0 < len(leaf) <= MAX_LEAF:
        raise ValueError(f"the leaf of event {event.id} ({event.type}) is not 1 to {MAX_LEAF} characters")
    return leaf


async def append_checkpoints(
    conn: AsyncConnection,
    events: Sequence[StoredEvent],
    key: bytes,
    leaf_of: Mapping[str, LeafRule] | None = None,
) -> int:
    """Chain a checkpoint for each event, in the given (log) order; returns how many were new.

    Events already recorded for their tenant are skipped, so a replay changes nothing, and so
    are events below the tenant's purge anchor, whose checkpoints retention deleted. Events
    without a tenant belong to no tenant's chain and are not recorded. ``leaf_of`` gives the
    leaf data of the event types whose leaf is not their event hash.
    """
    rules = leaf_of or {}
    by_tenant: dict[uuid.UUID, list[StoredEvent]] = {}
    for ev in events:
        if ev.tenant_id is not None:
            by_tenant.setdefault(ev.tenant_id, []).append(ev)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    sizes: dict[uuid.UUID, int] = {}  # each tenant's log size after this append
    for tenant_id, evs in by_tenant.items():
        seen = await _recorded(conn, tenant_id, [ev.id for ev in evs])
        purged_through = await _purged_through(conn, tenant_id)
        fresh = []
        for ev in evs:
            if ev.id not in seen and ev.position > purged_through:
                seen.add(ev.id)
                fresh.append(ev)
        if not fresh:
            continue
        seq, prev = await _last(conn, tenant_id)
        for ev in fresh:
            seq += 1
            digest = event_hash(ev)
            link = chain_hash(prev, seq, digest)
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "seq": seq,
                    "event_id": ev.id,
                    "event_position": ev.position,
                    "event_type": ev.type,
                    "subject": ev.subject,
                    "correlation_id": ev.correlation_id,
                    "event_hash": digest,
                    "leaf": leaf_for(ev, rules),
                    "prev_hash": prev,
                    "hash": link,
                    "signature": sign(key, link),
                    "recorded_at": now,
                }
            )
            prev = link
        sizes[tenant_id] = seq
    if rows:
        await conn.execute(trace_checkpoint.insert(), rows)
    for tenant_id, size in sizes.items():
        await extend(conn, tenant_id, size)
    return len(rows)


async def _recorded(conn: AsyncConnection, tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    t = trace_checkpoint
    out: set[uuid.UUID] = set()
    for i in range(0, len(ids), _CHUNK):
        stmt = select(t.c.event_id).where(t.c.tenant_id == tenant_id, t.c.event_id.in_(ids[i : i + _CHUNK]))
        out.update((await conn.execute(stmt)).scalars())
    return out


async def _purged_through(conn: AsyncConnection, tenant_id: uuid.UUID) -> int:
    """The log position up to which retention purged the tenant's checkpoints (0: none)."""
    a = trace_anchor
    stmt = select(func.max(a.c.event_position)).where(a.c.tenant_id == tenant_id)
    return int((await conn.execute(stmt)).scalar() or 0)


async def _last(conn: AsyncConnection, tenant_id: uuid.UUID) -> tuple[int, str]:
    """The tenant's newest checkpoint, read in this transaction and locked on PostgreSQL.

    The runner already lets one process at a time hold this consumer's position; if anything
    else appended meanwhile, the primary key (tenant, seq) refuses the second insert, the
    transaction rolls back and the runner retries from the new end of the chain. Without any
    checkpoint left, the chain continues from the newest purge anchor, if any.
    """
    t = trace_checkpoint
    stmt = (
        select(t.c.seq, t.c.hash)
        .where(t.c.tenant_id == tenant_id)
        .order_by(t.c.seq.desc())
        .limit(1)
        .with_for_update()
    )
    row = (await conn.execute(stmt)).first()
    if row is not None:
        return int(row.seq), str(row.hash)
    # Retention may have purged the whole chain: it goes on from the anchor left in its place.
    a = trace_anchor
    stmt = select(a.c.seq, a.c.hash).where(a.c.tenant_id == tenant_id).order_by(a.c.seq.desc()).limit(1)
    anchor = (await conn.execute(stmt)).first()
    return (0, GENESIS) if anchor is None else (int(anchor.seq), str(anchor.hash))


class CheckpointRecorder:
    """The ``trace.checkpoints`` consumer (implements ``supplyline.eventlog.Consumer``)."""

    name = CONSUMER_NAME

    def __init__(
        self, types: Iterable[str], key: bytes, leaf_of: Mapping[str, LeafRule] | None = None
    ) -> None:
        self.types = frozenset(types)
        self.leaf_of: Mapping[str, LeafRule] = dict(leaf_of or {})
        if not key:
            raise ValueError("the checkpoint signing key is empty")
        self._key = key

    def accepts(self, event_type: str) -> bool:
        return event_type in self.types

    async def handle(self, conn: AsyncConnection, event: StoredEvent) -> None:
        await self.handle_batch(conn, [event])

    async def handle_batch(self, conn: AsyncConnection, events: list[StoredEvent]) -> None:
        await append_checkpoints(
            conn, [ev for ev in events if self.accepts(ev.type)], self._key, self.leaf_of
        )

    async def reset(self, conn: AsyncConnection) -> None:
        """Forget nothing: a ledger is not a projection. A replay finds each recorded event and
        skips it, and records only what is missing (e.g. events of a newly added type)."""


@dataclass(frozen=True)
class Coverage:
    """What the recorder has read: every event of ``types`` at a log position up to
    ``through`` must have a checkpoint, so deleting the newest checkpoints is noticed too."""

    types: frozenset[str]
    through: int
    leaf_of: Mapping[str, LeafRule] = field(default_factory=dict)  # how the recorder made leaves


async def recorder_coverage(runner: ConsumerRunner) -> Coverage | None:
    """The coverage of the recorder this runner runs, or None when it runs none."""
    recorder = runner.consumers.get(CONSUMER_NAME)
    if not isinstance(recorder, CheckpointRecorder):
        return None
    position = next(s.position for s in await runner.status() if s.name == CONSUMER_NAME)
    return Coverage(recorder.types, position, recorder.leaf_of)
