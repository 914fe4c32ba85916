"""Storing EPCIS events: one indexed row each, its keys, its platform refs and lineage edges,
and the platform event the ledger records, all in the caller's unit of work.

Validation is the capture's business (``supplyline.epcis.capture``); this module takes events
that are already valid and only derives what queries and traces look up by.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from supplyline.db.dialect import lock_event_log
from supplyline.epcis.events import EPCIS_EVENT_RECORDED
from supplyline.epcis.lineage import Edge, edges_of
from supplyline.epcis.tables import (
    epcis_event,
    epcis_event_key,
    epcis_event_ref,
    epcis_lineage_edge,
)
from supplyline.kernel.clock import utcnow
from supplyline.kernel.events import NewEvent
from supplyline.kernel.uow import UnitOfWork
from supplyline.trace import (
    CBV_URI,
    STANDARD_PREFIXES,
    context_prefixes,
    event_hash_id,
    event_type,
    normalise_uri,
    vocabulary_term,
)

SOURCE = "/supplyline/epcis"
Prefixes = Mapping[str, str]

# Where each event type keeps the identifiers the query's MATCH_ parameters look at.
_EPC_ROLES = (
    ("epcList", "epc"),
    ("childEPCs", "child"),
    ("inputEPCList", "input"),
    ("outputEPCList", "output"),
)
_CLASS_ROLES = (
    ("quantityList", "class"),
    ("childQuantityList", "child_class"),
    ("inputQuantityList", "input_class"),
    ("outputQuantityList", "output_class"),
)
_TYPED_ROLES = (
    ("bizTransactionList", "btx", "bizTransaction", "BTT-"),
    ("sourceList", "source", "source", "SDT-"),
    ("destinationList", "destination", "destination", "SDT-"),
)


def prefixes_of(context: Any) -> dict[str, str]:
    """The CURIE prefixes in force: the standard context's and the document's own."""
    return {**STANDARD_PREFIXES, **context_prefixes(context)}


def canonical_id(value: str, prefixes: Prefixes = STANDARD_PREFIXES) -> str:
    """An identifier in the one form keys are stored and queried in (EPC URN -> Digital Link)."""
    return normalise_uri(value, prefixes)


def canonical_term(value: str, vocabulary: str, prefixes: Prefixes = STANDARD_PREFIXES) -> str:
    """A CBV term (``receiving``, ``cbv:BizStep-receiving``, its URN or URI) as its Web URI;
    ``vocabulary`` is the term prefix (``BizStep-``, ``Disp-``, ``BTT-``...)."""
    return vocabulary_term(value, CBV_URI + vocabulary, prefixes)


@dataclass(frozen=True)
class Key:
    role: str
    qualifier: str
    value: str


@dataclass
class EventRecord:
    """An event ready to store: its columns, keys, refs and lineage edges, derived once."""

    document: dict[str, Any]
    context: Any
    event_id: str
    hash_id: str
    event_type: str
    event_time: datetime
    event_time_zone_offset: str
    action: str | None
    biz_step: str | None
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    declaration: bool
    keys: list[Key]
    edges: list[Edge]
    refs: set[tuple[str, uuid.UUID]] = field(default_factory=set)


def parse_time(value: str) -> datetime:
    """An EPCIS timestamp (``xsd:dateTimeStamp``, any UTC offset) as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))


def _offset(event: Mapping[str, Any], at: datetime) -> str:
    given = event.get("eventTimeZoneOffset")
    if isinstance(given, str):
        return given
    delta = at.utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta is not None else 0
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _id_of(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _keys(event: Mapping[str, Any], prefixes: Prefixes) -> list[Key]:
    found: dict[Key, None] = {}
    for name, role in _EPC_ROLES:
        for epc in event.get(name) or ():
            if isinstance(epc, str):
                found[Key(role, "", canonical_id(epc, prefixes))] = None
    parent = event.get("parentID")
    if isinstance(parent, str):
        found[Key("parent", "", canonical_id(parent, prefixes))] = None
    for name, role in _CLASS_ROLES:
        for q in event.get(name) or ():
            if isinstance(q, Mapping) and isinstance(q.get("epcClass"), str):
                found[Key(role, "", canonical_id(q["epcClass"], prefixes))] = None
    for name, role, child, vocabulary in _TYPED_ROLES:
        for item in event.get(name) or ():
            if isinstance(item, Mapping) and isinstance(item.get(child), str):
                kind = item.get("type")
                qualifier = canonical_term(kind, vocabulary, prefixes) if isinstance(kind, str) else ""
                found[Key(role, qualifier, canonical_id(item[child], prefixes))] = None
    return list(found)


def index_event(event: Mapping[str, Any], context: Any = None) -> EventRecord:
    """Derive what is stored and searched of one valid event (it is not modified)."""
    prefixes = prefixes_of(context)
    hash_id = event_hash_id(event, context)
    at = parse_time(str(event["eventTime"]))
    document = dict(event)
    document.setdefault("eventID", hash_id)
    step, disp = event.get("bizStep"), event.get("disposition")
    read_point, location = _id_of(event.get("readPoint")), _id_of(event.get("bizLocation"))
    return EventRecord(
        document=document,
        context=context,
        event_id=str(document["eventID"]),
        hash_id=hash_id,
        event_type=event_type(event) or "",
        event_time=at,
        event_time_zone_offset=_offset(event, at),
        action=event.get("action") if isinstance(event.get("action"), str) else None,
        biz_step=canonical_term(step, "BizStep-", prefixes) if isinstance(step, str) else None,
        disposition=canonical_term(disp, "Disp-", prefixes) if isinstance(disp, str) else None,
        read_point=canonical_id(read_point, prefixes) if read_point else None,
        biz_location=canonical_id(location, prefixes) if location else None,
        declaration="errorDeclaration" in event,
        keys=_keys(event, prefixes),
        edges=edges_of(event, prefixes),
    )


async def insert_events(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    records: Sequence[EventRecord],
    *,
    source: str,
    actor: str,
    capture_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
) -> list[int]:
    """Store the records in order and publish ``epcis.event_recorded`` for each; returns their
    seqs. The caller has checked for duplicates: the unique (tenant, eventID, declaration)
    constraint refuses one that slipped through, and the whole unit of work with it."""
    if not records:
        return []
    # The seqs must follow commit order, as log positions do, so that a query paging by seq
    # never passes over one still in flight (PostgreSQL hands out sequence numbers at insert):
    # the event-log lock, which this unit of work takes at commit anyway, is taken first.
    await lock_event_log(uow.conn)
    now = utcnow()
    rows = [_row(tenant_id, r, now, source, capture_id, organization_id) for r in records]
    t = epcis_event
    # Seqs are matched back by the (eventID, declaration) each row is unique on: asking for
    # them in parameter order makes SQLAlchemy insert one row per statement on SQLite (25x slower).
    result = await uow.conn.execute(t.insert().returning(t.c.seq, t.c.event_id, t.c.declaration), rows)
    seq_of = {(row.event_id, bool(row.declaration)): int(row.seq) for row in result}
    seqs = [seq_of[(r.event_id, r.declaration)] for r in records]
    keys, refs, edges = [], [], []
    for seq, r in zip(seqs, records, strict=True):
        keys += [
            {"tenant_id": tenant_id, "seq": seq, "role": k.role, "qualifier": k.qualifier, "value": k.value}
            for k in r.keys
        ]
        refs += [{"tenant_id": tenant_id, "seq": seq, "kind": kind, "ref_id": ref} for kind, ref in r.refs]
        if not r.declaration:
            edges += [{"tenant_id": tenant_id, "seq": seq, **e.row()} for e in r.edges]
        uow.publish(_recorded(tenant_id, seq, r, source, capture_id, actor))
    for table, batch in ((epcis_event_key, keys), (epcis_event_ref, refs), (epcis_lineage_edge, edges)):
        if batch:
            await uow.conn.execute(table.insert(), batch)
    return seqs


def _row(
    tenant_id: uuid.UUID,
    r: EventRecord,
    now: datetime,
    source: str,
    capture_id: uuid.UUID | None,
    organization_id: uuid.UUID | None,
) -> dict[str, Any]:
    document = {**r.document, "recordTime": now.isoformat().replace("+00:00", "Z")}
    return {
        "tenant_id": tenant_id,
        "event_id": r.event_id,
        "hash_id": r.hash_id,
        "event_type": r.event_type,
        "event_time": r.event_time,
        "event_time_zone_offset": r.event_time_zone_offset,
        "record_time": now,
        "action": r.action,
        "biz_step": r.biz_step,
        "disposition": r.disposition,
        "read_point": r.read_point,
        "biz_location": r.biz_location,
        "declaration": r.declaration,
        "source": source,
        "capture_id": capture_id,
        "organization_id": organization_id,
        "document": document,
        "context": r.context,
    }


def _recorded(
    tenant_id: uuid.UUID, seq: int, r: EventRecord, source: str, capture_id: uuid.UUID | None, actor: str
) -> NewEvent:
    data = {
        "seq": seq,
        "event_id": r.event_id,
        "hash_id": r.hash_id,
        "event_type": r.event_type,
        "declaration": r.declaration,
        "source": source,
        "capture_id": None if capture_id is None else str(capture_id),
    }
    return NewEvent(
        type=EPCIS_EVENT_RECORDED.type,
        tenant_id=tenant_id,
        subject=f"epcis/events/{seq}",
        source=SOURCE,
        data=data,
        actor=actor,
    )
