"""Shared vocabulary of every capability: ids, time, errors, scope, cursors, events."""

from supplyline.kernel.clock import Clock, utcnow
from supplyline.kernel.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
)
from supplyline.kernel.ids import new_id
from supplyline.kernel.scope import Action, Grant, Reach, ReachKind, Scope

__all__ = [
    "Action",
    "Clock",
    "Conflict",
    "DomainError",
    "FieldError",
    "Forbidden",
    "Grant",
    "Invalid",
    "NotFound",
    "PayloadTooLarge",
    "Reach",
    "ReachKind",
    "Scope",
    "Unauthorized",
    "new_id",
    "utcnow",
]
