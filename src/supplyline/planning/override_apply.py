"""Applying planner overrides to statistical forecast points: pure, so that the API, FVA and any
later consumer compute the final forecast the same way, and the statistical points stay as made.

The rules (docs/overrides.md):

- Overrides are stated per day. A daily point is one day; a weekly point (Monday start) is
  spread evenly over its seven days, each day adjusted, and the days summed back.
- On a day, only the overrides active as of ``as_of`` count (made by then, not withdrawn, not
  expired). Where several cover the day, the newest (latest ``created_at``, then id) wins
  alone: a planner's latest judgement replaces their earlier one rather than stacking on it.
- A day's final quantity is never negative.
- Bands follow the final value: scaled by final/statistical when every override applied in the
  period is a 'percent' one (uncertainty scales with the level), otherwise shifted by
  final - statistical; the lower bounds are kept at or above zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from supplyline.planning.override_model import AdjustedPoint, Override, Point

DAYS = {"day": 1, "week": 7}


def _winner(overrides: Sequence[Override], day: date) -> Override | None:
    covering = [o for o in overrides if o.covers(day)]
    return max(covering, key=lambda o: (o.created_at, o.id)) if covering else None


def apply_overrides(
    points: Iterable[Point], overrides: Iterable[Override], *, as_of: datetime, grain: str = "day"
) -> list[AdjustedPoint]:
    """Each point with its final value, the overrides that made it and its shifted bands."""
    if grain not in DAYS:
        raise ValueError(f"grain must be one of {tuple(DAYS)}")
    active = [o for o in overrides if o.active(as_of)]
    return [_adjust(p, active, DAYS[grain]) for p in points]


def _adjust(point: Point, active: Sequence[Override], days: int) -> AdjustedPoint:
    per_day = point.mean / days
    final = 0.0
    used: dict[Override, None] = {}
    for i in range(days):
        winner = _winner(active, point.ds + timedelta(days=i))
        if winner is None:
            final += per_day
        else:
            final += winner.on(per_day)
            used[winner] = None
    if not used:
        final = point.mean  # exactly the statistical value, not a sum of its parts
    chosen = sorted(used, key=lambda o: (o.created_at, o.id))
    bands = _bands(point, final, all(o.kind == "percent" for o in chosen) and bool(chosen))
    return AdjustedPoint(
        ds=point.ds,
        statistical=point.mean,
        final=final,
        lo80=bands[0],
        hi80=bands[1],
        lo95=bands[2],
        hi95=bands[3],
        override_ids=tuple(o.id for o in chosen),
        reason_codes=tuple(dict.fromkeys(o.reason_code for o in chosen)),
    )


def _bands(point: Point, final: float, scale: bool) -> tuple[float, float, float, float]:
    raw = (point.lo80, point.hi80, point.lo95, point.hi95)
    if scale and point.mean > 0:
        ratio = final / point.mean
        lo80, hi80, lo95, hi95 = (b * ratio for b in raw)
    else:
        shift = final - point.mean
        lo80, hi80, lo95, hi95 = (b + shift for b in raw)
    return max(0.0, min(lo80, final)), max(hi80, final), max(0.0, min(lo95, final)), max(hi95, final)
