"""Each write through the API leaves exactly one audit entry, committed with the write."""

from __future__ import annotations

import uuid

import httpx

from supplyline.bootstrap import Services
from tests.api.samples import assert_problem, raise_alarm_and_hold
from tests.audit.conftest import bearer, entries, issue
from tests.conftest import PLATFORM_HEADERS, TenantCtx
from tests.factories import world

SITE = {"code": "S1", "name": "Site 1", "kind": "store"}


async def test_create_patch_and_archive_each_leave_one_entry_with_before_and_after(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    r = await client.post("/v1/sites", json=SITE, headers={**tenant.headers, "X-Correlation-ID": "req-7"})
    site = r.json()
    [created] = await entries(services, tenant.id)
    assert created["action"] == "sites.create" and created["outcome"] == "ok"
    assert created["subject"] == f"sites/{site['id']}"
    assert created["before"] is None and created["after"] == site
    assert created["actor"].startswith("api-key:") and created["actor"].endswith("(first admin key)")
    assert created["principal_id"] == created["actor"][8:44]
    assert (created["method"], created["path"]) == ("POST", "/v1/sites")
    assert created["request_id"] == r.headers["x-request-id"]
    assert created["correlation_id"] == "req-7" == r.headers["x-correlation-id"]

    # The URL may spell the id in upper case: the entry still finds the record's former state.
    r = await client.patch(
        f"/v1/sites/{site['id'].upper()}", json={"name": "Site One"}, headers=tenant.headers
    )
    patched = r.json()
    assert r.status_code == 200 and patched["version"] == 2
    updated = (await entries(services, tenant.id))[1:]
    assert [(e["action"], e["subject"]) for e in updated] == [("sites.update", f"sites/{site['id']}")]
    assert updated[0]["before"] == site and updated[0]["after"] == patched

    r = await client.post(f"/v1/sites/{site['id']}/archive", headers=tenant.headers)
    archived = (await entries(services, tenant.id))[2:]
    assert [e["action"] for e in archived] == ["sites.archive"]
    assert archived[0]["before"] == patched and archived[0]["after"] == r.json()
    assert archived[0]["after"]["archived_at"] is not None

    # Answered 200 without a change is still a write request: one entry, before == after.
    await client.post(f"/v1/sites/{site['id']}/archive", headers=tenant.headers)
    again = (await entries(services, tenant.id))[3:]
    assert [e["action"] for e in again] == ["sites.archive"] and again[0]["before"] == again[0]["after"]


async def test_a_refused_write_leaves_no_entry(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    site = (await client.post("/v1/sites", json=SITE, headers=tenant.headers)).json()
    assert_problem(
        await client.post("/v1/sites", json={**SITE, "kind": "castle"}, headers=tenant.headers), 422
    )
    assert_problem(await client.post("/v1/sites", json=SITE, headers=tenant.headers), 409)
    r = await client.patch(
        f"/v1/sites/{site['id']}", json={"name": "X"}, headers={**tenant.headers, "If-Match": '"9"'}
    )
    assert_problem(r, 412)
    assert [e["action"] for e in await entries(services, tenant.id)] == ["sites.create"]


async def test_an_idempotent_replay_leaves_no_second_entry(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    h = {**tenant.headers, "Idempotency-Key": "create-once"}
    first = await client.post("/v1/sites", json=SITE, headers=h)
    again = await client.post("/v1/sites", json=SITE, headers=h)
    assert again.headers["idempotent-replayed"] == "true"
    # PATCH takes an Idempotency-Key too, now that it runs through the same write path.
    hp = {**tenant.headers, "Idempotency-Key": "rename-once"}
    for _ in range(2):
        r = await client.patch(f"/v1/sites/{first.json()['id']}", json={"name": "Renamed"}, headers=hp)
        assert r.status_code == 200 and r.json()["version"] == 2
    assert r.headers["idempotent-replayed"] == "true"
    assert [e["action"] for e in await entries(services, tenant.id)] == ["sites.create", "sites.update"]


async def test_operations_on_alarms_and_holds_are_recorded(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    await raise_alarm_and_hold(services, tenant.id, w)
    alarm_id, hold_id = w["alarm"]["id"], w["hold"]["id"]
    seen = len(await entries(services, tenant.id))

    r = await client.post(f"/v1/alarms/{alarm_id}/acknowledge", headers=tenant.headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/alarms/{alarm_id}/comments", json={"text": "on it"}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    operator = bearer((await issue(client, tenant, "operator"))["token"])
    release = {"reason": "probe within range"}
    assert_problem(await client.post(f"/v1/holds/{hold_id}/release", json=release, headers=operator), 403)
    r = await client.post(f"/v1/holds/{hold_id}/release", json=release, headers=tenant.headers)
    assert r.status_code == 200, r.text

    made = (await entries(services, tenant.id))[seen:]
    assert [(e["action"], e["subject"], e["outcome"]) for e in made] == [
        ("alarms.acknowledge", f"alarms/{alarm_id}", "ok"),
        ("alarms.comment", f"alarms/{alarm_id}", "ok"),
        ("api_keys.create", made[2]["subject"], "ok"),
        ("auth.denied", f"holds/{hold_id}", "denied"),
        ("holds.release", f"holds/{hold_id}", "ok"),
    ]
    assert made[0]["after"]["status"] == "active_ack"
    assert made[1]["after"]["text"] == "on it"
    assert "holds:approve" in made[3]["reason"] and made[3]["actor"].endswith("(operator key)")


async def test_issued_secrets_never_reach_the_trail(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    key = await issue(client, tenant, "operator", "ci robot")
    [issued] = await entries(services, tenant.id, action="api_keys.create")
    assert issued["subject"] == f"api-keys/{key['id']}"
    assert "token" not in issued["after"] and issued["after"]["prefix"] == key["prefix"]
    assert key["token"] not in issued["raw"]

    w = await world(client, tenant.headers)
    r = await client.post(f"/v1/devices/{w['tracker']['id']}/credentials", headers=tenant.headers)
    assert r.status_code == 201, r.text
    [cred] = await entries(services, tenant.id, action="devices.credentials.issue")
    assert cred["subject"] == f"devices/{w['tracker']['id']}"
    assert r.json()["token"] not in cred["raw"] and r.json()["secret"] not in cred["raw"]

    # A platform admin's new tenant: filed in that tenant's trail, without its admin key's token.
    r = await client.post(
        "/v1/tenants", json={"slug": "initech", "name": "Initech"}, headers=PLATFORM_HEADERS
    )
    new = r.json()
    [made] = await entries(services, uuid.UUID(new["tenant"]["id"]))
    assert (made["action"], made["subject"], made["actor"]) == (
        "tenants.create",
        f"tenants/{new['tenant']['id']}",
        "platform-admin",
    )
    assert new["admin_key"]["token"] not in made["raw"] and "token" not in made["after"]["admin_key"]
