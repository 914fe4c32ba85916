"""The EPCIS 2.0 capture interface: a document (or one event) in, all of it stored or none.

Every event is validated before anything is written (``captureErrorBehaviour`` is always
``rollback``): one fault refuses the whole document with every fault named. A refused capture
still leaves a job saying why, written in its own transaction by ``record_refusal`` (the
caller's unit of work rolled back), so ``GET /v1/epcis/capture/{id}`` explains the failure.
An accepted capture commits its job, already finished and successful, with its events.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics
from supplyline.db.dialect import lock_event_log
from supplyline.epcis.jobs import write_job
from supplyline.epcis.store import EventRecord, index_event, insert_events
from supplyline.epcis.tables import epcis_event
from supplyline.epcis.validation import EventError, validate_document
from supplyline.kernel.errors import Conflict, FieldError, Invalid
from supplyline.kernel.uow import UnitOfWork

MAX_ID = 512  # epcis_event.event_id, read_point, biz_location and key values
MAX_QUALIFIER = 300
_LOT_DL = re.compile(r"https?://[^/]+(?:/.*)?/01/(\d{8,14})/10/([^/?#]+)")
_BATCH = 500


def _field(error: EventError, single: bool) -> str:
    if error.index is None or single:
        return error.field
    return f"eventList[{error.index}].{error.field}"


class CaptureRefused(Invalid):
    """The document is not valid EPCIS 2.0 / CBV 2.0: nothing of it was stored."""

    def __init__(self, errors: Sequence[EventError], *, single: bool = False) -> None:
        self.event_errors = list(errors)
        first, *rest = [FieldError(_field(e, single), e.reason) for e in errors]
        super().__init__(first.field, first.reason, more=rest)
        self.detail = f"the capture is refused whole ({len(errors)} faults): {self.detail}"


class DuplicateEvents(Conflict):
    """Events whose eventID the tenant already holds, or that the document repeats."""

    def __init__(self, errors: Sequence[EventError], *, single: bool = False) -> None:
        self.event_errors = list(errors)
        fields = [FieldError(_field(e, single), e.reason) for e in errors]
        super().__init__(f"{len(errors)} events are already captured; nothing was stored", fields)


async def capture(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    document: Any,
    *,
    actor: str,
    organization_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Validate, index and store every event of ``document`` in ``uow``; returns the job.

    Raises ``CaptureRefused`` (422) naming every fault, or ``DuplicateEvents`` (409)."""
    events, context, errors = validate_document(document)
    single = isinstance(document, Mapping) and "epcisBody" not in document and events == [document]
    if errors:
        raise CaptureRefused(errors, single=single)
    records, errors = index_all(events, context)
    if errors:
        raise CaptureRefused(errors, single=single)
    # Two captures of the same new eventID at once: the second waits here (the lock insert_events
    # takes anyway, taken before the check) and then finds the first's events, a 409 rather than
    # a unique-constraint failure. SQLite writers are serialised by BEGIN IMMEDIATE already.
    await lock_event_log(uow.conn)
    duplicates = await find_duplicates(uow.conn, tenant_id, records)
    if duplicates:
        raise DuplicateEvents(duplicates, single=single)
    await link_records(uow.conn, tenant_id, events, records)
    job = await write_job(uow, tenant_id, actor, len(records), (), organization_id)
    await insert_events(
        uow,
        tenant_id,
        records,
        source="capture",
        actor=actor,
        capture_id=uuid.UUID(job["captureID"]),
        organization_id=organization_id,
    )
    return job


async def record_refusal(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    actor: str,
    errors: Sequence[EventError],
    organization_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The job of a refused capture (``success: false`` with its errors); the caller commits."""
    return await write_job(uow, tenant_id, actor, 0, errors, organization_id)


def index_all(
    events: Sequence[Mapping[str, Any]], context: Any
) -> tuple[list[EventRecord], list[EventError]]:
    """Each event's record, or why it cannot be stored (an identifier longer than its column
    once expanded; anything the hash cannot read, which validation should have refused)."""
    records: list[EventRecord] = []
    errors: list[EventError] = []
    for index, event in enumerate(events):
        try:
            record = index_event(event, context)
        except (ValueError, OverflowError) as exc:
            errors.append(EventError(index, "event", f"cannot be indexed ({exc})"))
            continue
        fault = _too_long(record)
        if fault is not None:
            errors.append(EventError(index, fault[0], fault[1]))
        records.append(record)
    return records, errors


def _too_long(record: EventRecord) -> tuple[str, str] | None:
    for name, value in (("readPoint", record.read_point), ("bizLocation", record.biz_location)):
        if value is not None and len(value) > MAX_ID:
            return f"{name}.id", f"is longer than {MAX_ID} characters once expanded"
    for key in record.keys:
        if len(key.value) > MAX_ID or len(key.qualifier) > MAX_QUALIFIER:
            return key.role, f"'{key.value[:80]}' is longer than {MAX_ID} characters once expanded"
    return None


async def find_duplicates(
    conn: AsyncConnection, tenant_id: uuid.UUID, records: Sequence[EventRecord]
) -> list[EventError]:
    """Events already held (same eventID, as given, and same declaration flag) or repeated."""
    seen: dict[tuple[str, bool], int] = {}
    errors: list[EventError] = []
    for index, r in enumerate(records):
        key = (r.event_id, r.declaration)
        if key in seen:
            errors.append(EventError(index, "eventID", f"repeats event {seen[key]} of this document"))
        seen.setdefault(key, index)
    t = epcis_event
    held: set[tuple[str, bool]] = set()
    keys = list(seen)
    for start in range(0, len(keys), _BATCH):
        batch = keys[start : start + _BATCH]
        stmt = select(t.c.event_id, t.c.declaration).where(
            t.c.tenant_id == tenant_id, t.c.event_id.in_(sorted({k[0] for k in batch}))
        )
        held |= {(row.event_id, row.declaration) for row in await conn.execute(stmt)}
    for key, index in seen.items():
        if key in held:
            what = "its error declaration is" if key[1] else "an event with this eventID is"
            errors.append(EventError(index, "eventID", f"'{key[0][:100]}': {what} already captured"))
    return sorted(errors, key=lambda e: e.index or 0)


def _lots_named(event: Mapping[str, Any], record: EventRecord) -> set[tuple[str, str]]:
    """(GTIN, lot code) pairs of an event: its LGTIN classes and Digital Links with /10/."""
    values = [k.value for k in record.keys]
    for name in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
        values += [v for v in event.get(name) or () if isinstance(v, str)]
    found = set()
    for value in values:
        match = _LOT_DL.match(value)
        if match:
            found.add((match.group(1).zfill(14), unquote(match.group(2))))
    return found


def _numbers_named(event: Mapping[str, Any]) -> set[str]:
    """The last segment of each business transaction id: ``urn:...:PO-1234`` -> ``PO-1234``."""
    out = set()
    for item in event.get("bizTransactionList") or ():
        value = item.get("bizTransaction") if isinstance(item, Mapping) else None
        if isinstance(value, str):
            out.add(unquote(re.split(r"[:/]", value.rstrip("/"))[-1]))
    return out


async def link_records(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    events: Sequence[Mapping[str, Any]],
    records: list[EventRecord],
) -> None:
    """Fill each record's refs: the lots, orders and shipments of the tenant it names."""
    lots = [_lots_named(e, r) for e, r in zip(events, records, strict=True)]
    numbers = [_numbers_named(e) for e in events]
    found_lots = await logistics.lots_by_gtin(conn, tenant_id, set().union(*lots))
    found_numbers = await logistics.records_by_number(conn, tenant_id, set().union(*numbers))
    for record, pairs, named in zip(records, lots, numbers, strict=True):
        record.refs |= {("lot", found_lots[p]) for p in pairs if p in found_lots}
        for kind, by_number in found_numbers.items():
            record.refs |= {(kind, by_number[n]) for n in named if n in by_number}
