"""Demand signals on both backends: the ``planning.demand`` consumer builds daily demand from
orders and shipments (agreeing with what replenishment reads), corrects a changed or cancelled
order, and replays to the same table; imported history goes in whole or not at all; the read
sums up the product and site hierarchies."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from supplyline import logistics, planning
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Scope
from supplyline.planning.tables import planning_demand, planning_demand_import
from tests.api.samples import assert_problem
from tests.conftest import TenantCtx
from tests.factories import post, world

HISTORY = "/v1/demand-history"


async def _settle(services: Services) -> None:
    await services.consumers.catch_up(planning.DEMAND_CONSUMER)


async def _events_rows(services: Services, tenant: TenantCtx) -> list[tuple[Any, ...]]:
    d = planning_demand
    stmt = (
        select(d.c.product_id, d.c.site_id, d.c.day, d.c.quantity)
        .where(d.c.tenant_id == tenant.id, d.c.source == "events")
        .order_by(d.c.product_id, d.c.site_id, d.c.day)
    )
    async with services.engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(stmt)]


async def _count(services: Services, table: Any, tenant: TenantCtx) -> int:
    async with services.engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    select(func.count()).select_from(table).where(table.c.tenant_id == tenant.id)
                )
            ).scalar_one()
        )


async def _demand(client: httpx.AsyncClient, tenant: TenantCtx, **params: Any) -> dict[str, Any]:
    r = await client.get("/v1/demand", params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def _sales_order(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any], number: str, qty: float, day: str
) -> dict[str, Any]:
    return await post(
        client,
        tenant.headers,
        "orders",
        {
            "number": number,
            "kind": "sales",
            "status": "shipped",
            "from_site_id": w["dc"]["id"],
            "to_site_id": w["store"]["id"],
            "requested_at": f"{day}T09:00:00Z",
            "lines": [{"product_id": w["product"]["id"], "quantity": qty, "unit": "each"}],
        },
    )


async def test_the_consumer_builds_demand_as_replenishment_reads_it_and_replays_the_same(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    product, dc = w["product"]["id"], w["dc"]["id"]
    for n, day in enumerate(("2026-11-02", "2026-11-02", "2026-11-05")):
        await post(
            client,
            tenant.headers,
            "shipments",
            {
                "number": f"OUT-{n}",
                "status": "delivered",
                "origin_site_id": dc,
                "destination_site_id": w["store"]["id"],
                "actual_departure_at": f"{day}T08:00:00Z",
                "lots": [{"lot_id": w["lot"]["id"], "quantity": 10 + n, "unit": "each"}],
            },
        )
    await _sales_order(client, tenant, w, "SO-1", 7, "2026-11-03")
    # A purchase order received at the DC is supply, not demand.
    await post(
        client,
        tenant.headers,
        "orders",
        {
            "number": "PO-1",
            "kind": "purchase",
            "status": "delivered",
            "to_site_id": dc,
            "requested_at": "2026-11-04T08:00:00Z",
            "lines": [{"product_id": product, "quantity": 500, "unit": "each"}],
        },
    )
    await _settle(services)
    out = await _demand(client, tenant, product=product, site=dc, start="2026-11-01", end="2026-11-07")
    assert [p["y"] for p in out["points"]] == [0, 21, 7, 0, 12, 0, 0]
    async with services.engine.connect() as conn:
        seen = await logistics.daily_outbound(
            conn, Scope.system(tenant.id), uuid.UUID(product), uuid.UUID(dc), date(2026, 1, 1)
        )
    assert {p["ds"]: p["y"] for p in out["points"] if p["y"]} == {d.isoformat(): q for d, q in seen.items()}

    before = await _events_rows(services, tenant)
    await services.consumers.replay(planning.DEMAND_CONSUMER)
    await _settle(services)
    assert await _events_rows(services, tenant) == before


async def test_a_changed_or_cancelled_order_is_corrected_not_doubled(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    ask = {"product": w["product"]["id"], "site": w["dc"]["id"], "start": "2026-11-03", "end": "2026-11-03"}
    order = await _sales_order(client, tenant, w, "SO-1", 7, "2026-11-03")
    await _settle(services)
    assert (await _demand(client, tenant, **ask))["total"] == 7

    lines = [{"product_id": w["product"]["id"], "quantity": 9, "unit": "each"}]
    r = await client.patch(
        f"/v1/orders/{order['id']}",
        json={"lines": lines},
        headers={**tenant.headers, "If-Match": f'"{order["version"]}"'},
    )
    assert r.status_code == 200, r.text
    await _settle(services)
    assert (await _demand(client, tenant, **ask))["total"] == 9

    # A shipment that carries the order takes over its lines: counted once, on the departure day.
    await post(
        client,
        tenant.headers,
        "shipments",
        {
            "number": "OUT-SO-1",
            "status": "in_transit",
            "order_id": order["id"],
            "origin_site_id": w["dc"]["id"],
            "destination_site_id": w["store"]["id"],
            "actual_departure_at": "2026-11-03T15:00:00Z",
            "lots": [{"lot_id": w["lot"]["id"], "quantity": 9, "unit": "each"}],
        },
    )
    await _settle(services)
    assert (await _demand(client, tenant, **ask))["total"] == 9

    # SO-2 moves from the DC to the store: the DC's series loses it, the store's gains it.
    order2 = await _sales_order(client, tenant, w, "SO-2", 4, "2026-11-03")
    await _settle(services)
    assert (await _demand(client, tenant, **ask))["total"] == 13
    r2 = await client.patch(
        f"/v1/orders/{order2['id']}",
        json={"from_site_id": w["store"]["id"], "to_site_id": w["dc"]["id"]},
        headers={**tenant.headers, "If-Match": f'"{order2["version"]}"'},
    )
    assert r2.status_code == 200, r2.text
    await _settle(services)
    assert (await _demand(client, tenant, **ask))["total"] == 9
    assert (await _demand(client, tenant, **{**ask, "site": w["store"]["id"]}))["total"] == 4

    version = r.json()["version"]
    r = await client.patch(
        f"/v1/orders/{order['id']}",
        json={"status": "cancelled"},
        headers={**tenant.headers, "If-Match": f'"{version}"'},
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"/v1/orders/{order2['id']}",
        json={"status": "cancelled"},
        headers={**tenant.headers, "If-Match": f'"{r2.json()["version"]}"'},
    )
    assert r.status_code == 200, r.text
    await _settle(services)
    # The cancelled SO-2 leaves the store's series; the shipment of SO-1 left all the same.
    assert (await _demand(client, tenant, **ask))["total"] == 9
    assert (await _demand(client, tenant, **{**ask, "site": w["store"]["id"]}))["total"] == 0


def _rows(w: dict[str, Any], *days: tuple[str, float]) -> list[dict[str, Any]]:
    uid = f"{w['product']['sku']}@{w['dc']['code']}"
    return [{"unique_id": uid, "ds": ds, "y": y} for ds, y in days]


async def test_a_good_file_is_imported_whole_and_wins_over_seen_demand(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    await _sales_order(client, tenant, w, "SO-1", 7, "2026-11-03")
    await _settle(services)
    store = f"{w['product']['sku']}@{w['store']['code']}"
    rows = [
        *_rows(w, ("2026-11-02", 5), ("2026-11-03", 2), ("2026-11-09", 4)),
        {"unique_id": store, "ds": "2026-11-03", "y": 1.5},
    ]
    r = await client.post(HISTORY, json={"rows": rows, "filename": "h.csv"}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["rows"], got["series"], got["first_day"], got["last_day"]) == (
        4,
        2,
        "2026-11-02",
        "2026-11-09",
    )
    assert await _count(services, planning_demand_import, tenant) == 1

    ask = {"product": w["product"]["id"], "site": w["dc"]["id"], "start": "2026-11-01", "end": "2026-11-14"}
    daily = await _demand(client, tenant, **ask)
    assert daily["total"] == 11  # the imported 2 replaces the 7 seen on 2026-11-03
    weekly = await _demand(client, tenant, **ask, grain="week")
    assert weekly["points"] == [
        {"ds": "2026-10-26", "y": 0},  # Sunday 2026-11-01 only
        {"ds": "2026-11-02", "y": 7},
        {"ds": "2026-11-09", "y": 4},
    ]
    both = await _demand(
        client,
        tenant,
        product=w["product"]["id"],
        site=[w["dc"]["id"], w["store"]["id"]],
        start="2026-11-03",
        end="2026-11-03",
    )
    assert both["total"] == 3.5
    region = await _demand(
        client,
        tenant,
        product=w["product"]["id"],
        region=w["region"]["id"],
        start="2026-11-03",
        end="2026-11-03",
    )
    assert region["total"] == 3.5 and len(region["sites"]) == 2
    await post(
        client,
        tenant.headers,
        "products",
        {"sku": "VAC-02", "name": "Vaccine 2", "unit": "each", "attributes": {"category": "vaccines"}},
    )
    r = await client.patch(
        f"/v1/products/{w['product']['id']}",
        json={"attributes": {"category": "vaccines"}},
        headers={**tenant.headers, "If-Match": f'"{w["product"]["version"]}"'},
    )
    assert r.status_code == 200, r.text
    rows = [{"unique_id": f"VAC-02@{w['dc']['code']}", "ds": "2026-11-03", "y": 10}]
    assert (await client.post(HISTORY, json={"rows": rows}, headers=tenant.headers)).status_code == 201
    category = await _demand(
        client, tenant, category="vaccines", site=w["dc"]["id"], start="2026-11-03", end="2026-11-03"
    )
    assert category["total"] == 12 and len(category["products"]) == 2


async def test_a_bad_file_reports_every_row_and_writes_nothing(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    uid = f"{w['product']['sku']}@{w['dc']['code']}"
    rows = [
        {"unique_id": uid, "ds": "2026-11-01", "y": 1},
        {"unique_id": "NOPE@" + w["dc"]["code"], "ds": "2026-11-01", "y": 1},
        {"unique_id": w["product"]["sku"] + "@NOWHERE", "ds": "2026-11-01", "y": 1},
        {"unique_id": uid, "ds": "2026-13-01", "y": 1},
        {"unique_id": uid, "ds": "2026-11-01", "y": 2},
        {"unique_id": uid, "ds": "2026-11-02", "y": -1},
        {"unique_id": "no-at-sign", "ds": "2026-11-02", "y": 1},
    ]
    r = await client.post(HISTORY, json={"rows": rows}, headers=tenant.headers)
    body = assert_problem(r, 422, "rows.1.unique_id")
    errors = {(e["field"], e["reason"]) for e in body["errors"]}
    assert errors == {
        ("rows.1.unique_id", "unknown product 'NOPE'"),
        ("rows.2.unique_id", "unknown site 'NOWHERE'"),
        ("rows.3.ds", "'2026-13-01' is not an ISO date"),
        ("rows.4.ds", f"{uid} on 2026-11-01 repeats rows.0"),
        ("rows.5.y", "must be a finite number at least 0"),
        ("rows.6.unique_id", "must be <sku>@<site code>"),
    }
    csv = "unique_id,ds,y\n" + f"{uid},2026-11-01,1\n{uid},2026-11-01,3\n{uid},2026-11-02,nan\n"
    r = await client.post(HISTORY, content=csv, headers={**tenant.headers, "Content-Type": "text/csv"})
    body = assert_problem(r, 422, "row 3.ds")
    assert [e["field"] for e in body["errors"]] == ["row 3.ds", "row 4.y"]
    assert await _count(services, planning_demand, tenant) == 0
    assert await _count(services, planning_demand_import, tenant) == 0

    good = "unique_id,ds,y\n" + f"{uid},2026-11-01,1\n{uid},2026-11-02,3\n"
    r = await client.post(HISTORY, content=good, headers={**tenant.headers, "Content-Type": "text/csv"})
    assert r.status_code == 201 and r.json()["rows"] == 2, r.text


async def _narrowed(client: httpx.AsyncClient, tenant: TenantCtx, role: str, site_id: str) -> dict[str, str]:
    """A logged-in user holding ``role`` on one site only."""
    person = {"email": f"{role}@{tenant.slug}.example", "name": role, "password": "a long enough secret"}
    user = await post(client, tenant.headers, "users", person)
    await post(
        client, tenant.headers, "role-assignments", {"role": role, "user_id": user["id"], "site_id": site_id}
    )
    login = {"tenant": tenant.slug, "email": person["email"], "password": person["password"]}
    r = await client.post("/v1/auth/login", json=login)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def test_a_narrowed_caller_imports_and_reads_only_inside_its_reach(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    product, dc, store = w["product"]["id"], w["dc"]["id"], w["store"]["id"]
    dc_ops = await _narrowed(client, tenant, "site_operator", dc)
    # A site operator reads planning but does not write it.
    r = await client.post(HISTORY, json={"rows": _rows(w, ("2026-11-01", 1))}, headers=dc_ops)
    assert_problem(r, 403)
    ok = await client.get("/v1/demand", params={"product": product, "site": dc}, headers=dc_ops)
    assert ok.status_code == 200, ok.text
    # The store out of reach answers exactly as a site that does not exist.
    nowhere = str(uuid.uuid4())
    other = await client.get("/v1/demand", params={"product": product, "site": store}, headers=dc_ops)
    missing = await client.get("/v1/demand", params={"product": product, "site": nowhere}, headers=dc_ops)
    assert assert_problem(other, 404)["detail"] == f"no site {store}"
    assert assert_problem(missing, 404)["detail"] == f"no site {nowhere}"
    both = await client.get("/v1/demand", params={"product": product, "site": [dc, store]}, headers=dc_ops)
    assert_problem(both, 404)

    # A planner narrowed to the DC: the store is as unknown to its import as a site that is not there.
    planner = await _narrowed(client, tenant, "planner", dc)
    sku = w["product"]["sku"]
    rows = [
        {"unique_id": f"{sku}@{w['store']['code']}", "ds": "2026-11-01", "y": 1},
        {"unique_id": f"{sku}@ELSEWHERE", "ds": "2026-11-01", "y": 1},
    ]
    r = await client.post(HISTORY, json={"rows": rows}, headers=planner)
    body = assert_problem(r, 422, "rows.0.unique_id")
    assert [e["reason"] for e in body["errors"]] == [
        f"unknown site {w['store']['code']!r}",
        "unknown site 'ELSEWHERE'",
    ]
    r = await client.post(HISTORY, json={"rows": _rows(w, ("2026-11-01", 1))}, headers=planner)
    assert r.status_code == 201, r.text
    assert await _count(services, planning_demand, tenant) == 1


async def test_bounds_and_hierarchy_errors(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    w = await world(client, tenant.headers)
    # Found fuzzing: a NUL that PostgreSQL cannot store, and dates at the ends of the calendar.
    nul = [{"unique_id": "VAC\x00@DC", "ds": "2026-11-01", "y": 1}]
    assert_problem(
        await client.post(HISTORY, json={"rows": nul}, headers=tenant.headers), 422, "rows.0.unique_id"
    )
    named = {"rows": _rows(w, ("2026-11-01", 1)), "filename": "a\x00b"}
    assert_problem(await client.post(HISTORY, json=named, headers=tenant.headers), 422, "filename")
    ends = {"product": w["product"]["id"], "site": w["dc"]["id"], "grain": "week"}
    assert_problem(
        await client.get("/v1/demand", params={**ends, "end": "0001-01-01"}, headers=tenant.headers),
        422,
        "end",
    )
    assert_problem(
        await client.get(
            "/v1/demand", params={**ends, "start": "9999-12-25", "end": "9999-12-31"}, headers=tenant.headers
        ),
        422,
        "start",
    )
    r = await client.post(HISTORY, json={"rows": []}, headers=tenant.headers)
    assert_problem(r, 422, "rows")
    r = await client.post(
        HISTORY, json={"rows": _rows(w, ("2026-11-01", 1)), "mode": "merge"}, headers=tenant.headers
    )
    assert_problem(r, 422, "mode")
    r = await client.get("/v1/demand", params={"product": w["product"]["id"]}, headers=tenant.headers)
    assert_problem(r, 422, "site")
    r = await client.get(
        "/v1/demand", params={"category": "vaccines", "site": w["dc"]["id"]}, headers=tenant.headers
    )
    assert_problem(r, 404)
    r = await client.get(
        "/v1/demand",
        params={
            "product": w["product"]["id"],
            "site": w["dc"]["id"],
            "start": "2000-01-01",
            "end": "2026-01-01",
        },
        headers=tenant.headers,
    )
    assert_problem(r, 422, "start")


@pytest.mark.parametrize(
    ("values", "spike"),
    [
        ([10.0] * 28 + [40.0], True),
        ([10.0, 12.0, 8.0, 11.0] * 7 + [14.0], False),
        ([0.0] * 28 + [3.0], False),  # under the minimum excess
        ([10.0] * 5 + [50.0], False),  # too little history
    ],
)
def test_demand_spike(values: list[float], spike: bool) -> None:
    assert planning.demand_spike(values) is spike
