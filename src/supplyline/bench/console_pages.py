"""What each console view asks the server for on its first load, as its script does.

One loader per view, written from ``console/src/<view>.js``: the page's HTML first (the
session is checked there), then each wave of /v1 calls the script makes, a wave's calls at the
same time (the browser does not wait for one to send the next), the next wave once the answers
it needs are in (names of what a list points at, the holds of held lots, ...). Static files
(scripts, styles) are left out: they come from the package with an ETag and are revalidated,
not rebuilt. The alarm view's event stream stays open and is not a load time either.

A view with no loader here (one built after this file) is timed as its HTML and ``auth/me``,
and the figures say so (``calls_known: false``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import httpx

Query = list[tuple[str, str | int | float | bool | None]]


@dataclass
class Visit:
    """One view's load: every request's time by endpoint name, and the answers' checks."""

    client: httpx.AsyncClient
    params: Mapping[str, str]  # the view's address query (planning: product, site)
    times: dict[str, list[float]] = field(default_factory=dict)
    requests: int = 0

    async def get(
        self,
        name: str,
        path: str,
        params: Mapping[str, str] | list[tuple[str, str]] | None = None,
        *,
        ok: tuple[int, ...] = (200,),
    ) -> Any:
        start = time.perf_counter()
        pairs = list(params.items()) if isinstance(params, Mapping) else list(params or [])
        r = await self.client.get(path, params=cast(Query, pairs) if pairs else None)
        self.times.setdefault(name, []).append(time.perf_counter() - start)
        self.requests += 1
        if r.status_code not in ok:
            raise RuntimeError(f"{name}: GET {path} answered HTTP {r.status_code} {r.text[:300]}")
        if r.status_code != 200 or not r.headers.get("content-type", "").startswith("application/json"):
            return None
        return r.json()

    async def all(self, *calls: Awaitable[Any]) -> list[Any]:
        return list(await asyncio.gather(*calls))

    def me(self) -> Awaitable[Any]:
        return self.get("auth/me", "/v1/auth/me")

    async def names(self, refs: set[tuple[str, str]]) -> list[Any]:
        """page.js ``recordOf``: the records a list points at, one ``GET /v1/<kind>?id=…`` per
        kind and 100 ids, all kinds at once; a record the person may not read is left out of
        the answer (a dash on the page). The records found, in no order."""
        by_kind: dict[str, list[str]] = {}
        for kind, i in sorted(refs):
            by_kind.setdefault(kind, []).append(i)
        calls = []
        for kind, ids in by_kind.items():
            for n in range(0, len(ids), 100):
                query = [("id", i) for i in ids[n : n + 100]] + [
                    ("limit", "100"),
                    ("include_archived", "true"),
                ]
                calls.append(self.get(f"{kind}?id=", f"/v1/{kind}", query, ok=(200, 403)))
        pages = await self.all(*calls)
        return [rec for page in pages if page for rec in page["items"]]

    async def every(
        self, name: str, path: str, filters: Mapping[str, str] | None = None, pages: int = 10
    ) -> list[Any]:
        """page.js ``allItems``: the cursor walk of a list, 100 at a time, 10 pages at most
        (the filters go in the query with the cursor: httpx would drop a query in ``path``)."""
        items: list[Any] = []
        cursor = None
        for _ in range(pages):
            query = {**(filters or {}), "limit": "100", **({"cursor": cursor} if cursor else {})}
            page = await self.get(name, path, query)
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        return items


Loader = Callable[[Visit], Awaitable[None]]


async def alarms(v: Visit) -> None:
    """alarms.js: who, and the first page of active alarms (the filter's default)."""
    _, page = await v.all(v.me(), v.get("alarms", "/v1/alarms", {"active": "true"}))
    if not page["items"]:
        raise RuntimeError("the alarm list is empty: nothing to measure")


async def shipments(v: Visit) -> None:
    """shipments.js: who and the first page; then the sites and carriers the shown ones name."""
    _, page = await v.all(v.me(), v.get("shipments", "/v1/shipments"))
    refs = set()
    for s in page["items"]:
        refs |= {("sites", s[k]) for k in ("origin_site_id", "destination_site_id") if s.get(k)}
        if s.get("carrier_organization_id"):
            refs.add(("organizations", s["carrier_organization_id"]))
    await v.names(refs)


async def inventory(v: Visit) -> None:
    """inventory.js: who, the site picker and the first page of positions; the active hold of
    each held lot shown; then the names of the sites, products and lots shown."""
    _, _, page = await v.all(
        v.me(),
        v.get("sites", "/v1/sites", {"limit": "200"}),
        v.get("inventory-positions", "/v1/inventory-positions"),
    )
    items = page["items"]
    held = sorted({p["lot_id"] for p in items if p.get("lot_id") and p["held"] > 0})
    if held:  # the active holds of the held lots shown: one request (a lot has one at most)
        await v.get(
            "holds", "/v1/holds", [("status", "active"), *(("lot_id", lot) for lot in held), ("limit", "100")]
        )
    refs = {
        (kind, p[key])
        for p in items
        for kind, key in (("sites", "site_id"), ("products", "product_id"), ("lots", "lot_id"))
        if p.get(key)
    }
    await v.names(refs)


async def planning(v: Visit) -> None:
    """planning.js: who first; the product and site pickers; the forecast of the series in the
    address (or the first of each) beside its overrides; then the demand seen before it."""
    await v.me()
    products, sites = await v.all(v.every("products", "/v1/products"), v.every("sites", "/v1/sites"))
    if not products or not sites:
        raise RuntimeError("the planner reaches no product or site")
    series = {
        "product": v.params.get("product", products[0]["id"]),
        "site": v.params.get("site", sites[0]["id"]),
    }
    forecast, _ = await v.all(
        v.get("forecasts", "/v1/forecasts", {**series, "grain": "day"}, ok=(200, 404)),
        v.get("forecast-overrides", "/v1/forecast-overrides", {**series, "limit": "50"}),
    )
    points = forecast["points"] if forecast else []
    end = date.fromisoformat(points[0]["ds"]) if points else datetime.now(UTC).date()
    start = end - timedelta(days=90)
    window = {"start": start.isoformat(), "end": end.isoformat()}
    await v.get("demand", "/v1/demand", {**series, "grain": "day", **window})


async def shipment(v: Visit) -> None:
    """shipment.js: who, then the shipment; then at once its sites, carrier, lots, readings,
    events, alarms and holds (the ledger only for a role that reads it: not the operator);
    then the carried products (the allowed band)."""
    await v.me()  # the page asks who first: it leaves out what the grants do not allow
    ship = await v.get("shipments/{id}", f"/v1/shipments/{v.params['id']}")
    sid = ship["id"]
    refs = {("sites", ship[k]) for k in ("origin_site_id", "destination_site_id") if ship.get(k)}
    if ship.get("carrier_organization_id"):
        refs.add(("organizations", ship["carrier_organization_id"]))
    refs |= {("lots", line["lot_id"]) for line in ship["lots"]}
    metrics = [("metric", m) for m in ("temperature_c", "humidity_pct", "lat", "lon")]
    records, *_ = await v.all(
        v.names(refs),
        v.get("telemetry", "/v1/telemetry", [("shipment", sid), *metrics, ("limit", "20000")]),
        v.every("events", "/v1/events", {"subject": f"shipments/{sid}"}),
        v.every("alarms", "/v1/alarms", {"shipment_id": sid}),
        v.every("holds", "/v1/holds", {"shipment_id": sid}),
    )
    products = {("products", r["product_id"]) for r in records if r.get("lot_code") and r.get("product_id")}
    if products:
        await v.names(products)


async def devices(v: Visit) -> None:
    """devices.js: who, the site picker and the first page of device health; then the names of
    the sites the page shows."""
    _, _, page = await v.all(
        v.me(), v.every("sites", "/v1/sites"), v.get("telemetry/health", "/v1/telemetry/health")
    )
    refs = {("sites", d["site_id"]) for d in page["items"] if d.get("site_id")}
    if refs:
        await v.names(refs)


async def lineage(v: Visit) -> None:
    """lineage.js: who and the lot and product pickers; the lot's trace both ways; then the
    names of the lots in it (the ledger proofs only for a role that reads the ledger)."""
    lot = v.params["lot"]
    await v.all(v.me(), v.every("lots", "/v1/lots"), v.every("products", "/v1/products"))
    back, forward = await v.all(
        v.get("traceability/lots", f"/v1/traceability/lots/{lot}", {"direction": "backward", "depth": "5"}),
        v.get("traceability/lots", f"/v1/traceability/lots/{lot}", {"direction": "forward", "depth": "5"}),
    )
    ids = {n["lot_id"] for t in (back, forward) for n in t.get("nodes", []) if n.get("lot_id")}
    if ids:
        await v.names({("lots", i) for i in ids})


async def unknown(v: Visit) -> None:
    """A view this file does not know yet: only what every view asks (page.js ``startPage``)."""
    await v.me()


LOADERS: dict[str, Loader] = {
    "alarms": alarms,
    "shipments": shipments,
    "inventory": inventory,
    "planning": planning,
    "shipment": shipment,
    "devices": devices,
    "lineage": lineage,
}


def path_of(view: str) -> str:
    """Where a view is served: ``/`` is the alarm list, the others ``/console/<view>``."""
    return "/" if view == "alarms" else f"/console/{view}"
