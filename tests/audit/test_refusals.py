"""A 401 or a 403 leaves one entry, in a transaction of its own, naming the key tried but no secret."""

from __future__ import annotations

import httpx

from supplyline.bootstrap import Services
from tests.api.samples import assert_problem
from tests.audit.conftest import bearer, entries, issue
from tests.conftest import TenantCtx

SITE = {"code": "S1", "name": "Site 1", "kind": "store"}


async def test_an_unknown_caller_is_recorded_without_a_tenant(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    assert_problem(await client.get("/v1/sites", params={"limit": 5}), 401)
    [entry] = await entries(services)
    assert entry["tenant_id"] is None and entry["actor"] == "anonymous"
    assert (entry["action"], entry["outcome"], entry["subject"]) == (
        "auth.unauthenticated",
        "denied",
        "sites",
    )
    assert (entry["method"], entry["path"]) == ("GET", "/v1/sites?limit=5")
    assert "send an API key" in entry["reason"] and entry["key_prefix"] is None

    fake = "sl_000000000000_" + "A" * 43
    assert_problem(await client.get("/v1/sites", headers=bearer(fake)), 401)
    entry = (await entries(services))[-1]
    assert entry["tenant_id"] is None and entry["key_prefix"] == "000000000000"
    assert fake not in entry["raw"] and "A" * 43 not in entry["raw"]
    assert await entries(services, tenant.id) == []


async def test_a_known_key_refused_is_recorded_in_its_tenant(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    wrong = tenant.token[:-1] + ("B" if tenant.token[-1] != "B" else "C")
    assert_problem(await client.get("/v1/sites", headers=bearer(wrong)), 401)
    key = await issue(client, tenant, "viewer", "old key")
    r = await client.post(f"/v1/api-keys/{key['id']}/revoke", headers=tenant.headers)
    assert r.status_code == 200
    assert_problem(await client.get("/v1/sites", headers=bearer(key["token"])), 401)

    made = await entries(services, tenant.id)
    assert [e["action"] for e in made] == [
        "auth.unauthenticated",
        "api_keys.create",
        "api_keys.revoke",
        "auth.unauthenticated",
    ]
    wrong_secret, revoked = made[0], made[3]
    assert wrong_secret["reason"] == "unknown API key" and wrong_secret["actor"].endswith("(first admin key)")
    assert wrong_secret["key_prefix"] == tenant.token.split("_")[1]
    secret = tenant.token.split("_", 2)[2]  # urlsafe base64: it may hold "_" itself
    assert secret not in wrong_secret["raw"] and wrong not in wrong_secret["raw"]
    assert revoked["reason"] == "API key revoked" and revoked["principal_id"] == key["id"]
    assert revoked["subject"] == "sites" and revoked["key_prefix"] == key["prefix"]


async def test_a_forbidden_request_leaves_one_entry_and_no_change(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    viewer = bearer((await issue(client, tenant, "viewer"))["token"])
    assert_problem(await client.post("/v1/sites", json=SITE, headers=viewer), 403)
    made = (await entries(services, tenant.id))[1:]
    assert [(e["action"], e["outcome"], e["subject"]) for e in made] == [("auth.denied", "denied", "sites")]
    assert made[0]["actor"].endswith("(viewer key)") and "'sites:write' is not granted" in made[0]["reason"]
    assert (await client.get("/v1/sites", headers=tenant.headers)).json()["items"] == []
