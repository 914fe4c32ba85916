"""Forecast runs through the API and the event log on both backends: every run stored with its
provenance, the latest one answered with its bands, and re-forecasts triggered by a hold, a late
shipment and the schedule, each once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from supplyline import logistics
from supplyline.bootstrap import Services
from supplyline.kernel.clock import utcnow
from supplyline.planning.tables import planning_demand, planning_forecast_point, planning_forecast_run
from tests.api.samples import assert_problem
from tests.conftest import Backend, TenantCtx, make_services
from tests.factories import post, world

RUNS = "/v1/forecasts/runs"


async def _demand(
    services: Services, tenant: TenantCtx, w: dict[str, Any], days: int = 60, source: str = "events"
) -> None:
    """A weekly pattern of demand at the DC, ending yesterday."""
    end = utcnow().date() - timedelta(days=1)
    rows = [
        {
            "tenant_id": tenant.id,
            "product_id": uuid.UUID(w["product"]["id"]),
            "site_id": uuid.UUID(w["dc"]["id"]),
            "day": end - timedelta(days=i),
            "source": source,
            "quantity": float(10 + (i % 7) * 3),
            "updated_at": utcnow(),
        }
        for i in range(days)
    ]
    async with services.engine.begin() as conn:
        await conn.execute(planning_demand.insert(), rows)


async def _stocked(client: httpx.AsyncClient, services: Services, tenant: TenantCtx) -> dict[str, Any]:
    w = await world(client, tenant.headers)
    position = {"site_id": w["dc"]["id"], "product_id": w["product"]["id"], "lot_id": w["lot"]["id"]}
    await post(
        client,
        tenant.headers,
        "inventory-positions",
        {**position, "on_hand": 100, "allocated": 0, "held": 0, "unit": "each"},
    )
    await _demand(services, tenant, w)
    w["query"] = {"product": w["product"]["id"], "site": w["dc"]["id"]}
    return w


async def _runs(services: Services, **where: Any) -> list[dict[str, Any]]:
    r = planning_forecast_run
    stmt = select(r).where(*(r.c[k] == v for k, v in where.items())).order_by(r.c.started_at)
    async with services.engine.connect() as conn:
        return [dict(row) for row in (await conn.execute(stmt)).mappings()]


async def test_a_run_is_stored_with_its_provenance_and_answered_with_its_bands(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await _stocked(client, services, tenant)
    r = await client.get("/v1/forecasts", params=w["query"], headers=tenant.headers)
    assert_problem(r, 404)
    body = {"product_id": w["product"]["id"], "site_id": w["dc"]["id"]}
    r = await client.post(RUNS, json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    made = r.json()
    run = made["run"]
    assert (run["trigger"], run["grain"], run["horizon"], run["season"]) == ("request", "day", 28, 7)
    assert run["input"]["points"] == 60
    assert run["input"]["end"] == (utcnow().date() - timedelta(days=1)).isoformat()
    assert len(run["input"]["fingerprint"]) == 64
    assert run["model"] and run["library"] and run["band_method"]
    assert run["levels"] == [80, 95]
    points = made["points"]
    assert len(points) == 28 and points[0]["ds"] == utcnow().date().isoformat()
    for p in points:
        assert p["lo95"] <= p["lo80"] <= p["mean"] <= p["hi80"] <= p["hi95"], p
    got = await client.get("/v1/forecasts", params=w["query"], headers=tenant.headers)
    assert got.status_code == 200, got.text
    assert got.json()["run"]["id"] == run["id"] and got.json()["points"] == points

    # The same input twice: the same fingerprint, a second run, the newest answered.
    again = (await client.post(RUNS, json=body, headers=tenant.headers)).json()["run"]
    assert again["input"]["fingerprint"] == run["input"]["fingerprint"] and again["id"] != run["id"]
    latest = (await client.get("/v1/forecasts", params=w["query"], headers=tenant.headers)).json()
    assert latest["run"]["id"] == again["id"]
    async with services.engine.connect() as conn:
        kept = (await conn.execute(select(func.count()).select_from(planning_forecast_point))).scalar()
    assert kept == 56  # the first run's points are kept: it explains what was forecast then


async def test_unknown_series_and_out_of_reach_callers_get_404(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await _stocked(client, services, tenant)
    await client.post(
        RUNS, json={"product_id": w["product"]["id"], "site_id": w["dc"]["id"]}, headers=tenant.headers
    )
    missing = {"product": str(uuid.uuid4()), "site": w["dc"]["id"]}
    assert_problem(await client.get("/v1/forecasts", params=missing, headers=tenant.headers), 404)
    bad = await client.get("/v1/forecasts", params={**w["query"], "grain": "month"}, headers=tenant.headers)
    assert_problem(bad, 422)
    # A customer organisation with no relationship to the DC sees no such site.
    org = await post(
        client, tenant.headers, "organizations", {"code": "CUS9", "name": "Other", "kind": "customer"}
    )
    key = await post(
        client,
        tenant.headers,
        "api-keys",
        {"name": "cust", "role": "partner_viewer", "organization_id": org["id"]},
    )
    partner = {"Authorization": f"Bearer {key['token']}"}
    r = await client.get("/v1/forecasts", params=w["query"], headers=partner)
    assert r.status_code in (403, 404), r.text
    assert "points" not in r.text
    r = await client.get("/v1/forecasts/runs", params=w["query"], headers=partner)
    assert r.status_code in (403, 404) and "fingerprint" not in r.text, r.text


async def test_a_hold_and_its_release_re_forecast_the_lot_s_series_once_each(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await _stocked(client, services, tenant)
    async with services.uow() as uow:
        hold, _ = await logistics.hold_lot(
            uow, tenant.id, logistics.HoldLot(uuid.UUID(w["lot"]["id"]), "temperature excursion", "rule")
        )
        await uow.commit()
    await services.consumers.catch_up("planning.reforecast")
    got = (await client.get("/v1/forecasts", params=w["query"], headers=tenant.headers)).json()
    assert got["run"]["trigger"] == "lot.held" and got["run"]["trigger_event_id"]
    assert got["run"]["created_by"] == "planning.reforecast"
    r = await client.post(
        f"/v1/holds/{hold['id']}/release", json={"reason": "inspected"}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    await services.consumers.catch_up("planning.reforecast")
    held_run, released_run = await _runs(services)
    assert [held_run["trigger"], released_run["trigger"]] == ["lot.held", "lot.released"]
    # Demand did not change: the release's run reuses the hold's forecast rather than refitting.
    assert released_run["input_fingerprint"] == held_run["input_fingerprint"]
    assert released_run["backtest"]["reused_from"] == str(held_run["id"])
    assert "reused_from" not in held_run["backtest"] and held_run["backtest"]["profile"] == "bulk"
    latest = (await client.get("/v1/forecasts", params=w["query"], headers=tenant.headers)).json()
    assert [p["mean"] for p in latest["points"]] == [p["mean"] for p in got["points"]]
    # A replay of the log runs nothing twice.
    await services.consumers.replay("planning.reforecast")
    assert len(await _runs(services)) == 2
    # The history of runs, newest first, paged and filtered by trigger.
    listed = await client.get("/v1/forecasts/runs", params={**w["query"], "limit": 1}, headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    first = listed.json()
    assert [r["trigger"] for r in first["items"]] == ["lot.released"] and first["next_cursor"]
    rest = await client.get(
        "/v1/forecasts/runs", params={**w["query"], "cursor": first["next_cursor"]}, headers=tenant.headers
    )
    assert [r["id"] for r in rest.json()["items"]] == [str(held_run["id"])]
    assert rest.json()["next_cursor"] is None
    only = await client.get(
        "/v1/forecasts/runs", params={**w["query"], "trigger": "lot.held"}, headers=tenant.headers
    )
    assert [r["trigger_event_id"] for r in only.json()["items"]] == [got["run"]["trigger_event_id"]]
    assert "points" not in only.json()["items"][0]


async def test_a_late_or_lost_shipment_re_forecasts_its_destination(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await _stocked(client, services, tenant)
    ship = await post(
        client,
        tenant.headers,
        "shipments",
        {
            "number": "IN-1",
            "status": "in_transit",
            "origin_site_id": w["store"]["id"],
            "destination_site_id": w["dc"]["id"],
            "planned_arrival_at": "2026-12-01T08:00:00Z",
            "lots": [{"lot_id": w["lot"]["id"], "quantity": 10, "unit": "each"}],
        },
    )
    await services.consumers.catch_up("planning.reforecast")
    assert await _runs(services) == []  # created on plan: nothing late yet
    r = await client.patch(
        f"/v1/shipments/{ship['id']}",
        json={"actual_arrival_at": "2026-12-01T20:00:00Z", "status": "delivered"},
        headers={**tenant.headers, "If-Match": f'"{ship["version"]}"'},
    )
    assert r.status_code == 200, r.text
    await services.consumers.catch_up("planning.reforecast")
    runs = await _runs(services)
    assert [(run["trigger"], str(run["site_id"])) for run in runs] == [("shipment.updated", w["dc"]["id"])]


async def test_the_schedule_runs_series_whose_forecast_is_older_than_the_interval(
    backend: Backend, tmp_path: Path, client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    await _stocked(client, services, tenant)
    assert await services.run_forecasts() == 1
    assert await services.run_forecasts() == 0  # a day's interval by default
    assert [run["trigger"] for run in await _runs(services)] == ["schedule"]
    short = make_services(backend, tmp_path / "short", forecast_interval_s=1)
    try:
        await asyncio.sleep(1.1)
        assert await short.run_forecasts() == 1
    finally:
        await short.close()


@pytest.mark.parametrize("days", [0, 3])
async def test_a_series_with_little_or_no_demand_still_gets_a_forecast(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, days: int
) -> None:
    w = await world(client, tenant.headers)
    if days:
        await _demand(services, tenant, w, days=days)
    body = {"product_id": w["product"]["id"], "site_id": w["dc"]["id"], "grain": "week"}
    r = await client.post(RUNS, json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    out = r.json()
    points = out["run"]["input"]["points"]
    assert points == 0 if not days else points >= 1
    assert len(out["points"]) == 13


async def test_an_override_shows_beside_the_statistical_forecast_and_never_over_it(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await _stocked(client, services, tenant)
    body = {"product_id": w["product"]["id"], "site_id": w["dc"]["id"]}
    made = (await client.post(RUNS, json=body, headers=tenant.headers)).json()
    first = made["points"][0]
    assert first["final"]["mean"] == first["mean"] and first["override_ids"] == []
    day = first["ds"]
    override = {
        **body,
        "starts_on": day,
        "ends_on": day,
        "kind": "delta",
        "value": 25,
        "reason_code": "promotion",
    }
    r = await client.post("/v1/forecast-overrides", json=override, headers=tenant.headers)
    assert r.status_code == 201, r.text
    got = (await client.get("/v1/forecasts", params=w["query"], headers=tenant.headers)).json()
    p0, p1 = got["points"][0], got["points"][1]
    assert p0["mean"] == first["mean"]  # the statistical value as the run made it
    assert p0["final"]["mean"] == pytest.approx(first["mean"] + 25)
    assert p0["override_ids"] == [r.json()["id"]] and p0["reason_codes"] == ["promotion"]
    assert p1["final"]["mean"] == p1["mean"] and p1["override_ids"] == []


async def test_a_demand_spike_is_published_once_and_re_forecasts_its_series(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    await _demand(services, tenant, w, days=40, source="import")
    today = utcnow().date().isoformat()
    await post(
        client,
        tenant.headers,
        "shipments",
        {
            "number": "OUT-BIG",
            "status": "in_transit",
            "origin_site_id": w["dc"]["id"],
            "destination_site_id": w["store"]["id"],
            "actual_departure_at": f"{today}T00:00:01Z",
            "lots": [{"lot_id": w["lot"]["id"], "quantity": 500, "unit": "each"}],
        },
    )
    await services.consumers.catch_up("planning.demand")
    await services.consumers.replay("planning.demand")  # a replay publishes no second spike
    r = await client.get(
        "/v1/events", params={"type": "supplyline.demand.spike_detected.v1"}, headers=tenant.headers
    )
    (spike,) = r.json()["items"]
    assert spike["data"]["quantity"] == 500 and spike["data"]["day"] == today
    await services.consumers.catch_up("planning.reforecast")
    (run,) = await _runs(services)
    assert (run["trigger"], run["trigger_event_id"]) == ("demand.spike_detected", uuid.UUID(spike["id"]))
