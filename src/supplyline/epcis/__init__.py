"""The EPCIS 2.0 repository: capture, storage and query of GS1 EPCIS events, the platform's own
custody events in the same form, lineage over lots and serials, and the recall answer.

Events are stored whole and indexed by what the standard query filters on, with identifiers in
one canonical form so EPC URNs and Digital Links match; each stored event publishes
``epcis.event_recorded``, whose Event Hash ID the ledger (``supplyline.trace``) appends.
"""

from supplyline.epcis.events import EPCIS_EVENT_RECORDED, EVENT_TYPES, EpcisEventRecorded
from supplyline.epcis.fsma204 import Fsma204Report, Fsma204Request, day_end, day_start, fsma204_report
from supplyline.epcis.fsma204_output import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, to_csv, to_xlsx
from supplyline.epcis.fsma204_rules import CTE_RULES, CTES
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

__all__ = [
    "CSV_MEDIA_TYPE",
    "CTES",
    "CTE_RULES",
    "EPCIS_EVENT_RECORDED",
    "EVENT_TYPES",
    "XLSX_MEDIA_TYPE",
    "Edge",
    "EpcisEventRecorded",
    "EventRecord",
    "Fsma204Report",
    "Fsma204Request",
    "Key",
    "canonical_id",
    "canonical_term",
    "day_end",
    "day_start",
    "edges_of",
    "fsma204_report",
    "index_event",
    "insert_events",
    "parse_time",
    "prefixes_of",
    "to_csv",
    "to_xlsx",
]
