"""GET /v1/<resource>?id=…&id=…: the records a page names, in one request, within reach; and
the holds of several lots at once (GET /v1/holds?lot_id=…&lot_id=…)."""

from __future__ import annotations

import uuid

import httpx

from supplyline.bootstrap import Services
from tests.api.samples import assert_problem, raise_alarm_and_hold
from tests.conftest import TenantCtx
from tests.factories import world


async def test_a_list_answers_the_records_named_by_id(
    client: httpx.AsyncClient, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    ids = [w["dc"]["id"], w["store"]["id"]]
    r = await client.get("/v1/sites", params=[("id", i) for i in ids], headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert sorted(s["id"] for s in r.json()["items"]) == sorted(ids)
    one = await client.get("/v1/sites", params={"id": ids[0], "code": "ST-12"}, headers=tenant.headers)
    assert one.json()["items"] == [], "the id and the other filters all apply"
    theirs = await client.get("/v1/sites", params=[("id", i) for i in ids], headers=other_tenant.headers)
    assert theirs.status_code == 200 and theirs.json()["items"] == [], "out of reach: left out"
    await client.post(f"/v1/sites/{ids[1]}/archive", headers=tenant.headers)
    live = await client.get("/v1/sites", params=[("id", i) for i in ids], headers=tenant.headers)
    assert [s["id"] for s in live.json()["items"]] == [ids[0]]
    both = await client.get(
        "/v1/sites", params=[*(("id", i) for i in ids), ("include_archived", "true")], headers=tenant.headers
    )
    assert len(both.json()["items"]) == 2
    assert_problem(await client.get("/v1/sites", params={"id": "nope"}, headers=tenant.headers), 422, "id.0")
    many = [("id", str(uuid.uuid4())) for _ in range(101)]
    assert_problem(await client.get("/v1/lots", params=many, headers=tenant.headers), 422, "id")


async def test_the_holds_of_several_lots_in_one_request(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    await raise_alarm_and_hold(services, tenant.id, w)
    r = await client.post(
        "/v1/holds", json={"lot_id": w["lot"]["id"], "reason": "seals"}, headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    every = (await client.get("/v1/holds", headers=tenant.headers)).json()["items"]
    assert len(every) == 2
    lots = [h["lot_id"] for h in every] + [str(uuid.uuid4())]
    r = await client.get("/v1/holds", params=[("lot_id", x) for x in lots], headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert sorted(h["lot_id"] for h in r.json()["items"]) == sorted(lots[:2])
    one = await client.get("/v1/holds", params={"lot_id": w["lot"]["id"]}, headers=tenant.headers)
    assert [h["lot_id"] for h in one.json()["items"]] == [w["lot"]["id"]]
    none = await client.get("/v1/holds", params={"lot_id": lots[2]}, headers=tenant.headers)
    assert none.json()["items"] == []
