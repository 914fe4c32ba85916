"""The KPI semantic layer through the API on both backends: each KPI against figures worked out
by hand on a small world, a carrier's KPIs over its own shipments only, an older definition
version kept beside a newer one, and the 404 and 422 answers (test_kpi_definitions.py has the
definition file's checks)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from importlib.resources import files
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from supplyline import alarms, logistics, planning
from supplyline.bootstrap import Services
from supplyline.kernel.clock import utcnow
from supplyline.maintenance.tables import maintenance_work_order
from supplyline.planning.tables import planning_demand, planning_forecast_point, planning_forecast_run
from tests.api.samples import assert_problem
from tests.conftest import TenantCtx
from tests.factories import post, world

NOV = {"start": "2026-11-01", "end": "2026-11-30"}


def at(day: int, hour: int = 8, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def kpi(client: httpx.AsyncClient, headers: dict[str, str], name: str, **params: Any) -> dict[str, Any]:
    r = await client.get(f"/v1/kpis/{name}", params={**NOV, **params}, headers=headers)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def total(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, **params: Any
) -> dict[str, Any]:
    out = await kpi(client, headers, name, **params)
    assert len(out["points"]) == 1, out
    point: dict[str, Any] = out["points"][0]
    return point


async def _shipment(client: httpx.AsyncClient, tenant: TenantCtx, **body: Any) -> dict[str, Any]:
    return await post(client, tenant.headers, "shipments", {"status": "delivered", **body})


async def _trading(client: httpx.AsyncClient, services: Services, tenant: TenantCtx) -> dict[str, Any]:
    """November 2026 at the DC, worked out by hand in each test:

    SO-1 10 requested Nov 10 12:00, shipped on S1 (carrier 1), arrived Nov 10 10:00: OTIF.
    SO-2 20 requested Nov 12 12:00, shipped on S2 (carrier 2), arrived Nov 13 08:00: late.
    SO-3 30 requested Nov 20 12:00, 15 shipped on S3 (carrier 1), arrived Nov 19: short.
    SO-4 5 requested Nov 25, marked shipped with no shipment record: in full, delivery unknown.
    IN-1 brings 40 from the store to the DC (departs Nov 19, arrives Nov 20).
    Stock now: lot L 100 on hand (10 allocated), lot L2 30 on hand, all held: 90 sellable.
    """
    w = await world(client, tenant.headers)
    h = tenant.headers
    w["carrier2"] = await post(
        client, h, "organizations", {"code": "CAR2", "name": "Slow", "kind": "carrier"}
    )
    w["customer"] = await post(
        client, h, "organizations", {"code": "CUS1", "name": "Shop", "kind": "customer"}
    )
    product, dc, store = w["product"]["id"], w["dc"]["id"], w["store"]["id"]
    w["lot2"] = await post(
        client, h, "lots", {"product_id": product, "lot_code": "L2", "quantity": 30, "unit": "each"}
    )
    for lot, on_hand, allocated, held in ((w["lot"], 100, 10, 0), (w["lot2"], 30, 0, 30)):
        position = {"site_id": dc, "product_id": product, "lot_id": lot["id"], "unit": "each"}
        await post(
            client,
            h,
            "inventory-positions",
            {**position, "on_hand": on_hand, "allocated": allocated, "held": held},
        )
    orders = {}
    for n, (qty, requested, status) in enumerate(
        (
            (10, at(10, 12), "delivered"),
            (20, at(12, 12), "delivered"),
            (30, at(20, 12), "delivered"),
            (5, at(25, 12), "shipped"),
        ),
        start=1,
    ):
        orders[n] = await post(
            client,
            h,
            "orders",
            {
                "number": f"SO-{n}",
                "kind": "sales",
                "status": status,
                "organization_id": w["customer"]["id"],
                "from_site_id": dc,
                "to_site_id": store,
                "requested_at": requested.isoformat(),
                "lines": [{"product_id": product, "quantity": qty, "unit": "each"}],
            },
        )
    trips = {
        "S1": (1, w["carrier"], at(9), at(10, 10), 10),
        "S2": (2, w["carrier2"], at(11), at(13), 20),
        "S3": (3, w["carrier"], at(18), at(19), 15),
    }
    for number, (order, carrier, departed, arrived, qty) in trips.items():
        w[number] = await _shipment(
            client,
            tenant,
            number=number,
            origin_site_id=dc,
            destination_site_id=store,
            carrier_organization_id=carrier["id"],
            order_id=orders[order]["id"],
            actual_departure_at=departed.isoformat(),
            actual_arrival_at=arrived.isoformat(),
            lots=[{"lot_id": w["lot"]["id"], "quantity": qty, "unit": "each"}],
        )
    w["IN-1"] = await _shipment(
        client,
        tenant,
        number="IN-1",
        origin_site_id=store,
        destination_site_id=dc,
        actual_departure_at=at(19, 10).isoformat(),
        actual_arrival_at=at(20, 10).isoformat(),
        lots=[{"lot_id": w["lot"]["id"], "quantity": 40, "unit": "each"}],
    )
    return w


async def _carrier_headers(
    client: httpx.AsyncClient, tenant: TenantCtx, carrier: dict[str, Any]
) -> dict[str, str]:
    body = {"name": f"{carrier['code']} viewer", "role": "partner_viewer", "organization_id": carrier["id"]}
    r = await client.post("/v1/api-keys", json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def test_fill_rate_and_otif_per_order_and_a_carrier_sees_its_own(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await _trading(client, services, tenant)
    fill = await total(client, tenant.headers, "fill_rate")
    assert (fill["numerator"], fill["denominator"]) == (50, 65)  # 10 + 20 + 15 + 5 of 65
    otif = await total(client, tenant.headers, "otif")
    assert (otif["numerator"], otif["denominator"], otif["value"]) == (1, 4, 0.25)
    # Per order, not on-time share x in-full share: 2/4 on time x 3/4 in full would be 0.375.
    weekly = await kpi(client, tenant.headers, "otif", grain="week")
    assert [(p["period_start"], p["numerator"], p["denominator"]) for p in weekly["points"]] == [
        ("2026-11-01", 0, 0),
        ("2026-11-02", 0, 0),
        ("2026-11-09", 1, 2),
        ("2026-11-16", 0, 1),
        ("2026-11-23", 0, 1),
        ("2026-11-30", 0, 0),
    ]
    assert weekly["points"][0]["value"] is None and weekly["version"] == 1
    assert (await total(client, tenant.headers, "otif", customer=w["customer"]["id"]))["denominator"] == 4

    carrier1 = await _carrier_headers(client, tenant, w["carrier"])
    mine = await total(client, carrier1, "otif")
    assert (mine["numerator"], mine["denominator"]) == (1, 2)  # SO-1 and SO-3, on S1 and S3
    mine = await total(client, carrier1, "fill_rate")
    assert (mine["numerator"], mine["denominator"]) == (25, 40)
    carrier2 = await _carrier_headers(client, tenant, w["carrier2"])
    theirs = await total(client, carrier2, "otif")
    assert (theirs["numerator"], theirs["denominator"]) == (0, 1)


async def test_a_new_version_changes_the_figure_and_the_old_one_stays(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    await _trading(client, services, tenant)
    text = files("supplyline.planning.kpis").joinpath("definitions.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    v1 = next(d for d in doc["definitions"] if d["name"] == "otif")
    doc["definitions"].append(
        {**v1, "version": 2, "params": {"tolerance_hours": 24}, "changes": "a day's grace"}
    )
    catalog = planning.load_catalog(json.dumps(doc), planning.MEASURES)
    query = planning.KpiQuery(start=date(2026, 11, 1), end=date(2026, 11, 30))
    async with services.read_engine.connect() as conn:
        latest = await planning.kpi_values(conn, tenant.scope, "otif", query, catalog)
        old = await planning.kpi_values(
            conn, tenant.scope, "otif", query.model_copy(update={"version": 1}), catalog
        )
    assert (latest["version"], latest["points"][0]["numerator"]) == (2, 2)  # SO-2, 20 h late, is now on time
    assert (old["version"], old["points"][0]["numerator"]) == (1, 1)
    listed = [
        (d["name"], d["version"], d["current"]) for d in planning.kpi_definitions(tenant.scope, catalog)
    ]
    assert ("otif", 1, False) in listed and ("otif", 2, True) in listed


async def test_excursion_rate_and_time_out_of_range_count_a_carrier_s_shipments_only(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await _trading(client, services, tenant)
    tracker = uuid.UUID(w["tracker"]["id"])
    async with services.uow() as uow:
        for name, metric in (("S3", "temperature_c"), ("S2", "temperature_c"), ("S1", "humidity_pct")):
            excursion = logistics.ShipmentExcursion(
                shipment_id=uuid.UUID(w[name]["id"]),
                shipment_number=name,
                rule_id=uuid.uuid4(),
                rule_code="cold-max",
                severity="critical",
                device_id=tracker,
                device="trk-001",
                metric=metric,
                value=9.5,
                at=at(18, 9).isoformat(),
                late=False,
                lot_ids=[],
            )
            logistics.record_excursion(uow, tenant.id, excursion, "rules")
        # S3 (departed Nov 18 08:00): out of range 09:00-09:30 and 09:15-10:00, one hour in all;
        # an alarm on humidity about S1 is not about temperature.
        for originator, kind, metric, raised, cleared in (
            (tracker, "cold-max", "temperature_c", at(18, 9), at(18, 9, 30)),
            (uuid.uuid4(), "cold-max-probe", "temperature_c", at(18, 9, 15), at(18, 10)),
            (uuid.uuid4(), "humid", "humidity_pct", at(9, 9), None),
        ):
            ship = w["S1"] if metric == "humidity_pct" else w["S3"]
            raise_ = alarms.RaiseAlarm(
                type=kind,
                severity="critical",
                originator_kind="device",
                originator_id=originator,
                originator=str(originator),
                at=raised,
                shipment_id=uuid.UUID(ship["id"]),
                details={"metric": metric, "value": 9.5, "at": raised.isoformat()},
            )
            await alarms.raise_alarm(uow, tenant.id, raise_)
            if cleared is not None:
                await alarms.clear_for(uow, tenant.id, originator, kind, cleared, "back in range")
        await uow.commit()

    rate = await total(client, tenant.headers, "excursion_rate")
    assert (rate["numerator"], rate["denominator"], rate["value"]) == (2, 4, 0.5)  # S2, S3 of S1-3, IN-1
    minutes = await total(client, tenant.headers, "time_out_of_range")
    assert (minutes["numerator"], minutes["denominator"], minutes["value"]) == (60, 4, 15)
    by_carrier = await kpi(client, tenant.headers, "excursion_rate", group_by="carrier")
    groups = {p["group"]["carrier"]: (p["numerator"], p["denominator"]) for p in by_carrier["points"]}
    assert groups == {w["carrier"]["id"]: (1, 2), w["carrier2"]["id"]: (1, 1)}

    carrier1 = await _carrier_headers(client, tenant, w["carrier"])
    mine = await total(client, carrier1, "excursion_rate")
    assert (mine["numerator"], mine["denominator"]) == (1, 2)  # S3 of S1, S3
    assert (await total(client, carrier1, "time_out_of_range"))["value"] == 30
    carrier2 = await _carrier_headers(client, tenant, w["carrier2"])
    assert (await total(client, carrier2, "excursion_rate"))["value"] == 1
    assert (await total(client, carrier2, "time_out_of_range"))["value"] == 0
    # Stock figures are the tenant's business: no partner reaches inventory positions.
    assert_problem(await client.get("/v1/kpis/days_of_supply", params=NOV, headers=carrier1), 403)
    names = {d["name"] for d in (await client.get("/v1/kpis", headers=carrier1)).json()["items"]}
    assert {"otif", "excursion_rate", "time_out_of_range"} <= names
    assert not names & {"days_of_supply", "inventory_turns", "wape"}


async def test_days_of_supply_and_inventory_turns(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await _trading(client, services, tenant)
    dc = w["dc"]["id"]
    # Out of the DC in November: 10 (Nov 9), 20 (Nov 11), 15 (Nov 18), SO-4's 5 (Nov 25) = 50.
    cover = await total(client, tenant.headers, "days_of_supply", site=dc)
    assert cover["numerator"] == pytest.approx(90)
    assert cover["denominator"] == pytest.approx(50 / 30)
    assert cover["value"] == pytest.approx(54)
    # Across sites the store's 40 to the DC is demand too, with no stock at the store.
    assert (await total(client, tenant.headers, "days_of_supply"))["value"] == pytest.approx(30)
    # Closing stock at the DC, rebuilt back from 130 on hand now: 140 (Nov 1-8), 130 (9-10),
    # 110 (11-17), 95 (18-19), 135 (20-24), 130 (25-30): 3,795 unit-days, 126.5 a day.
    turns = await total(client, tenant.headers, "inventory_turns", site=dc)
    assert turns["numerator"] == pytest.approx(50)
    assert turns["denominator"] == pytest.approx(126.5)
    assert turns["value"] == pytest.approx(50 / 126.5)
    week = await kpi(
        client, tenant.headers, "inventory_turns", site=dc, grain="week", start="2026-11-16", end="2026-11-22"
    )
    assert week["points"][0]["denominator"] == pytest.approx((2 * 110 + 2 * 95 + 3 * 135) / 7)


async def _forecasts(services: Services, tenant: TenantCtx, product: uuid.UUID, site: uuid.UUID) -> None:
    """Weekly runs and the daily demand they are judged against (see the test)."""
    series = {"tenant_id": tenant.id, "product_id": product, "site_id": site}
    demand = [
        ("2026-10-05", 100, "events"),
        ("2026-10-12", 120, "events"),
        ("2026-10-19", 110, "events"),
        ("2026-10-26", 130, "events"),
        ("2026-11-03", 60, "events"),
        ("2026-11-05", 50, "events"),
        ("2026-11-10", 70, "events"),
        ("2026-11-10", 75, "import"),  # the planner's figure wins over what the events showed
        ("2026-11-16", 100, "events"),
        ("2026-11-29", 40, "events"),
    ]
    runs = [
        ("2026-10-31T00:00:00", "2026-10-05", "2026-11-01", {"2026-11-02": 100, "2026-11-09": 100}),
        ("2026-11-08T12:00:00", "2026-10-12", "2026-11-08", {"2026-11-09": 80, "2026-11-16": 90}),
        ("2026-11-16T06:00:00", "2026-10-19", "2026-11-15", {"2026-11-16": 1000, "2026-11-23": 50}),
    ]
    async with services.uow() as uow:
        for day, qty, source in demand:
            row = {
                **series,
                "day": date.fromisoformat(day),
                "source": source,
                "quantity": qty,
                "updated_at": utcnow(),
            }
            await uow.conn.execute(insert(planning_demand).values(**row))
        for started, first, last, points in runs:
            run_id = uuid.uuid4()
            await uow.conn.execute(
                insert(planning_forecast_run).values(
                    id=run_id,
                    **series,
                    grain="week",
                    horizon=2,
                    season=1,
                    demand_class="smooth",
                    adi=1.0,
                    cv2=0.01,
                    model="ets",
                    params={},
                    library="test",
                    band_method="conformal",
                    backtest={},
                    input_start=date.fromisoformat(first),
                    input_end=date.fromisoformat(last),
                    input_points=4,
                    input_fingerprint="0" * 64,
                    trigger="request",
                    created_by="test",
                    started_at=datetime.fromisoformat(started).replace(tzinfo=UTC),
                    duration_ms=1.0,
                )
            )
            for ds, mean in points.items():
                await uow.conn.execute(
                    insert(planning_forecast_point).values(
                        run_id=run_id, ds=date.fromisoformat(ds), mean=mean, lo80=0, hi80=0, lo95=0, hi95=0
                    )
                )
        await uow.commit()


async def test_forecast_error_wape_mase_and_bias(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    await _forecasts(services, tenant, uuid.UUID(w["product"]["id"]), uuid.UUID(w["dc"]["id"]))
    # Judged: Nov 2 (run 1: 100 vs 110), Nov 9 (run 2: 80 vs 75), Nov 16 (run 2: 90 vs 100, run 3
    # started after the week began), Nov 23 (run 3: 50 vs 40). |errors| 10 + 5 + 10 + 10 = 35.
    window = {"start": "2026-11-01", "end": "2026-11-29"}
    wape = await total(client, tenant.headers, "wape", **window)
    assert (wape["numerator"], wape["denominator"]) == (35, 325)
    bias = await total(client, tenant.headers, "bias", **window)
    assert (bias["numerator"], bias["value"]) == (-5, pytest.approx(-5 / 325))
    # Naive in-sample errors: runs 1 and 2 (20, 10, 20 and 10, 20, 20) 50/3; run 3 (20, 20, 35) 25.
    mase = await total(client, tenant.headers, "mase", **window)
    assert mase["denominator"] == 4
    assert mase["value"] == pytest.approx((10 * 3 / 50 + 5 * 3 / 50 + 10 * 3 / 50 + 10 / 25) / 4)
    weekly = await kpi(client, tenant.headers, "wape", grain="week", start="2026-11-09", end="2026-11-15")
    assert (weekly["points"][0]["numerator"], weekly["points"][0]["denominator"]) == (5, 75)
    other_site = await total(client, tenant.headers, "wape", site=w["store"]["id"], **window)
    assert other_site["denominator"] == 0 and other_site["value"] is None


async def test_mtbf_per_asset(client: httpx.AsyncClient, services: Services, tenant: TenantCtx) -> None:
    w = await world(client, tenant.headers)
    second = await post(
        client,
        tenant.headers,
        "assets",
        {
            "code": "TRL-2",
            "name": "Reefer 2",
            "asset_type_id": w["trailer_type"]["id"],
            "site_id": w["store"]["id"],
            "attributes": {"setpoint_c": 4},
        },
    )
    async with services.uow() as uow:
        for asset, opened in (
            (w["trailer"], at(5)),
            (w["trailer"], at(20)),
            (second, at(12)),
            (second, datetime(2026, 10, 30, tzinfo=UTC)),
            (None, at(7)),
        ):
            await uow.conn.execute(
                insert(maintenance_work_order).values(
                    id=uuid.uuid4(),
                    tenant_id=tenant.id,
                    title="compressor",
                    status="open",
                    asset_id=uuid.UUID(asset["id"]) if asset else None,
                    created_at=opened,
                )
            )
        await uow.commit()
    # Two assets x 30 days x 24 h = 1,440 hours over three failures in November.
    out = await total(client, tenant.headers, "mtbf")
    assert (out["numerator"], out["denominator"], out["value"]) == (1440, 3, 480)
    by_asset = await kpi(client, tenant.headers, "mtbf", group_by="asset")
    assert {p["group"]["asset"]: p["value"] for p in by_asset["points"]} == {
        w["trailer"]["id"]: 360,
        second["id"]: 720,
    }
    assert (await total(client, tenant.headers, "mtbf", site=w["store"]["id"]))["value"] == 720


BAD = [
    ({"grain": "year"}, "grain"),
    ({"grain": "day"}, "grain"),  # mtbf is not given per day
    ({"start": "2026-12-01"}, "end"),  # after the end
    ({"end": "2030-12-31"}, "end"),  # too long a window
    ({"start": "2026-13-01"}, "start"),
    ({"customer": str(uuid.uuid4())}, "customer"),  # not a dimension of mtbf
    ({"group_by": "carrier"}, "group_by"),
    ({"group_by": "colour"}, "group_by"),
    ({"version": 9}, "version"),
    ({"version": 0}, "version"),
    ({"site": "not-a-uuid"}, "site"),
    ({"colour": "red"}, "colour"),
]


async def test_bad_parameters_are_422_naming_them_and_an_unknown_kpi_is_404(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    for change, field in BAD:
        r = await client.get("/v1/kpis/mtbf", params={**NOV, **change}, headers=tenant.headers)
        body = assert_problem(r, 422)
        assert any(e["field"].split(".")[-1] == field for e in body["errors"]), (change, body)
    r = await client.get("/v1/kpis/mtbf", params={"start": "2026-11-01"}, headers=tenant.headers)
    assert any(e["field"].endswith("end") for e in assert_problem(r, 422)["errors"])
    assert_problem(await client.get("/v1/kpis/perfect_order", params=NOV, headers=tenant.headers), 404)
    empty = await kpi(client, tenant.headers, "mtbf", grain="month")
    assert [(p["period_start"], p["value"]) for p in empty["points"]] == [("2026-11-01", None)]
