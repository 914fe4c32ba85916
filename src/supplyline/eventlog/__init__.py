"""The event log: append-only, commit-ordered, replayable; the platform's source of truth."""

from supplyline.eventlog.consumers import Consumer, ConsumerFailed, ConsumerRunner, ConsumerStatus
from supplyline.eventlog.log import EventLog, LogNotifier
from supplyline.eventlog.registry import EventTypeRegistry, UnknownEventType

__all__ = [
    "Consumer",
    "ConsumerFailed",
    "ConsumerRunner",
    "ConsumerStatus",
    "EventLog",
    "EventTypeRegistry",
    "LogNotifier",
    "UnknownEventType",
]
