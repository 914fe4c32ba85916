"""The CSV form of the trail: a header row, then one row per entry; before/after as JSON text.

Values are written as recorded: an auditor's tools get the trail byte for byte, so nothing is
prefixed to defuse spreadsheet formulas (open the file as data, not as a sheet of formulas).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

import orjson

COLUMNS = (
    "time",
    "id",
    "position",
    "tenant_id",
    "actor",
    "principal_id",
    "organization_id",
    "action",
    "object",
    "outcome",
    "reason",
    "before",
    "after",
    "method",
    "path",
    "request_id",
    "correlation_id",
    "key_prefix",
)
_JSON_COLUMNS = frozenset({"before", "after"})


def _cell(name: str, value: Any) -> Any:
    if name in _JSON_COLUMNS:
        return "" if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return "" if value is None else value


def csv_text(entries: Iterable[dict[str, Any]], *, header: bool = False) -> str:
    """CSV lines (RFC 4180, CRLF) of ``entries`` as ``queries.entry_view`` shapes them."""
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(COLUMNS)
    for e in entries:
        writer.writerow([_cell(c, e.get(c)) for c in COLUMNS])
    return out.getvalue()
