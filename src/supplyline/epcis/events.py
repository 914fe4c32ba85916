"""The platform event every stored EPCIS event publishes: the ledger records its hash ID."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

from supplyline.kernel.events import EventType, StoredEvent


class EpcisEventRecorded(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seq: int
    event_id: str
    hash_id: str  # the GS1 CBV 2.0 Event Hash ID: the leaf the ledger appends
    event_type: str
    declaration: bool
    source: str  # capture | platform
    capture_id: uuid.UUID | None = None


EPCIS_EVENT_RECORDED = EventType(
    "epcis.event_recorded",
    1,
    EpcisEventRecorded,
    "An EPCIS 2.0 event was stored (captured, or emitted by the platform itself).",
)
EVENT_TYPES = [EPCIS_EVENT_RECORDED]


def ledger_leaf(event: StoredEvent) -> str:
    """The leaf the ledger appends for an ``epcis.event_recorded`` event: its Event Hash ID, so a
    partner holding the EPCIS event finds it in the log by the hash both systems compute."""
    return str(event.data["hash_id"])
