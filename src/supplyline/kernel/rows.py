"""Rows as JSON-ready dicts, for the read models that answer straight from a table."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any


def jsonable(row: Mapping[Any, Any]) -> dict[str, Any]:
    """UUIDs as text, timestamps as ISO 8601. Keys go through ``str``: a row mapping's keys are
    str subclasses, which orjson refuses as dict keys."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, uuid.UUID):
            v = str(v)
        elif isinstance(v, datetime | date):
            v = v.isoformat()
        out[str(k)] = v
    return out
