"""Loop step 5 as the demo tells it: after the holds, the held product's sellable stock, the
forecast re-run because of the hold (its provenance), and the replenishment recommendation,
which now orders more, with the reason "held stock".

It asks the API as a planner would: ``GET /v1/forecasts`` and ``POST
/v1/replenishment/recommendations`` for each product and site the shipment's lots are stocked
at, before the readings and after the holds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Get = Callable[..., Awaitable[Any]]
Post = Callable[[str, dict[str, Any]], Awaitable[Any]]
Rows = list[tuple[str, str]]
HELD_STOCK = "held stock"


@dataclass
class PlanView:
    """What planning said of each (product, site) before the loop."""

    series: list[tuple[str, str]] = field(default_factory=list)  # (product id, site id)
    names: dict[str, str] = field(default_factory=dict)  # product id -> sku, site id -> code
    before: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # recommendations
    runs: dict[tuple[str, str], str | None] = field(default_factory=dict)  # latest run's started_at


async def baseline(view: PlanView, get: Get, post: Post) -> None:
    """Remember each series' recommendation and latest forecast run before the readings."""
    for key in view.series:
        view.before[key] = await recommend(post, *key)
        forecast = await latest_forecast(get, *key)
        view.runs[key] = forecast["run"]["started_at"] if forecast else None


async def recommend(post: Post, product_id: str, site_id: str) -> dict[str, Any]:
    body = {"product_id": product_id, "site_id": site_id, "cycle_service_level": 0.95, "horizon_days": 14}
    out: dict[str, Any] = await post("/v1/replenishment/recommendations", body)
    return out


async def latest_forecast(get: Get, product_id: str, site_id: str) -> dict[str, Any] | None:
    out: dict[str, Any] | None = await get("/v1/forecasts", product=product_id, site=site_id, missing_ok=True)
    return out


async def held_run(get: Get, view: PlanView, key: tuple[str, str]) -> dict[str, Any] | None:
    """The newest run a hold triggered since the baseline. Not simply the newest run: the
    shipment's own order may register as a demand spike and re-forecast after the hold."""
    product_id, site_id = key
    found = await get("/v1/forecasts/runs", product=product_id, site=site_id, trigger="lot.held", limit=1)
    items: list[dict[str, Any]] = found["items"]
    if not items:
        return None
    before = view.runs.get(key)
    started = datetime.fromisoformat(items[0]["started_at"])
    return items[0] if before is None or started > datetime.fromisoformat(before) else None


async def observe(view: PlanView, get: Get, post: Post) -> tuple[str, Rows] | None:
    """The step's rows once every series shows the hold: a re-forecast triggered by it and a
    recommendation that counts the held stock; None while either is not there yet."""
    rows: Rows = []
    for key in view.series:
        run = await held_run(get, view, key)
        if run is None:
            return None
        now = await recommend(post, *key)
        if not any(r.startswith(HELD_STOCK) for r in now["reasons"]):
            return None
        rows += _rows(view, key, view.before[key], now, run)
    product_names = sorted({view.names.get(p, p) for p, _ in view.series})
    return (
        f"Planning: sellable stock, forecast and replenishment of {', '.join(product_names)} adjusted",
        rows,
    )


def _rows(
    view: PlanView, key: tuple[str, str], was: dict[str, Any], now: dict[str, Any], run: dict[str, Any]
) -> Rows:
    product, site = view.names.get(key[0], key[0]), view.names.get(key[1], key[1])
    unit = now["unit"]
    before_q = sum(o["quantity"] for o in was["orders"])
    now_q = sum(o["quantity"] for o in now["orders"])
    held = next(r for r in now["reasons"] if r.startswith(HELD_STOCK))
    window = run["input"]
    return [
        (
            f"sellable {product} @ {site}",
            f"{was['sellable']:g} -> {now['sellable']:g} {unit} (held {now['held']:g})",
        ),
        (
            f"forecast {product} @ {site}",
            f"re-run on {run['trigger']}: {run['model']} ({run['demand_class']}, {run['library']}), "
            f"{window['points']} days {window['start']}..{window['end']}, input sha256 "
            f"{window['fingerprint'][:12]}",
        ),
        (
            f"order {product} @ {site}",
            f"{before_q:,.0f} -> {now_q:,.0f} {unit} (reorder point {now['reorder_point']:,.0f}); {held}",
        ),
    ]
