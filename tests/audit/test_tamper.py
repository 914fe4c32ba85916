"""Entries are chained like the traceability checkpoints: verify reports one edited or deleted."""

from __future__ import annotations

from typing import Any

import httpx

from supplyline.bootstrap import Services
from supplyline.trace import CONSUMER_NAME
from tests.audit.conftest import entries
from tests.conftest import TenantCtx
from tests.trace.conftest import checkpoints, delete_checkpoint, delete_event, set_event


async def _recorded_history(client: httpx.AsyncClient, services: Services, tenant: TenantCtx) -> list[Any]:
    for i in range(3):
        body = {"code": f"S{i}", "name": f"Site {i}", "kind": "store"}
        assert (await client.post("/v1/sites", json=body, headers=tenant.headers)).status_code == 201
    await services.consumers.catch_up(CONSUMER_NAME)
    made = await entries(services, tenant.id)
    cps = await checkpoints(services, tenant.id)
    assert [c["event_id"] for c in cps] == [e["id"] for e in made] and len(made) == 3
    return made


async def _verify(client: httpx.AsyncClient, tenant: TenantCtx) -> dict[str, Any]:
    r = await client.get("/v1/ledger/verify", headers=tenant.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_an_edited_entry_is_reported(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    made = await _recorded_history(client, services, tenant)
    assert (await _verify(client, tenant))["ok"] is True
    forged = {**made[1], "after": {**made[1]["after"], "name": "Nothing to see"}}
    data = {
        k: forged[k]
        for k in made[1]
        if k not in ("id", "tenant_id", "actor", "subject", "correlation_id", "raw")
    }
    await set_event(services, made[1]["id"], data=data)
    body = await _verify(client, tenant)
    assert body["ok"] is False
    assert [(p["seq"], p["kind"]) for p in body["problems"]] == [(2, "changed")]

    await set_event(services, made[2]["id"], actor="someone else")
    kinds = [(p["seq"], p["kind"]) for p in (await _verify(client, tenant))["problems"]]
    assert kinds == [(2, "changed"), (3, "changed")]


async def test_a_deleted_entry_is_reported(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    made = await _recorded_history(client, services, tenant)
    await delete_event(services, made[0]["id"])
    body = await _verify(client, tenant)
    assert body["ok"] is False
    assert [(p["seq"], p["kind"]) for p in body["problems"]] == [(1, "event_missing")]
    assert str(made[0]["id"]) in body["problems"][0]["message"]

    # Deleting the checkpoint with its entry breaks the chain instead.
    await delete_event(services, made[1]["id"])
    await delete_checkpoint(services, tenant.id, 2)
    problems = [(p["seq"], p["kind"]) for p in (await _verify(client, tenant))["problems"]]
    assert problems == [(1, "event_missing"), (2, "removed")]
