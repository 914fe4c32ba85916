"""Shared vocabulary of every capability: ids, time, errors, scope, cursors, events."""

from supplyline.kernel.clock import utcnow
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
from supplyline.kernel.scope import Permission, Role, Scope

__all__ = [
    "Conflict",
    "DomainError",
    "FieldError",
    "Forbidden",
    "Invalid",
    "NotFound",
    "PayloadTooLarge",
    "Permission",
    "Role",
    "Scope",
    "Unauthorized",
    "new_id",
    "utcnow",
]
