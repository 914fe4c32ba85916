"""Replenishment recommendations through the API on both backends: stock that a hold takes out
of sellable stock raises the very next recommendation, and releasing the hold restores it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from supplyline import logistics
from supplyline.api import create_app
from supplyline.bootstrap import Services
from supplyline.kernel.clock import utcnow
from supplyline.planning.sizing import Constraints, size_order
from supplyline.sim.mock_erp import ErpState
from tests.api.samples import assert_problem, events_of
from tests.conftest import Backend, TenantCtx, make_services
from tests.factories import post, world

URL = "/v1/replenishment/recommendations"
# d = 20/day (sd 5), L = 5 days (sd 1), 95% CSL: sd of LTD sqrt(5·25 + 400·1) = 22.91,
# safety stock 1.645 · 22.91 = 37.69, reorder point 137.69; cycle stock 20 · 30 = 600.
GIVEN = {
    "demand_mean_per_day": 20,
    "demand_sd_per_day": 5,
    "lead_time_days": 5,
    "lead_time_sd_days": 1,
    "cycle_service_level": 0.95,
    "horizon_days": 30,
    "as_of": "2026-12-01",
}


async def _recommend(client: httpx.AsyncClient, tenant: TenantCtx, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(URL, json=body, headers=tenant.headers)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def _stocked(client: httpx.AsyncClient, tenant: TenantCtx) -> dict[str, Any]:
    """The world's product at the DC: lot L2026-11 with 100 on hand, lot L2 with 30."""
    w = await world(client, tenant.headers)
    w["lot2"] = await post(
        client,
        tenant.headers,
        "lots",
        {"product_id": w["product"]["id"], "lot_code": "L2", "quantity": 30, "unit": "each"},
    )
    for lot, qty in ((w["lot"], 100), (w["lot2"], 30)):
        position = {"site_id": w["dc"]["id"], "product_id": w["product"]["id"], "lot_id": lot["id"]}
        await post(
            client,
            tenant.headers,
            "inventory-positions",
            {**position, "on_hand": qty, "allocated": 0, "held": 0, "unit": "each"},
        )
    w["ask"] = {"product_id": w["product"]["id"], "site_id": w["dc"]["id"]}
    return w


async def test_a_hold_raises_the_next_recommendation_and_release_restores_it(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await _stocked(client, tenant)
    body = {**w["ask"], **GIVEN}
    before = await _recommend(client, tenant, body)
    assert before["safety_stock"] == pytest.approx(37.69, abs=0.01)
    assert before["reorder_point"] == pytest.approx(137.69, abs=0.01)
    assert (before["on_hand"], before["held"], before["sellable"]) == (130, 0, 130)
    assert before["orders"][0]["quantity"] == pytest.approx(737.69 - 130, abs=0.01)
    assert before["orders"][0]["expected_arrival"] == "2026-12-06"

    async with services.uow() as uow:
        hold, _ = await logistics.hold_lot(
            uow, tenant.id, logistics.HoldLot(uuid.UUID(w["lot"]["id"]), "temperature excursion", "rule")
        )
        await uow.commit()
    held = await _recommend(client, tenant, body)
    assert (held["held"], held["sellable"]) == (100, 30)
    assert held["orders"][0]["quantity"] == pytest.approx(before["orders"][0]["quantity"] + 100)
    assert "held stock: 100 each of lot L2026-11 are on hold" in held["reasons"]

    r = await client.post(
        f"/v1/holds/{hold['id']}/release", json={"reason": "inspected"}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    after = await _recommend(client, tenant, body)
    assert (after["held"], after["sellable"]) == (0, 130)
    assert after["orders"] == before["orders"]
    assert not any(reason.startswith("held stock") for reason in after["reasons"])


async def test_demand_lead_time_and_open_orders_from_history(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    w = await _stocked(client, tenant)
    # 30 days of history ending 2026-11-30: 10 shipments of 15 from the DC, rising in time.
    for n in range(10):
        day = 1 + 3 * n
        await post(
            client,
            tenant.headers,
            "shipments",
            {
                "number": f"OUT-{n}",
                "status": "delivered",
                "origin_site_id": w["dc"]["id"],
                "destination_site_id": w["store"]["id"],
                "actual_departure_at": f"2026-11-{day:02d}T08:00:00Z",
                "lots": [{"lot_id": w["lot"]["id"], "quantity": 10 + n, "unit": "each"}],
            },
        )
    # Two received purchase orders took 4 and 6 days; one more is open with 40 on order.
    for n, (ordered, arrived) in enumerate((("2026-10-01", "2026-10-05"), ("2026-10-10", "2026-10-16"))):
        po = await post(
            client,
            tenant.headers,
            "orders",
            {
                "number": f"PO-{n}",
                "kind": "purchase",
                "status": "delivered",
                "organization_id": w["carrier"]["id"],
                "to_site_id": w["dc"]["id"],
                "requested_at": f"{ordered}T08:00:00Z",
                "lines": [{"product_id": w["product"]["id"], "quantity": 50, "unit": "each"}],
            },
        )
        await post(
            client,
            tenant.headers,
            "shipments",
            {
                "number": f"IN-{n}",
                "status": "delivered",
                "origin_site_id": w["store"]["id"],
                "destination_site_id": w["dc"]["id"],
                "order_id": po["id"],
                "actual_departure_at": f"{ordered}T09:00:00Z",
                "actual_arrival_at": f"{arrived}T08:00:00Z",
            },
        )
    await post(
        client,
        tenant.headers,
        "orders",
        {
            "number": "PO-OPEN",
            "kind": "purchase",
            "organization_id": w["carrier"]["id"],
            "to_site_id": w["dc"]["id"],
            "lines": [{"product_id": w["product"]["id"], "quantity": 40, "unit": "each"}],
        },
    )
    out = await _recommend(client, tenant, {**w["ask"], "history_days": 30, "as_of": "2026-12-01"})
    assert out["demand"]["mean_per_day"] == pytest.approx(145 / 30)
    assert out["demand"]["trend"] == "rising" and out["demand"]["trend_per_day"] > 0
    assert out["lead_time"]["mean_days"] == pytest.approx(5) and out["lead_time"]["sd_days"] > 0
    assert out["lead_time"]["source"] == "2 received purchase orders"
    assert out["on_order"] == 40 and out["inventory_position"] == 170
    assert any("PO-OPEN" in reason for reason in out["reasons"])
    # Demand on one day in three is intermittent (ADI 3): the empirical quantile is used.
    assert out["method"] == "empirical" and out["demand"]["adi"] == pytest.approx(3)
    assert out["expected_cycle_service_level"] >= 0.95


async def test_pack_size_and_capacity_shape_the_order(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    w = await _stocked(client, tenant)
    packed = await _recommend(client, tenant, {**w["ask"], **GIVEN, "pack_size": 48, "moq": 100})
    assert packed["orders"][0]["quantity"] == 624  # 607.7 up to 13 packs of 48
    capped = await _recommend(client, tenant, {**w["ask"], **GIVEN, "pack_size": 48, "max_on_hand": 500})
    assert capped["orders"][0]["quantity"] == 336  # 370 of room, in whole packs
    assert any("capacity" in reason for reason in capped["reasons"])


def test_sizing_rules() -> None:
    assert size_order(100, 90, 50, Constraints()).quantity == 0
    assert size_order(50, 90, 50, Constraints()).quantity == 90
    assert size_order(50, 90, 50, Constraints(moq=120)).quantity == 120
    assert size_order(50, 90, 50, Constraints(pack_size=25)).quantity == 100
    assert size_order(50, 90, 50, Constraints(pack_size=25, max_order=60)).quantity == 50
    assert size_order(50, 90, 50, Constraints(max_on_hand=80)).quantity == 30


async def test_fill_rate_target_and_eoq(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    w = await _stocked(client, tenant)
    body = {k: v for k, v in GIVEN.items() if k != "cycle_service_level"}
    out = await _recommend(
        client,
        tenant,
        {**w["ask"], **body, "fill_rate": 0.999, "ordering_cost": 50, "holding_cost_per_unit_day": 0.02},
    )
    assert out["cycle_stock"] == pytest.approx(316.23, abs=0.01)  # sqrt(2·20·50/0.02)
    assert out["service_target"] == "fill_rate"
    # sd·G(k) = 0.001·316.23 gives k = 1.83: the reorder point passes the 130 sellable.
    q = out["orders"][0]["quantity"]
    assert q == pytest.approx(out["target_level"] - 130)
    assert out["expected_fill_rate"] >= 0.999


BAD = [
    ({"cycle_service_level": 0.5}, "cycle_service_level"),
    ({"cycle_service_level": 1.0}, "cycle_service_level"),
    ({"lead_time_days": -1}, "lead_time_days"),
    ({"moq": -5}, "moq"),
    ({"horizon_days": 0}, "horizon_days"),
    ({"fill_rate": 0.9}, None),  # both targets
]


async def test_bad_requests_name_the_field(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    ask = {"product_id": str(uuid.uuid4()), "site_id": str(uuid.uuid4())}
    for change, field in BAD:
        r = await client.post(URL, json={**ask, **GIVEN, **change}, headers=tenant.headers)
        body = assert_problem(r, 422)
        if field is not None:
            assert any(e["field"].endswith(field) for e in body["errors"]), body


async def test_unknown_product_or_site_is_404(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    w = await _stocked(client, tenant)
    for ask in ({**w["ask"], "product_id": str(uuid.uuid4())}, {**w["ask"], "site_id": str(uuid.uuid4())}):
        assert_problem(await client.post(URL, json={**ask, **GIVEN}, headers=tenant.headers), 404)


async def test_each_recommendation_is_an_event_on_the_log(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    w = await _stocked(client, tenant)
    out = await _recommend(client, tenant, {**w["ask"], **GIVEN})
    events = [e for e in await events_of(client, tenant.headers) if "replenishment.recommended" in e["type"]]
    assert len(events) == 1
    data = events[0]["data"]
    assert data["orders"][0]["quantity"] == out["orders"][0]["quantity"]
    assert data["sellable"] == 130 and data["product_id"] == w["product"]["id"]


async def test_a_recommendation_reaches_the_erp_as_a_requisition(
    backend: Backend, tmp_path: Path, tenant: TenantCtx, erp: tuple[str, ErpState]
) -> None:
    svc = make_services(backend, tmp_path / "erp", admin_token="platform-secret", erp_url=erp[0])
    try:
        transport = httpx.ASGITransport(app=create_app(svc, run_consumers=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            w = await _stocked(client, tenant)
            out = await _recommend(client, tenant, {**w["ask"], **GIVEN})
        await svc.consumers.catch_up("integrations.erp")
        assert await svc.deliverer.run_once() == 1
    finally:
        await svc.close()
    (message,) = [m["message"] for m in erp[1].messages]
    assert message["type"] == "replenishment"
    assert (message["product"]["id"], message["site"]["id"]) == (w["product"]["id"], w["dc"]["id"])
    assert message["orders"] == out["orders"] and message["unit"] == "each"
    (req,) = erp[1].requisitions.values()
    assert req["ack"].startswith("REQ-") and req["orders"][0]["quantity"] == out["orders"][0]["quantity"]


async def test_imported_history_and_the_latest_forecast_feed_the_demand(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await _stocked(client, tenant)
    sku, site = w["product"]["sku"], w["dc"]["code"]
    today = utcnow().date()
    rows = [
        {"unique_id": f"{sku}@{site}", "ds": (today - timedelta(days=d)).isoformat(), "y": 12}
        for d in range(1, 31)
    ]
    r = await client.post("/v1/demand-history", json={"rows": rows}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    history = await _recommend(client, tenant, {**w["ask"], "history_days": 30})
    assert history["demand"]["mean_per_day"] == pytest.approx(12)
    assert "30 of them from imported history" in history["demand"]["source"]
    assert history["demand"]["forecast_run_id"] is None

    run = await post(client, tenant.headers, "forecasts/runs", {**w["ask"]})
    planned = await _recommend(client, tenant, {**w["ask"], "history_days": 30})
    assert planned["demand"]["forecast_run_id"] == run["run"]["id"]
    ahead = [p["mean"] for p in run["points"]]
    assert planned["demand"]["mean_per_day"] == pytest.approx(sum(ahead) / len(ahead))
