"""The event log: append-only, commit-ordered, replayable; the platform's source of truth."""

from supplyline.eventlog.consumers import (
    Consumer,
    ConsumerFailed,
    ConsumerRunner,
    ConsumerStatus,
    head_position,
)
from supplyline.eventlog.log import EVENT_PAGES, EventLog, LogNotifier, to_stored
from supplyline.eventlog.projections import EntityIndexProjection, entity_counts
from supplyline.eventlog.queries import (
    EventFilter,
    event_view,
    events_by_id,
    find_events,
    matches,
    newest_first,
)
from supplyline.eventlog.registry import EventTypeRegistry, UnknownEventType
from supplyline.eventlog.retention import count_events, delete_events, handled_through
from supplyline.eventlog.tables import eventlog_event
from supplyline.eventlog.work import ConsumerWork

__all__ = [
    "EVENT_PAGES",
    "Consumer",
    "ConsumerFailed",
    "ConsumerRunner",
    "ConsumerStatus",
    "ConsumerWork",
    "EntityIndexProjection",
    "EventFilter",
    "EventLog",
    "EventTypeRegistry",
    "LogNotifier",
    "UnknownEventType",
    "count_events",
    "delete_events",
    "entity_counts",
    "event_view",
    "eventlog_event",
    "events_by_id",
    "find_events",
    "handled_through",
    "head_position",
    "matches",
    "newest_first",
    "to_stored",
]
