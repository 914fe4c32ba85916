"""Lineage traces over a generated supply network, checked against the generator's ground truth."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from supplyline.bootstrap import Services
from supplyline.epcis import canonical_id, index_event, insert_events, trace
from tests.conftest import TenantCtx
from tests.epcis.network import CP, Loaded, Network, generate, load, reach

SEED = 20261207


@pytest.fixture
async def network(client: httpx.AsyncClient, services: Services, tenant: TenantCtx) -> tuple[Network, Loaded]:
    net = generate(SEED)
    return net, await load(net, client, tenant.headers, services, tenant.id)


def _got(lineage: Any) -> dict[str, tuple[int, str]]:
    return {n.id: (n.hops, n.role) for n in lineage.nodes}


def _of(net: Network, *kinds: str) -> list[str]:
    return sorted(c for c, k in net.kinds.items() if k in kinds)


async def test_forward_and_backward_traces_match_the_ground_truth(
    network: tuple[Network, Loaded], services: Services, tenant: TenantCtx
) -> None:
    net, _ = network
    declared = net.declared
    async with services.engine.connect() as conn:
        for start in _of(net, "raw", "inter"):
            got = await trace(conn, tenant.id, [start], "forward", None)
            assert _got(got) == reach(net, [start], "forward"), start
            assert all(e.events for e in got.edges)
            assert declared not in {j.event_id for e in got.edges for j in e.events}
        for start in _of(net, "pack", "serial", "product"):
            got = await trace(conn, tenant.id, [start], "backward", None)
            assert _got(got) == reach(net, [start], "backward"), start
        for start in _of(net, "raw")[:3]:
            for depth in (1, 2, 4):
                got = await trace(conn, tenant.id, [start], "forward", depth)
                assert _got(got) == reach(net, [start], "forward", depth), (start, depth)


async def test_a_lot_on_a_pallet_does_not_expose_the_pallets_other_contents(
    network: tuple[Network, Loaded], services: Services, tenant: TenantCtx
) -> None:
    net, _ = network
    pack = next(c for c in _of(net, "pack", "serial") if any(c in kids for kids in net.contains.values()))
    pallet = next(p for p, kids in net.contains.items() if pack in kids and net.kinds[p] == "pallet")
    siblings = net.contains[pallet] - {pack}
    async with services.engine.connect() as conn:
        from_pack = _got(await trace(conn, tenant.id, [pack], "forward", None))
        from_pallet = _got(await trace(conn, tenant.id, [pallet], "forward", None))
    assert from_pack[pallet][1] == "carrier"
    assert siblings and not siblings & from_pack.keys()
    assert siblings <= from_pallet.keys()  # the pallet itself, recalled, exposes everything it held


async def test_trace_route_by_platform_lot_or_identifier(
    network: tuple[Network, Loaded], client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    net, loaded = network
    raw = _of(net, "raw")[0]
    by_id = await client.get(
        f"/v1/traceability/lots/{loaded.lot_ids[raw]}",
        params={"direction": "forward", "depth": 50},
        headers=tenant.headers,
    )
    assert by_id.status_code == 200, by_id.text
    urn = "urn:epc:class:lgtin:" + f"{CP}.000001.R0"
    assert canonical_id(urn) == raw
    by_urn = await client.get(
        f"/v1/traceability/lots/{quote(urn, safe='')}",
        params={"direction": "forward", "depth": 50},
        headers=tenant.headers,
    )
    assert by_urn.json()["nodes"] == by_id.json()["nodes"]
    nodes = {n["id"]: n for n in by_id.json()["nodes"]}
    assert set(nodes) == set(reach(net, [raw], "forward"))
    for cid, n in nodes.items():
        assert n["lot_id"] == loaded.lot_ids.get(cid), cid
    containers = [n for cid, n in nodes.items() if net.kinds[cid] == "container"]
    assert containers and all(
        {c["biz_step"].rsplit("-", 1)[1] for c in n["custody"]} == {"shipping", "receiving"}
        for n in containers
    )
    assert all(e["events"] and e["events"][0]["event_type"] for e in by_id.json()["edges"])


async def test_trace_route_refuses_what_it_cannot_answer(
    network: tuple[Network, Loaded], client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    missing = await client.get(
        "/v1/traceability/lots/6a1f0c33-0000-4000-8000-000000000000", headers=tenant.headers
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    for params in ({"depth": 0}, {"depth": 51}, {"direction": "sideways"}):
        r = await client.get(
            "/v1/traceability/lots/urn:epc:class:lgtin:4012345.000001.R0",
            params=params,
            headers=tenant.headers,
        )
        assert r.status_code == 422, params
    assert (
        await client.get("/v1/traceability/lots/not-an-identifier", headers=tenant.headers)
    ).status_code == 422


async def test_an_error_declaration_prunes_and_the_corrective_event_amends(
    services: Services, tenant: TenantCtx
) -> None:
    a, b, c = (f"urn:epc:class:lgtin:{CP}.000001.X{i}" for i in range(3))
    wrong = {
        "type": "TransformationEvent",
        "eventID": "urn:uuid:5b0a7d8e-2f3c-4a5b-9c6d-7e8f9a0b1c2d",
        "eventTime": "2026-06-01T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "inputQuantityList": [{"epcClass": a, "quantity": 3}],
        "outputQuantityList": [{"epcClass": b, "quantity": 3}],
    }
    corrective = {
        **wrong,
        "eventID": "urn:uuid:6c1b8e9f-3a4d-4b6c-8d7e-8f9a0b1c2d3e",
        "inputQuantityList": [{"epcClass": c, "quantity": 3}],
    }
    declaration = {
        **wrong,
        "errorDeclaration": {
            "declarationTime": "2026-06-02T08:00:00Z",
            "correctiveEventIDs": [corrective["eventID"]],
        },
    }

    async def backward() -> set[str]:
        async with services.engine.connect() as conn:
            return {n.id for n in (await trace(conn, tenant.id, [canonical_id(b)], "backward", 5)).nodes}

    async with services.uow() as uow:
        await insert_events(uow, tenant.id, [index_event(wrong)], source="capture", actor="test")
        await uow.commit()
    assert await backward() == {canonical_id(b), canonical_id(a)}
    async with services.uow() as uow:
        await insert_events(
            uow,
            tenant.id,
            [index_event(declaration), index_event(corrective)],
            source="capture",
            actor="test",
        )
        await uow.commit()
    assert await backward() == {canonical_id(b), canonical_id(c)}


def _transformation(event_id: int, inputs: list[str], outputs: list[str]) -> dict[str, Any]:
    return {
        "type": "TransformationEvent",
        "eventID": f"urn:uuid:00000000-0000-4000-8000-{event_id:012d}",
        "eventTime": "2026-06-01T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "inputQuantityList": [{"epcClass": i, "quantity": 1} for i in inputs],
        "outputQuantityList": [{"epcClass": o, "quantity": 1} for o in outputs],
    }


async def test_a_cycle_ends_the_walk_at_its_fixpoint(services: Services, tenant: TenantCtx) -> None:
    a, b, c = (canonical_id(f"urn:epc:class:lgtin:{CP}.000001.C{i}") for i in range(3))
    events = [_transformation(1, [a], [b]), _transformation(2, [b], [c]), _transformation(3, [c], [a])]
    async with services.uow() as uow:
        await insert_events(uow, tenant.id, [index_event(e) for e in events], source="capture", actor="test")
        await uow.commit()
    async with services.engine.connect() as conn:
        found = await trace(conn, tenant.id, [a], "forward", None)
    assert {n.id: n.hops for n in found.nodes} == {a: 0, b: 1, c: 2}
    assert found.complete and len(found.edges) == 3


async def test_a_lot_without_gtin_is_found_through_the_events_about_it(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    from tests.factories import post

    product = await post(client, tenant.headers, "products", {"sku": "BULK", "name": "Bulk", "unit": "kg"})
    body = {"product_id": product["id"], "lot_code": "BULK-7", "quantity": 12, "unit": "kg"}
    lot = await post(client, tenant.headers, "lots", body)
    own = "urn:supplyline:lot:bulk-7"  # what the platform's own event names it by
    made = f"urn:epc:class:lgtin:{CP}.000001.FROM-BULK"
    observed = {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "eventTime": "2026-06-01T07:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": [own],
        "bizStep": "receiving",
    }
    records = [index_event(observed), index_event(_transformation(9, [own], [made]))]
    records[0].refs = {("lot", uuid.UUID(lot["id"]))}
    async with services.uow() as uow:
        await insert_events(uow, tenant.id, records, source="platform", actor="test")
        await uow.commit()
    r = await client.get(f"/v1/traceability/lots/{lot['id']}?direction=forward", headers=tenant.headers)
    assert r.status_code == 200, r.text
    nodes = {n["id"]: n for n in r.json()["nodes"]}
    assert set(nodes) == {own, canonical_id(made)}
    assert nodes[own]["lot_id"] == lot["id"] and nodes[own]["quantity"] == 12
    assert [c["biz_step"] for c in nodes[own]["custody"]] == ["https://ref.gs1.org/cbv/BizStep-receiving"]
