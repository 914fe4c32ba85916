"""The EPCIS 2.0 repository: capture, storage and query of GS1 EPCIS events, the platform's own
custody events in the same form, lineage over lots and serials, and the recall answer.

Events are stored whole and indexed by what the standard query filters on, with identifiers in
one canonical form so EPC URNs and Digital Links match; each stored event publishes
``epcis.event_recorded``, whose Event Hash ID the ledger (``supplyline.trace``) appends.
"""

from supplyline.epcis.capture import CaptureRefused, DuplicateEvents, capture, record_refusal
from supplyline.epcis.events import EPCIS_EVENT_RECORDED, EVENT_TYPES, EpcisEventRecorded, ledger_leaf
from supplyline.epcis.fsma204 import Fsma204Report, Fsma204Request, day_end, day_start, fsma204_report
from supplyline.epcis.fsma204_output import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, to_csv, to_xlsx
from supplyline.epcis.fsma204_rules import CTE_RULES, CTES
from supplyline.epcis.jobs import get_capture, list_captures
from supplyline.epcis.lineage import Edge, edges_of
from supplyline.epcis.platform_consumer import CONSUMER_NAME as PLATFORM_EVENTS_CONSUMER
from supplyline.epcis.platform_consumer import PlatformEvents
from supplyline.epcis.platform_events import MAPPERS as PLATFORM_MAPPERS
from supplyline.epcis.queries import EventPage, query_document, search_events
from supplyline.epcis.query import (
    EPCIS_EVENT_TYPES,
    MATCH_ROLES,
    PER_PAGE_DEFAULT,
    PER_PAGE_MAX,
    EventQuery,
    parse_query,
)
from supplyline.epcis.recall import Exposure, RecallSeeds, SupplierBatch, recall, resolve_lot
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
from supplyline.epcis.traceability import Lineage, LineageEdge, Node, trace
from supplyline.epcis.validation import MAX_EVENTS, EventError, validate_document, validate_event
from supplyline.epcis.visibility import VISIBILITY

MATCH_PARAMETERS = tuple(MATCH_ROLES)

__all__ = [
    "CSV_MEDIA_TYPE",
    "CTES",
    "CTE_RULES",
    "EPCIS_EVENT_RECORDED",
    "EPCIS_EVENT_TYPES",
    "EVENT_TYPES",
    "MATCH_PARAMETERS",
    "MAX_EVENTS",
    "PER_PAGE_DEFAULT",
    "PER_PAGE_MAX",
    "PLATFORM_EVENTS_CONSUMER",
    "PLATFORM_MAPPERS",
    "VISIBILITY",
    "XLSX_MEDIA_TYPE",
    "CaptureRefused",
    "DuplicateEvents",
    "Edge",
    "EpcisEventRecorded",
    "EventError",
    "EventPage",
    "EventQuery",
    "EventRecord",
    "Exposure",
    "Fsma204Report",
    "Fsma204Request",
    "Key",
    "Lineage",
    "LineageEdge",
    "Node",
    "PlatformEvents",
    "RecallSeeds",
    "SupplierBatch",
    "canonical_id",
    "canonical_term",
    "capture",
    "day_end",
    "day_start",
    "edges_of",
    "fsma204_report",
    "get_capture",
    "index_event",
    "insert_events",
    "ledger_leaf",
    "list_captures",
    "parse_query",
    "parse_time",
    "prefixes_of",
    "query_document",
    "recall",
    "record_refusal",
    "resolve_lot",
    "search_events",
    "to_csv",
    "to_xlsx",
    "trace",
    "validate_document",
    "validate_event",
]
