"""GET /v1/ledger/checkpoints and /v1/ledger/verify: the caller's tenant only."""

from __future__ import annotations

import httpx

from supplyline.bootstrap import Services
from tests.conftest import TenantCtx
from tests.trace.conftest import checkpoints, delete_checkpoint, delete_event, record


async def test_checkpoints_page_through_the_callers_chain(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    await record(services, tenant, 3)
    first = await client.get("/v1/ledger/checkpoints", params={"limit": 2}, headers=tenant.headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert [c["seq"] for c in body["items"]] == [1, 2]
    assert body["items"][1]["prev_hash"] == body["items"][0]["hash"]
    assert body["items"][0]["tenant_id"] == str(tenant.id)
    assert body["items"][0]["event_type"] == "supplyline.rule.condition_raised.v1"
    rest = await client.get(
        "/v1/ledger/checkpoints", params={"cursor": body["next_cursor"]}, headers=tenant.headers
    )
    assert [c["seq"] for c in rest.json()["items"]] == [3]
    assert rest.json()["next_cursor"] is None
    after = await client.get("/v1/ledger/checkpoints", params={"after": 2}, headers=tenant.headers)
    assert [c["seq"] for c in after.json()["items"]] == [3]

    theirs = await client.get("/v1/ledger/checkpoints", headers=other_tenant.headers)
    assert theirs.json() == {"items": [], "next_cursor": None}
    assert str(tenant.id) not in theirs.text

    bad = await client.get("/v1/ledger/checkpoints", params={"cursor": "nonsense"}, headers=tenant.headers)
    assert bad.status_code == 422
    assert (await client.get("/v1/ledger/checkpoints")).status_code == 401


async def test_verify_reports_on_the_callers_tenant_only(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    await record(services, tenant, 3)
    await record(services, other_tenant, 1)
    r = await client.get("/v1/ledger/verify", headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "checked": 3, "tenants": 1, "problems": []}

    cps = await checkpoints(services, tenant.id)
    await delete_event(services, cps[1]["event_id"])
    # The recorder runs in these services: deleting the newest checkpoint is noticed too.
    await delete_checkpoint(services, tenant.id, 3)
    body = (await client.get("/v1/ledger/verify", headers=tenant.headers)).json()
    assert body["ok"] is False
    assert [(p["seq"], p["kind"]) for p in body["problems"]] == [(2, "event_missing"), (None, "removed")]
    assert {p["tenant_id"] for p in body["problems"]} == {str(tenant.id)}

    theirs = await client.get("/v1/ledger/verify", headers=other_tenant.headers)
    assert theirs.json() == {"ok": True, "checked": 1, "tenants": 1, "problems": []}
    assert str(tenant.id) not in theirs.text
    assert (await client.get("/v1/ledger/verify")).status_code == 401


async def test_checkpoints_of_some_subjects_only(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    await record(services, tenant, 4)
    every = (await client.get("/v1/ledger/checkpoints", headers=tenant.headers)).json()["items"]
    subjects = sorted({c["subject"] for c in every})
    assert len(subjects) >= 2
    wanted = subjects[0]
    r = await client.get("/v1/ledger/checkpoints", params={"subject": wanted}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert [c["seq"] for c in r.json()["items"]] == [c["seq"] for c in every if c["subject"] == wanted]
    both = await client.get("/v1/ledger/checkpoints", params={"subject": subjects}, headers=tenant.headers)
    assert [c["seq"] for c in both.json()["items"]] == [c["seq"] for c in every]
    none = await client.get(
        "/v1/ledger/checkpoints", params={"subject": "shipments/x"}, headers=tenant.headers
    )
    assert none.json() == {"items": [], "next_cursor": None}
    many = await client.get(
        "/v1/ledger/checkpoints", params={"subject": [f"lots/{i}" for i in range(51)]}, headers=tenant.headers
    )
    assert many.status_code == 422 and many.json()["errors"][0]["field"] == "subject"
