"""The EPCIS 2.0 repository: capture, storage and query of GS1 EPCIS events, the platform's own
custody events in the same form, lineage over lots and serials, and the recall answer.

Events are stored whole and indexed by what the standard query filters on, with identifiers in
one canonical form so EPC URNs and Digital Links match; each stored event publishes
``epcis.event_recorded``, whose Event Hash ID the ledger (``supplyline.trace``) appends.
"""

from supplyline.epcis.capture import CaptureRefused, DuplicateEvents, capture, record_refusal
from supplyline.epcis.events import EPCIS_EVENT_RECORDED, EVENT_TYPES, EpcisEventRecorded
from supplyline.epcis.jobs import get_capture, list_captures
from supplyline.epcis.lineage import Edge, edges_of
from supplyline.epcis.store import (
    EventRecord,
    Key,
    canonical_id,
    canonical_term,
    index_event,
    insert_events,
    parse_time,
    prefixes_of,
)
from supplyline.epcis.validation import MAX_EVENTS, EventError, validate_document, validate_event

__all__ = [
    "EPCIS_EVENT_RECORDED",
    "EVENT_TYPES",
    "MAX_EVENTS",
    "CaptureRefused",
    "DuplicateEvents",
    "Edge",
    "EpcisEventRecorded",
    "EventError",
    "EventRecord",
    "Key",
    "canonical_id",
    "canonical_term",
    "capture",
    "edges_of",
    "get_capture",
    "index_event",
    "insert_events",
    "list_captures",
    "parse_time",
    "prefixes_of",
    "record_refusal",
    "validate_document",
    "validate_event",
]
