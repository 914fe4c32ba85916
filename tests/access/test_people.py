"""Users, sessions, custom roles and grants: expiry ends access at the time, revocation at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.samples import assert_problem
from tests.conftest import TenantCtx
from tests.factories import post

PASSWORD = "a long enough secret"


async def _person(client: httpx.AsyncClient, tenant: TenantCtx, email: str, **extra: Any) -> dict[str, Any]:
    return await post(client, tenant.headers, "users", {"email": email, "password": PASSWORD, **extra})


async def _login(
    client: httpx.AsyncClient, tenant: TenantCtx, email: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post(
        "/v1/auth/login", json={"tenant": tenant.slug, "email": email, "password": password}
    )


def _bearer(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def test_login_and_the_grants_a_session_carries(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    user = await _person(client, tenant, "Planner@Example.com", name="Pat")
    assert user["email"] == "planner@example.com" and "password" not in str(user)
    h = _bearer(await _login(client, tenant, "planner@example.com"))
    # No grant yet: the session authenticates but may read nothing.
    assert (await client.get("/v1/auth/me", headers=h)).json()["grants"] == []
    assert_problem(await client.get("/v1/orders", headers=h), 403)
    await post(client, tenant.headers, "role-assignments", {"role": "planner", "user_id": user["id"]})
    assert (await client.get("/v1/orders", headers=h)).status_code == 200
    assert_problem(await client.post("/v1/api-keys", json={"name": "x", "role": "viewer"}, headers=h), 403)
    # One answer for every wrong case: a login does not tell which users exist.
    wrong = await _login(client, tenant, "planner@example.com", "not the password")
    nobody = await _login(client, tenant, "nobody@example.com")
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json()["detail"] == nobody.json()["detail"]
    r = await client.post(
        "/v1/users", json={"email": "short@example.com", "password": "short"}, headers=tenant.headers
    )
    assert_problem(r, 422, "password")
    r = await client.post(
        "/v1/users", json={"email": "not-an-email", "password": PASSWORD}, headers=tenant.headers
    )
    assert_problem(r, 422, "email")


async def test_sessions_end_at_once(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    user = await _person(client, tenant, "ops@example.com")
    await post(client, tenant.headers, "role-assignments", {"role": "site_operator", "user_id": user["id"]})
    first, second = (
        _bearer(await _login(client, tenant, "ops@example.com")),
        _bearer(await _login(client, tenant, "ops@example.com")),
    )
    assert (await client.get("/v1/sites", headers=first)).status_code == 200
    assert (await client.post("/v1/auth/logout", headers=first)).status_code == 204
    assert_problem(await client.get("/v1/sites", headers=first), 401)
    assert (await client.get("/v1/sites", headers=second)).status_code == 200
    r = await client.post(
        f"/v1/users/{user['id']}/revoke-sessions", json={"reason": "laptop lost"}, headers=tenant.headers
    )
    assert r.status_code == 200 and r.json()["sessions_ended"] == 1
    assert_problem(await client.get("/v1/sites", headers=second), 401)
    third = _bearer(await _login(client, tenant, "ops@example.com"))
    r = await client.patch(f"/v1/users/{user['id']}", json={"disabled": True}, headers=tenant.headers)
    assert r.status_code == 200 and r.json()["disabled_at"] is not None
    assert_problem(await client.get("/v1/sites", headers=third), 401)
    assert (await _login(client, tenant, "ops@example.com")).status_code == 401


async def test_a_grant_ends_at_its_expiry(
    client: httpx.AsyncClient, tenant: TenantCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await _person(client, tenant, "temp@example.com")
    expires = datetime.now(UTC) + timedelta(hours=1)
    body = {"role": "planner", "user_id": user["id"], "expires_at": expires.isoformat()}
    grant = await post(client, tenant.headers, "role-assignments", body)
    h = _bearer(await _login(client, tenant, "temp@example.com"))
    assert (await client.get("/v1/orders", headers=h)).status_code == 200
    monkeypatch.setattr("supplyline.access.auth.utcnow", lambda: expires - timedelta(seconds=1))
    assert (await client.get("/v1/orders", headers=h)).status_code == 200
    monkeypatch.setattr("supplyline.access.auth.utcnow", lambda: expires)
    assert_problem(await client.get("/v1/orders", headers=h), 403)
    monkeypatch.undo()
    r = await client.post(f"/v1/role-assignments/{grant['id']}/revoke", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    body = {"role": "planner", "user_id": user["id"], "expires_at": "2000-01-01T00:00:00Z"}
    assert_problem(
        await client.post("/v1/role-assignments", json=body, headers=tenant.headers), 422, "expires_at"
    )


async def test_revoking_a_grant_is_immediate(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    key = await post(client, tenant.headers, "api-keys", {"name": "robot", "role": "viewer"})
    h = {"Authorization": f"Bearer {key['token']}"}
    extra = await post(
        client, tenant.headers, "role-assignments", {"role": "planner", "api_key_id": key["id"]}
    )
    assert (await client.get("/v1/sites", headers=h)).status_code == 200
    assert (
        await client.post(f"/v1/role-assignments/{extra['id']}/revoke", headers=tenant.headers)
    ).status_code == 200
    assert (await client.get("/v1/sites", headers=h)).status_code == 200  # its own role stays


async def test_custom_roles_and_their_vocabulary(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    r = await client.put(
        "/v1/roles/qa-inspector",
        json={"name": "QA inspector", "permissions": ["lots:read", "holds:read", "holds:approve", "*:read"]},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    for perms, field in (
        (["lots:fly"], "permissions[0]"),
        (["nothing:read"], "permissions[0]"),
        (["lots"], "permissions[0]"),
    ):
        bad = await client.put(
            "/v1/roles/bad", json={"name": "Bad", "permissions": perms}, headers=tenant.headers
        )
        assert_problem(bad, 422, field)
    assert_problem(
        await client.put(
            "/v1/roles/planner", json={"name": "x", "permissions": ["lots:read"]}, headers=tenant.headers
        ),
        422,
        "code",
    )
    user = await _person(client, tenant, "qa@example.com")
    await post(client, tenant.headers, "role-assignments", {"role": "qa-inspector", "user_id": user["id"]})
    h = _bearer(await _login(client, tenant, "qa@example.com"))
    assert (await client.get("/v1/holds", headers=h)).status_code == 200
    # "*:read" does not open the sensitive resources: the audit trail, access, prices.
    assert_problem(await client.get("/v1/users", headers=h), 403)
    roles = {r["code"]: r for r in (await client.get("/v1/roles", headers=tenant.headers)).json()["items"]}
    assert "qa-inspector" in roles and roles["tenant_admin"]["built_in"]
    body = {"role": "no-such-role", "user_id": user["id"]}
    assert_problem(await client.post("/v1/role-assignments", json=body, headers=tenant.headers), 422, "role")


async def test_a_partners_people_reach_only_its_relationships(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    carrier = await post(
        client, tenant.headers, "organizations", {"code": "C9", "name": "C9", "kind": "carrier"}
    )
    other = await post(
        client, tenant.headers, "organizations", {"code": "C8", "name": "C8", "kind": "carrier"}
    )
    user = await _person(client, tenant, "driver@example.com", organization_id=carrier["id"])
    wide = {"role": "tenant_admin", "user_id": user["id"]}
    assert_problem(
        await client.post("/v1/role-assignments", json=wide, headers=tenant.headers), 422, "organization_id"
    )
    elsewhere = {"role": "partner_viewer", "user_id": user["id"], "organization_id": other["id"]}
    assert_problem(
        await client.post("/v1/role-assignments", json=elsewhere, headers=tenant.headers),
        422,
        "organization_id",
    )
    own = {"role": "partner_viewer", "user_id": user["id"], "organization_id": carrier["id"]}
    await post(client, tenant.headers, "role-assignments", own)
    h = _bearer(await _login(client, tenant, "driver@example.com"))
    me = (await client.get("/v1/auth/me", headers=h)).json()
    assert me["grants"][0]["reach"] == {
        "kind": "organization",
        "site_ids": [],
        "organization_id": carrier["id"],
        "organization_kind": "carrier",
    }
    # Archiving the organisation ends its people's access.
    await client.post(f"/v1/organizations/{carrier['id']}/archive", headers=tenant.headers)
    assert (await client.get("/v1/auth/me", headers=h)).json()["grants"] == []


async def test_a_partner_key_stops_reaching_anything_once_its_organisation_is_archived(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    """The organisation's kind is read with the key (one statement): archiving still ends it."""
    carrier = await post(
        client, tenant.headers, "organizations", {"code": "C9", "name": "C9", "kind": "carrier"}
    )
    body = {"name": "c9", "role": "partner_viewer", "organization_id": carrier["id"]}
    h = {"Authorization": f"Bearer {(await post(client, tenant.headers, 'api-keys', body))['token']}"}
    me = (await client.get("/v1/auth/me", headers=h)).json()
    assert [g["reach"]["organization_kind"] for g in me["grants"]] == ["carrier"]
    assert (await client.get("/v1/shipments", headers=h)).status_code == 200
    await client.post(f"/v1/organizations/{carrier['id']}/archive", headers=tenant.headers)
    assert (await client.get("/v1/auth/me", headers=h)).json()["grants"] == []
    assert_problem(await client.get("/v1/shipments", headers=h), 403)
