"""A demand history for replay, read from the long format the forecasting ecosystem uses
(``unique_id, ds, y``): one series, in time order, gaps filled with zero demand.

Dated rows are placed on the series' own step (the smallest gap between dates: a day for a
daily series, seven for a weekly one), so a missing period is a period without demand rather
than a period that never happened.
"""

from __future__ import annotations

import itertools
from datetime import date

from supplyline.kernel.errors import FieldError, Invalid
from supplyline.planning.longformat import csv_records, csv_where, parse_day, parse_rows

MAX_HISTORY_PERIODS = 100_000


def read_history(text: str, series: str | None = None) -> tuple[float, ...]:
    """The demand per period of one series (``series``, or the only one in the file)."""
    parsed, errors = parse_rows(csv_records(text), csv_where)
    if errors:
        raise Invalid.many(errors[:10])
    rows = [(r.unique_id, r.ds, r.y) for r in parsed]
    ids = sorted({uid for uid, _, _ in rows})
    if series is None:
        if len(ids) != 1:
            raise Invalid("series", f"the file holds {len(ids)} series; name one ({', '.join(ids[:5])})")
        series = ids[0]
    picked = [(ds, y) for uid, ds, y in rows if uid == series]
    if not picked:
        raise Invalid("series", f"no rows for {series!r}")
    days = [parse_day(ds) for ds, _ in picked]
    if all(d is not None for d in days):
        return _fill_dated([(d, y) for d, (_, y) in zip(days, picked, strict=True) if d is not None])
    return tuple(y for _, y in picked)


def _fill_dated(points: list[tuple[date, float]]) -> tuple[float, ...]:
    points.sort()
    # Sorted, so a repeated date sits next to its twin.
    duplicates = [
        FieldError("ds", f"{a.isoformat()} appears twice")
        for (a, _), (b, _) in itertools.pairwise(points)
        if a == b
    ]
    if duplicates:
        raise Invalid.many(duplicates[:10])
    ordinals = [d.toordinal() for d, _ in points]
    gaps = [b - a for a, b in itertools.pairwise(ordinals)]
    step = min(gaps) if gaps else 1
    span = (ordinals[-1] - ordinals[0]) // step + 1
    if span > MAX_HISTORY_PERIODS:
        raise Invalid("history", f"spans {span} periods; at most {MAX_HISTORY_PERIODS}")
    values = [0.0] * span
    for ordinal, (_, y) in zip(ordinals, points, strict=True):
        offset = ordinal - ordinals[0]
        if offset % step:
            raise Invalid("ds", f"dates are not on a {step}-day step")
        values[offset // step] = y
    return tuple(values)
