"""Replenishment recommendations through the API: ``recommendations_per_s``.

One tenant on SQLite (migrated like a real install): a DC and a store, 20 products with three
lots each in stock at the DC (one lot on hold), 90 days of outbound shipments, and purchase
orders, received and open. Requests go through the API in this process (``create_app``, handed
in by the CLI as for ``scoped-read``: benchmarks sit below the API) with the tenant admin's
key: half ask with demand and lead time read from history (outbound shipments zero-filled,
lead times from received purchase orders), half with them given. Every answer must be a 200
with a reorder point, and each is published as an event, as in production.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from starlette.types import ASGIApp

from supplyline import access, logistics
from supplyline.bootstrap import Services, build_services
from supplyline.db import create_engine
from supplyline.db.migrate import upgrade
from supplyline.kernel.scope import Scope
from supplyline.settings import Settings

AppFactory = Callable[[Services], ASGIApp]
PRODUCTS, LOTS, HISTORY_DAYS = 20, 3, 90


async def measure_recommendations(workdir: Path, requests: int = 2000, *, app: AppFactory) -> dict[str, Any]:
    """Recommendations per second through ``POST /v1/replenishment/recommendations``."""
    started = time.perf_counter()
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'replenish.db'}",
        data_dir=workdir,
        secret_key=Fernet.generate_key().decode(),
    )
    engine = create_engine(settings.resolved_database_url)
    await upgrade(engine)
    await engine.dispose()
    svc = build_services(settings)
    try:
        token, asks = await _world(svc)
        build_s = time.perf_counter() - started
        times = await _send(app(svc), token, asks, requests)
    finally:
        await svc.close()
    total = sum(times)
    ordered = sorted(times)
    return {
        "recommendations_per_s": round(len(times) / total, 1),
        "requests": len(times),
        "p50_ms": round(statistics.median(times) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
        "products": PRODUCTS,
        "history_days": HISTORY_DAYS,
        "build_s": round(build_s, 1),
    }


async def _send(app: ASGIApp, token: str, asks: list[dict[str, Any]], requests: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    times: list[float] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for n in range(requests):
            body = asks[n % len(asks)]
            t0 = time.perf_counter()
            r = await client.post("/v1/replenishment/recommendations", json=body, headers=headers)
            times.append(time.perf_counter() - t0)
            if r.status_code != 200 or "reorder_point" not in r.json():
                raise RuntimeError(f"recommendation {n} failed: {r.status_code} {r.text[:300]}")
    return times


async def _world(svc: Services) -> tuple[str, list[dict[str, Any]]]:
    """The tenant and the request bodies (one with history, one with figures, per product)."""
    async with svc.uow() as uow:
        _, key = await access.create_tenant(uow, Scope.platform(), "bench", "Bench")
        await uow.commit()
    if key.key.tenant_id is None:
        raise RuntimeError("the tenant's first key belongs to no tenant")
    tenant = key.key.tenant_id
    scope = Scope.system(tenant, "bench")
    rng = random.Random(15)  # noqa: S311 - a repeatable world, not a secret
    now = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    asks: list[dict[str, Any]] = []
    held_lot = None
    async with svc.uow() as uow:
        create = svc.resources.create_many
        (org,) = await create(
            uow, scope, "organizations", [{"code": "SUP", "name": "Supplier", "kind": "supplier"}]
        )
        dc, store = await create(
            uow,
            scope,
            "sites",
            [
                {"code": "DC", "name": "DC", "kind": "warehouse"},
                {"code": "ST", "name": "Store", "kind": "store"},
            ],
        )
        for p in range(PRODUCTS):
            (product,) = await create(
                uow, scope, "products", [{"sku": f"SKU-{p}", "name": f"Product {p}", "unit": "each"}]
            )
            lots = await create(
                uow,
                scope,
                "lots",
                [
                    {"product_id": product["id"], "lot_code": f"L{p}-{i}", "quantity": 500, "unit": "each"}
                    for i in range(LOTS)
                ],
            )
            positions = [
                {"site_id": dc["id"], "product_id": product["id"], "lot_id": lot["id"], "unit": "each"}
                | {"on_hand": rng.randint(20, 200), "allocated": rng.randint(0, 10), "held": 0}
                for lot in lots
            ]
            await create(uow, scope, "inventory-positions", positions)
            await _history(uow, svc, scope, rng, now, (p, dc, store, org, product, lots))
            held_lot = held_lot or lots[0]["id"]
            ask = {"product_id": str(product["id"]), "site_id": str(dc["id"]), "horizon_days": 14}
            asks.append(ask)
            given = {
                "demand_mean_per_day": 12,
                "demand_sd_per_day": 4,
                "lead_time_days": 6,
                "lead_time_sd_days": 1,
            }
            asks.append({**ask, **given, "fill_rate": 0.98, "pack_size": 12})
        if held_lot is not None:
            await logistics.hold_lot(
                uow, tenant, logistics.HoldLot(uuid.UUID(str(held_lot)), "bench", "bench")
            )
        await uow.commit()
    return key.token, asks


async def _history(
    uow: Any, svc: Services, scope: Scope, rng: random.Random, now: datetime, what: tuple[Any, ...]
) -> None:
    """A product's outbound shipments over the window and three purchase orders (two received)."""
    p, dc, store, org, product, lots = what
    create = svc.resources.create_many
    shipments = []
    for day in range(HISTORY_DAYS):
        if rng.random() < 0.6:
            at = (now - timedelta(days=HISTORY_DAYS - day)).isoformat()
            lot = rng.choice(lots)
            shipments.append(
                {"number": f"OUT-{p}-{day}", "status": "delivered", "origin_site_id": dc["id"]}
                | {"destination_site_id": store["id"], "actual_departure_at": at}
                | {"lots": [{"lot_id": lot["id"], "quantity": rng.randint(5, 30), "unit": "each"}]}
            )
    await create(uow, scope, "shipments", shipments)
    for n in range(3):
        ordered = now - timedelta(days=60 - 20 * n)
        line = {"product_id": product["id"], "quantity": 200, "unit": "each"}
        order = {"number": f"PO-{p}-{n}", "kind": "purchase", "organization_id": org["id"]}
        order |= {"to_site_id": dc["id"], "requested_at": ordered.isoformat(), "lines": [line]}
        order["status"] = "delivered" if n < 2 else "open"
        (po,) = await create(uow, scope, "orders", [order])
        if n < 2:
            arrived = ordered + timedelta(days=rng.randint(4, 9))
            inbound = {"number": f"IN-{p}-{n}", "status": "delivered", "origin_site_id": store["id"]}
            inbound |= {"destination_site_id": dc["id"], "order_id": po["id"]}
            inbound |= {"actual_departure_at": ordered.isoformat(), "actual_arrival_at": arrived.isoformat()}
            await create(uow, scope, "shipments", [inbound])
