"""Custody events of identifiers: the object and transaction events that name them (shipping,
receiving, observations), with their source, destination and business transaction lists and
the platform records they are about.

They move custody without changing what the objects are, so they are no lineage edges; a trace
attaches them to each node, and a recall reads shipments, sites, orders and customers off them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.epcis.tables import epcis_event, epcis_event_key, epcis_event_ref

CHUNK = 400
# The roles in which an event names the objects it is about (not its transactions or parties).
OBJECT_ROLES = ("epc", "class", "parent", "child", "child_class")
CUSTODY_TYPES = ("ObjectEvent", "TransactionEvent")
_LISTS = {"btx": "biz_transactions", "source": "sources", "destination": "destinations"}


@dataclass
class CustodyEvent:
    seq: int
    event_id: str
    hash_id: str  # its GS1 Event Hash ID: its leaf in the ledger
    event_type: str
    action: str | None
    biz_step: str | None
    disposition: str | None
    event_time: datetime
    read_point: str | None
    biz_location: str | None
    sources: list[tuple[str, str]] = field(default_factory=list)  # (type URI, id)
    destinations: list[tuple[str, str]] = field(default_factory=list)
    biz_transactions: list[tuple[str, str]] = field(default_factory=list)
    refs: list[tuple[str, uuid.UUID]] = field(default_factory=list)  # (kind, platform id)

    def as_dict(self) -> dict[str, Any]:
        def typed(items: list[tuple[str, str]], name: str) -> list[dict[str, str]]:
            return [{"type": t, name: v} for t, v in sorted(items)]

        return {
            "event_id": self.event_id,
            "hash_id": self.hash_id,
            "event_type": self.event_type,
            "action": self.action,
            "biz_step": self.biz_step,
            "disposition": self.disposition,
            "event_time": self.event_time.isoformat(),
            "read_point": self.read_point,
            "biz_location": self.biz_location,
            "sources": typed(self.sources, "source"),
            "destinations": typed(self.destinations, "destination"),
            "biz_transactions": typed(self.biz_transactions, "bizTransaction"),
        }


def _chunks(values: Iterable[Any]) -> list[list[Any]]:
    items = sorted(set(values))
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def undeclared(tenant_id: uuid.UUID) -> Any:
    """No error declaration names the event in the query (``epcis_event`` in the FROM)."""
    d = epcis_event.alias("declared")
    return ~exists().where(
        and_(d.c.tenant_id == tenant_id, d.c.event_id == epcis_event.c.event_id, d.c.declaration.is_(True))
    )


async def _named(
    conn: AsyncConnection, tenant_id: uuid.UUID, ids: Iterable[str]
) -> tuple[dict[int, CustodyEvent], dict[str, list[int]]]:
    k, ev = epcis_event_key, epcis_event
    events: dict[int, CustodyEvent] = {}
    naming: dict[str, list[int]] = {}
    for chunk in _chunks(ids):
        stmt = (
            select(
                k.c.value,
                ev.c.seq,
                ev.c.event_id,
                ev.c.hash_id,
                ev.c.event_type,
                ev.c.action,
                ev.c.biz_step,
                ev.c.disposition,
                ev.c.event_time,
                ev.c.read_point,
                ev.c.biz_location,
            )
            .join(ev, ev.c.seq == k.c.seq)
            .where(
                k.c.tenant_id == tenant_id,
                k.c.role.in_(OBJECT_ROLES),
                k.c.value.in_(chunk),
                ev.c.event_type.in_(CUSTODY_TYPES),
                ev.c.declaration.is_(False),
                undeclared(tenant_id),
            )
        )
        for value, *rest in await conn.execute(stmt):
            events.setdefault(rest[0], CustodyEvent(*rest))
            naming.setdefault(value, []).append(rest[0])
    return events, naming


async def _fill(conn: AsyncConnection, tenant_id: uuid.UUID, events: dict[int, CustodyEvent]) -> None:
    """Each event's typed lists and platform refs, in two queries per chunk of events."""
    k, ref = epcis_event_key, epcis_event_ref
    for chunk in _chunks(events):
        keys = select(k.c.seq, k.c.role, k.c.qualifier, k.c.value).where(
            k.c.tenant_id == tenant_id, k.c.seq.in_(chunk), k.c.role.in_(list(_LISTS))
        )
        for seq, role, qualifier, value in await conn.execute(keys):
            getattr(events[seq], _LISTS[role]).append((qualifier, value))
        refs = select(ref.c.seq, ref.c.kind, ref.c.ref_id).where(
            ref.c.tenant_id == tenant_id, ref.c.seq.in_(chunk)
        )
        for seq, kind, ref_id in await conn.execute(refs):
            events[seq].refs.append((kind, ref_id))


async def custody_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, ids: Iterable[str]
) -> dict[str, list[CustodyEvent]]:
    """identifier -> the undeclared object and transaction events naming it, in event time order."""
    events, naming = await _named(conn, tenant_id, ids)
    await _fill(conn, tenant_id, events)
    return {
        value: sorted((events[s] for s in set(seqs)), key=lambda e: (e.event_time, e.seq))
        for value, seqs in naming.items()
    }
