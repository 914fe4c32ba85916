"""The long format the forecasting ecosystem uses for demand (``unique_id, ds, y``: one row per
series and period), read once for everything that takes it: the simulator's replayed history,
``POST /v1/demand-history`` and ``supplyline import demand``.

Reading never stops at the first bad row: every row's problems are collected, so a file is
fixed in one pass. Where a row sits is the caller's to say (``row 7`` of a CSV, counting the
header as row 1; ``rows.5`` of a JSON body), so errors speak in the terms of what was sent.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from supplyline.kernel.errors import FieldError, Invalid

COLUMNS = ("unique_id", "ds", "y")
Where = Callable[[int], str]


@dataclass(frozen=True)
class LongRow:
    """One period of one series, as sent: ``index`` is its place among the rows (0-based)."""

    index: int
    unique_id: str
    ds: str
    y: float


def csv_where(index: int) -> str:
    """A CSV row by its line in the file (the header is line 1)."""
    return f"row {index + 2}"


def json_where(index: int) -> str:
    return f"rows.{index}"


def csv_records(text: str) -> list[dict[str, str]]:
    """The rows of a long-format CSV as dicts; refuses a file without the three columns."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise Invalid("history", f"needs the columns unique_id, ds, y (missing: {', '.join(missing)})")
    return [{k: v for k, v in row.items() if isinstance(k, str)} for row in reader]


def parse_y(raw: object) -> float | str:
    """The quantity, or why it is refused: a finite number at least 0."""
    if isinstance(raw, bool):
        return "must be a number"
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = str(raw if raw is not None else "").strip()
        try:
            value = float(text)
        except ValueError:
            return f"{text[:40]!r} is not a number"
    if not math.isfinite(value) or value < 0:
        return "must be a finite number at least 0"
    return value


def parse_day(raw: str) -> date | None:
    """An ISO 8601 date (``2026-11-30``), or the date of an ISO 8601 timestamp (the
    ``2026-11-30 00:00:00`` pandas writes); None for anything else."""
    try:
        return datetime.fromisoformat(raw).date()
    except ValueError:
        return None


def parse_rows(
    records: Iterable[Mapping[str, object]], where: Where
) -> tuple[list[LongRow], list[FieldError]]:
    """Every row that reads, and every problem of those that do not (``unique_id`` and ``ds``
    present and at most 200 characters, ``y`` a finite number at least 0)."""
    rows: list[LongRow] = []
    errors: list[FieldError] = []
    for i, rec in enumerate(records):
        bad = len(errors)
        texts = {}
        for field in ("unique_id", "ds"):
            raw = rec.get(field)
            text = raw.strip() if isinstance(raw, str) else ""
            if not text:
                errors.append(FieldError(f"{where(i)}.{field}", "is required (a non-empty string)"))
            elif len(text) > 200:
                errors.append(FieldError(f"{where(i)}.{field}", "is longer than 200 characters"))
            elif any(ord(ch) < 32 for ch in text):
                errors.append(FieldError(f"{where(i)}.{field}", "holds a control character"))
            texts[field] = text
        y = parse_y(rec.get("y"))
        if isinstance(y, str):
            errors.append(FieldError(f"{where(i)}.y", y))
        if len(errors) == bad and isinstance(y, float):
            rows.append(LongRow(i, texts["unique_id"], texts["ds"], y))
    return rows, errors
