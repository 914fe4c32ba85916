"""Recall over a generated supply network: exposure and holds against the generator's ground truth."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from supplyline.bootstrap import Services
from supplyline.logistics.tables import logistics_hold, logistics_lot
from tests.conftest import TenantCtx
from tests.epcis.network import CP, Loaded, Network, generate, load, reach

SEED = 4242


@pytest.fixture
async def network(client: httpx.AsyncClient, services: Services, tenant: TenantCtx) -> tuple[Network, Loaded]:
    net = generate(SEED)
    return net, await load(net, client, tenant.headers, services, tenant.id)


def expected(net: Network, loaded: Loaded, seeds: list[str]) -> dict[str, Any]:
    """What a recall of ``seeds`` must expose, from the model alone."""
    reached = reach(net, seeds, "forward")
    objects = {c for c, (_, role) in reached.items() if role != "carrier"}
    platform = {loaded.lot_ids[c] for c in objects if c in loaded.lot_ids}
    exposed = objects & loaded.lot_ids.keys()
    orders = {n for n, (_, lots) in net.orders.items() if set(lots) & exposed}
    shipping = [(e, party) for e, named, party in net.shipping if named & reached.keys()]
    shipments = {n for n, (_, lots) in net.shipments.items() if set(lots) & exposed}
    # A shipping event that names a carrier of something exposed brings its platform shipment.
    shipments |= {
        name
        for i, refs in net.refs.items()
        for kind, name in refs
        if kind == "shipment" and net.events[i]["eventID"] in {e for e, _ in shipping}
    }
    return {
        "lots": objects,
        "containers": {c for c, (_, role) in reached.items() if role == "carrier"},
        "platform_lots": platform,
        "orders": orders,
        "customers": {net.orders[o][0] for o in orders},
        "shipments": shipments,
        "shipping_events": {e for e, _ in shipping},
        "parties": {p for _, p in shipping},
    }


def observed(body: dict[str, Any], loaded: Loaded) -> dict[str, Any]:
    return {
        "lots": {lot["identifier"] for lot in body["lots"]},
        "containers": {c["identifier"] for c in body["containers"]},
        "platform_lots": {lot["lot_id"] for lot in body["lots"] if lot["lot_id"]},
        "orders": loaded.names(o["order_id"] for o in body["orders"]),
        "customers": loaded.names(body["customers"]),
        "shipments": {s["number"] for s in body["shipments"]},
        "shipping_events": {e["event_id"] for e in body["shipping_events"]},
        "parties": set(body["parties"]),
    }


async def _recall(client: httpx.AsyncClient, tenant: TenantCtx, **body: Any) -> dict[str, Any]:
    r = await client.post(
        "/v1/traceability/recalls", json={"reason": "supplier notice", **body}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_recall_of_each_raw_lot_exposes_exactly_what_came_of_it(
    network: tuple[Network, Loaded], client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    net, loaded = network
    raws = sorted(c for c, k in net.kinds.items() if k == "raw")
    for raw in raws:
        body = await _recall(client, tenant, lots=[loaded.lot_ids[raw]])
        want = expected(net, loaded, [raw])
        assert observed(body, loaded) == want, raw
        for lot in body["lots"]:  # what the transformations made, else the platform lot's own
            made = net.made.get(lot["identifier"])
            if made is not None or lot["lot_id"]:
                assert lot["quantity"] == pytest.approx(made or net.lots[lot["identifier"]].quantity)
        assert body["holds"] == []
    both = await _recall(client, tenant, lots=[loaded.lot_ids[raws[0]], raws[1]])
    assert observed(both, loaded) == expected(net, loaded, raws[:2])
    assert any(expected(net, loaded, [r])["customers"] for r in raws)  # the network reaches customers


async def test_recall_by_serial_and_by_supplier_batch(
    network: tuple[Network, Loaded], client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    net, loaded = network
    serial = sorted(c for c, k in net.kinds.items() if k == "serial")[0]
    body = await _recall(
        client, tenant, serials=[serial.replace("https://id.gs1.org", "https://example.com")]
    )
    assert observed(body, loaded) == expected(net, loaded, [serial])
    batch = [c for c, lot in net.lots.items() if lot.supplier == "SUP1" and lot.code == "R1"]
    body = await _recall(
        client, tenant, supplier_batch={"organization_id": loaded.ids["SUP1"], "lot_code": "R1"}
    )
    assert batch and observed(body, loaded) == expected(net, loaded, batch)
    nothing = await _recall(
        client, tenant, supplier_batch={"organization_id": loaded.ids["SUP0"], "lot_code": "R1"}
    )
    assert nothing["lots"] == [] and nothing["holds"] == []  # SUP0 never delivered a lot R1


async def test_recall_with_hold_holds_exactly_the_exposed_lots_once(
    network: tuple[Network, Loaded], client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    net, loaded = network
    raws = sorted(c for c, k in net.kinds.items() if k == "raw")
    seeds = [f"urn:epc:class:lgtin:{CP}.000001.{net.lots[r].code}" for r in raws[:2]]
    want = expected(net, loaded, raws[:2])["platform_lots"]
    first = await _recall(client, tenant, lots=seeds, hold=True)
    assert {h["lot_id"] for h in first["holds"]} == want and all(h["created"] for h in first["holds"])
    again = await _recall(client, tenant, lots=seeds, hold=True)
    assert {h["lot_id"] for h in again["holds"]} == want and not any(h["created"] for h in again["holds"])
    async with services.engine.connect() as conn:
        holds = (await conn.execute(select(logistics_hold.c.lot_id, logistics_hold.c.status))).all()
        statuses = dict((await conn.execute(select(logistics_lot.c.id, logistics_lot.c.status))).all())
    assert sorted(str(h.lot_id) for h in holds) == sorted(want)  # one hold per exposed lot, none twice
    assert {str(i) for i, s in statuses.items() if s == "quarantined"} == want
    listed = await client.get("/v1/holds", params={"status": "active"}, headers=tenant.headers)
    assert {h["lot_id"] for h in listed.json()["items"]} == want
    audit = await client.get("/v1/audit", headers=tenant.headers)
    assert audit.status_code == 200 and "traceability.recalls.create" in audit.text


async def test_recall_refuses_what_it_cannot_answer(
    network: tuple[Network, Loaded], client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    post = lambda body: client.post("/v1/traceability/recalls", json=body, headers=tenant.headers)  # noqa: E731
    assert (await post({"reason": "x"})).status_code == 422  # no seed
    assert (await post({"reason": "x", "lots": ["just words"]})).status_code == 422
    assert (await post({"reason": "x", "lots": ["nothing-here"]})).status_code == 422
    missing = await post({"reason": "x", "lots": ["6a1f0c33-0000-4000-8000-000000000000"], "hold": True})
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
