"""The other kinds as ingestion meets them: a geofence on a site, a heartbeat found by the
sweep, a product's storage rule overriding the default for the goods a tracker carries; and the
rule API around them: dry-run over stored history, change history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from supplyline.bootstrap import Services
from tests.conftest import TenantCtx
from tests.factories import post
from tests.rules import support
from tests.rules.test_evaluation import add_rule, transitions
from tests.telemetry.fleet import Device, fleet, now_ms, send

MIN = 60_000
INSIDE, OUTSIDE = (45.7601, 4.8401), (45.95, 5.30)


@pytest.fixture
def clock() -> support.SetClock:
    return support.SetClock()


@pytest.fixture
async def w(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, clock: support.SetClock
) -> dict[str, Any]:
    evaluator = support.evaluator(services, clock)
    services.telemetry.writer.evaluators[:] = [evaluator]
    services.rule_evaluator = evaluator
    w = await fleet(client, tenant)
    metrics = [
        {"metric": "temperature_c", "unit": "C", "min": -40, "max": 60},
        {"metric": "lat", "unit": "deg"},
        {"metric": "lon", "unit": "deg"},
    ]
    r = await client.patch(
        f"/v1/device-profiles/{w['profile']['id']}", json={"metrics": metrics}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    return w


def at_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def at(seq: int, ts: int, **metrics: float) -> dict[str, Any]:
    return {"device": "trk-001", "seq": seq, "ts": ts, "metrics": metrics}


async def test_a_geofence_on_a_site_raises_on_leaving_and_clears_on_return(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    rule = await add_rule(
        client,
        tenant,
        code="left-dc",
        condition={"kind": "geofence", "trigger": "exit", "site_id": w["dc"]["id"]},
    )
    t = now_ms() - 5 * MIN
    for seq, (lat, lon) in enumerate([INSIDE, INSIDE, OUTSIDE, OUTSIDE, INSIDE], start=1):
        assert (await send(client, tracker, at(seq, t + seq * MIN, lat=lat, lon=lon))).status_code == 200
    assert [x[0] for x in await transitions(client, tenant, rule)] == ["raised", "cleared"]


async def test_a_silent_tracker_is_raised_by_the_sweep_and_cleared_by_its_next_reading(
    client: httpx.AsyncClient,
    tenant: TenantCtx,
    services: Services,
    w: dict[str, Any],
    clock: support.SetClock,
) -> None:
    tracker: Device = w["devices"]["tracker"]
    rule = await add_rule(
        client, tenant, code="silent", condition={"kind": "heartbeat", "max_silence_s": 120}
    )
    t = now_ms() - MIN
    assert (await send(client, tracker, at(1, t, temperature_c=5.0))).status_code == 200
    async with services.uow() as uow:
        clock.at = at_ms(t + MIN)
        assert await services.rule_evaluator.sweep(uow) == 0  # not yet
        clock.at = at_ms(t + 3 * MIN)
        assert await services.rule_evaluator.sweep(uow) == 1
        await uow.commit()
    assert [x[0] for x in await transitions(client, tenant, rule)] == ["raised"]
    # A restart keeps the silence raised (its state was stored), and a reading clears it.
    services.telemetry.writer.evaluators[:] = [support.evaluator(services)]
    assert (await send(client, tracker, at(2, now_ms(), temperature_c=5.1))).status_code == 200
    assert [x[0] for x in await transitions(client, tenant, rule)] == ["raised", "cleared"]


async def test_a_products_storage_rule_overrides_the_default_for_what_the_tracker_carries(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    above = {"kind": "threshold", "metric": "temperature_c", "op": ">"}
    default = await add_rule(client, tenant, code="storage", condition={**above, "value": 8})
    vaccine = await add_rule(
        client, tenant, code="storage", product_id=w["product"]["id"], condition={**above, "value": 5}
    )
    assert (await send(client, tracker, at(1, now_ms() - 2 * MIN, temperature_c=6.0))).status_code == 200
    assert await transitions(client, tenant, vaccine) == []  # not carrying the vaccine yet
    await post(
        client,
        tenant.headers,
        "shipments",
        {
            "number": "SHP-V",
            "status": "in_transit",
            "origin_site_id": w["dc"]["id"],
            "destination_site_id": w["store"]["id"],
            "lots": [{"lot_id": w["lot"]["id"], "quantity": 10, "unit": "each"}],
            "devices": [{"device_id": w["tracker"]["id"], "assigned_at": "2026-01-01T00:00:00Z"}],
        },
    )
    assert (await send(client, tracker, at(2, now_ms(), temperature_c=6.5))).status_code == 200
    assert [x[0] for x in await transitions(client, tenant, vaccine)] == ["raised"]
    assert await transitions(client, tenant, default) == []


async def test_a_dry_run_shows_what_a_rule_would_have_fired_and_writes_nothing(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    t = now_ms() - 30 * MIN
    temps = [4.0, 9.0, 9.5, 6.0, 10.0, 5.0]
    body = {"readings": [at(i + 1, t + i * MIN, temperature_c=v) for i, v in enumerate(temps)]}
    assert (await send(client, tracker, body)).status_code == 200
    events_before = (await client.get("/v1/events", headers=tenant.headers)).json()["items"]
    rule = {
        "code": "try-me",
        "name": "Try me",
        "condition": {"kind": "threshold", "metric": "temperature_c", "op": ">", "value": 8, "clear_at": 7},
    }
    r = await client.post(
        "/v1/rules/dry-run", json={"rule": rule, "from": "2020-01-01T00:00:00Z"}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["raised"], out["cleared"]) == (2, 2)
    assert [(x["transition"], x["value"]) for x in out["transitions"]] == [
        ("raised", 9.0),
        ("cleared", 6.0),
        ("raised", 10.0),
        ("cleared", 5.0),
    ]
    assert (await client.get("/v1/events", headers=tenant.headers)).json()["items"] == events_before
    bad = {**rule, "condition": {**rule["condition"], "metric": "warp_factor"}}
    r = await client.post(
        "/v1/rules/dry-run", json={"rule": bad, "from": "2020-01-01T00:00:00Z"}, headers=tenant.headers
    )
    assert r.status_code == 422 and any(e["field"] == "rule.condition.metric" for e in r.json()["errors"]), (
        r.text
    )


async def test_a_rules_history_names_who_changed_what_and_when(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    rule = await add_rule(
        client,
        tenant,
        code="hist",
        condition={"kind": "threshold", "metric": "temperature_c", "op": ">", "value": 8},
    )
    r = await client.patch(f"/v1/rules/{rule['id']}", json={"severity": "critical"}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    items = (await client.get(f"/v1/rules/{rule['id']}/history", headers=tenant.headers)).json()["items"]
    assert [(i["version"], i["change"], i["changed"]) for i in items] == [
        (1, "created", []),
        (2, "updated", ["severity"]),
    ]
    assert all(i["actor"].startswith("api-key:") for i in items)


async def test_a_cumulative_budget_counts_per_shipment_across_excursions(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    """60 minutes above 8 C in total per shipment: two excursions of one trip add up; the
    tracker's next shipment starts from zero."""
    tracker: Device = w["devices"]["tracker"]
    budget = {"kind": "cumulative", "metric": "temperature_c", "op": ">", "value": 8, "budget_s": 3600}
    rule = await add_rule(client, tenant, code="budget", condition=budget)

    async def shipment(number: str) -> dict[str, Any]:
        return await post(
            client,
            tenant.headers,
            "shipments",
            {
                "number": number,
                "status": "in_transit",
                "origin_site_id": w["dc"]["id"],
                "destination_site_id": w["store"]["id"],
                "lots": [{"lot_id": w["lot"]["id"], "quantity": 10, "unit": "each"}],
                "devices": [{"device_id": w["tracker"]["id"], "assigned_at": "2026-01-01T00:00:00Z"}],
            },
        )

    first = await shipment("SHP-A")
    t0 = now_ms() - 9 * 60 * MIN  # readings every 10 minutes, within the last 9 hours
    temps = [9, 9, 9, 5, 5, 9, 9, 5]  # 30 min above, then 20 min above: 50 of 60 spent
    seq = 0
    for i, temp in enumerate(temps):
        seq += 1
        assert (
            await send(client, tracker, at(seq, t0 + i * 10 * MIN, temperature_c=temp))
        ).status_code == 200
    assert await transitions(client, tenant, rule) == []
    r = await client.patch(
        f"/v1/shipments/{first['id']}", json={"status": "delivered"}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    await shipment("SHP-B")
    t1 = t0 + len(temps) * 10 * MIN
    for i, temp in enumerate([9, 9, 9]):  # 20 min above on the new trip: within its own budget
        seq += 1
        assert (
            await send(client, tracker, at(seq, t1 + i * 10 * MIN, temperature_c=temp))
        ).status_code == 200
    assert await transitions(client, tenant, rule) == []
    for i, temp in enumerate([9, 9, 9, 9, 9]):  # 40 more: 60 on this trip, then over
        seq += 1
        ts = t1 + (3 + i) * 10 * MIN
        assert (await send(client, tracker, at(seq, ts, temperature_c=temp))).status_code == 200
    assert [x[0] for x in await transitions(client, tenant, rule)] == ["raised"]
