"""The demo tenant's demand history: a year of daily sales of each product at the DC, as a
planner would load it from the ERP (the long format ``unique_id, ds, y``), so forecasts and
replenishment have something to plan with from the first minute."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

# (sku, site code, mean per day); weekdays sell more than weekends.
SERIES = (("VAX-FLU-10", "DC-LYON", 110.0), ("INS-PEN-5", "DC-LYON", 18.0))
DAYS = 365
WEEKLY = (1.1, 1.15, 1.1, 1.05, 1.2, 0.75, 0.65)  # Monday first; averages 1.0


def demand_history(today: date, *, seed: int = 7) -> list[dict[str, object]]:
    """The rows, ending yesterday; the same for the same day and seed."""
    rng = random.Random(seed)  # noqa: S311 (made-up sales, not a secret)
    rows: list[dict[str, object]] = []
    for sku, site, mean in SERIES:
        for back in range(DAYS, 0, -1):
            day = today - timedelta(days=back)
            week = WEEKLY[day.weekday()]
            season = 1 + 0.1 * math.sin(2 * math.pi * day.timetuple().tm_yday / 365)
            y = max(0.0, rng.gauss(mean * week * season, mean * 0.12))
            rows.append({"unique_id": f"{sku}@{site}", "ds": day.isoformat(), "y": round(y)})
    return rows
