"""Alarms: raised by rules, deduplicated per originator and type, acknowledged and escalated."""

from supplyline.alarms.events import EVENT_TYPES
from supplyline.alarms.model import AssignIn, CommentIn, EscalationPolicyIn, Status
from supplyline.alarms.queries import get_alarm, list_alarms, shipment_alarm_windows
from supplyline.alarms.resources import RESOURCES
from supplyline.alarms.service import (
    AlarmBook,
    RaiseAlarm,
    acknowledge,
    any_due,
    assign,
    clear,
    clear_for,
    clear_of_rule,
    comment,
    escalate_due,
    raise_alarm,
)
from supplyline.alarms.visibility import VISIBILITY

__all__ = [
    "EVENT_TYPES",
    "RESOURCES",
    "VISIBILITY",
    "AlarmBook",
    "AssignIn",
    "CommentIn",
    "EscalationPolicyIn",
    "RaiseAlarm",
    "Status",
    "acknowledge",
    "any_due",
    "assign",
    "clear",
    "clear_for",
    "clear_of_rule",
    "comment",
    "escalate_due",
    "get_alarm",
    "list_alarms",
    "raise_alarm",
    "shipment_alarm_windows",
]
