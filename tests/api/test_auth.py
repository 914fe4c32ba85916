"""API keys: who may do what, revocation and expiry; tenants made by the platform admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.samples import assert_problem
from tests.conftest import PLATFORM_HEADERS, TenantCtx

SITE = {"code": "S1", "name": "Site 1", "kind": "store"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def issue(client: httpx.AsyncClient, admin: TenantCtx, role: str, **extra: Any) -> dict[str, Any]:
    r = await client.post(
        "/v1/api-keys", json={"name": f"{role} key", "role": role, **extra}, headers=admin.headers
    )
    assert r.status_code == 201, r.text
    key: dict[str, Any] = r.json()
    return key


async def test_missing_and_bad_credentials(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    for headers, reason in [
        ({}, "send an API key"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "send an API key"),
        (bearer("not-a-key"), "malformed"),
        (bearer("sl_000000000000_" + "A" * 43), "unknown API key"),
        (bearer(tenant.token[:-1] + ("B" if tenant.token[-1] != "B" else "C")), "unknown API key"),
        ({"X-API-Key": "sl_nope"}, "malformed"),
    ]:
        r = await client.get("/v1/sites", headers=headers)
        body = assert_problem(r, 401)
        assert reason in body["detail"], body
        assert r.headers["www-authenticate"].startswith("Bearer")
    r = await client.post("/v1/sites", json=SITE)
    assert_problem(r, 401)
    assert (await client.get("/v1/sites", headers={"X-API-Key": tenant.token})).status_code == 200


async def test_roles(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    viewer = bearer((await issue(client, tenant, "viewer"))["token"])
    operator = bearer((await issue(client, tenant, "operator"))["token"])
    site = (await client.post("/v1/sites", json=SITE, headers=operator)).json()
    assert (await client.get(f"/v1/sites/{site['id']}", headers=viewer)).status_code == 200
    for method, path, body in [
        ("POST", "/v1/sites", {**SITE, "code": "S2"}),
        ("PATCH", f"/v1/sites/{site['id']}", {"name": "x"}),
        ("POST", f"/v1/sites/{site['id']}/archive", None),
        ("POST", "/v1/api-keys", {"name": "k", "role": "viewer"}),
        ("GET", "/v1/api-keys", None),
    ]:
        r = await client.request(method, path, json=body, headers=viewer)
        assert_problem(r, 403)
    # Refused before the body is read: a viewer learns nothing about what would be valid.
    assert_problem(await client.post("/v1/sites", json={"bogus": 1}, headers=viewer), 403)
    assert_problem(
        await client.post("/v1/api-keys", json={"name": "k", "role": "admin"}, headers=operator), 403
    )
    assert (await client.get(f"/v1/sites/{site['id']}", headers=viewer)).json()["version"] == 1
    r = await client.post(
        "/v1/api-keys", json={"name": "k", "role": "platform_admin"}, headers=tenant.headers
    )
    assert_problem(r, 422, "role")
    r = await client.post(
        "/v1/api-keys", json={"name": "k", "role": "viewer", "extra": 1}, headers=tenant.headers
    )
    assert_problem(r, 422, "extra")


async def test_keys_are_listed_without_secrets(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    key = await issue(client, tenant, "viewer")
    assert key["token"].startswith(f"sl_{key['prefix']}_") and key["role"] == "viewer"
    r = await client.get("/v1/api-keys", headers=tenant.headers)
    listed = {k["id"]: k for k in r.json()}
    assert key["id"] in listed and len(listed) == 2
    assert key["token"] not in r.text and tenant.token not in r.text
    assert "token" not in listed[key["id"]] and "secret_hash" not in listed[key["id"]]


async def test_revocation_is_immediate(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    key = await issue(client, tenant, "operator")
    h = bearer(key["token"])
    assert (await client.get("/v1/sites", headers=h)).status_code == 200
    r = await client.post(f"/v1/api-keys/{key['id']}/revoke", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    body = assert_problem(await client.get("/v1/sites", headers=h), 401)
    assert "revoked" in body["detail"]
    assert_problem(await client.post("/v1/sites", json=SITE, headers=h), 401)
    # Revoking the key you are holding is allowed, and locks you out at once.
    keys = (await client.get("/v1/api-keys", headers=tenant.headers)).json()
    own = next(k for k in keys if k["role"] == "tenant_admin")
    assert (await client.post(f"/v1/api-keys/{own['id']}/revoke", headers=tenant.headers)).status_code == 200
    assert_problem(await client.get("/v1/sites", headers=tenant.headers), 401)


async def test_expiry_is_honoured(
    client: httpx.AsyncClient, tenant: TenantCtx, monkeypatch: pytest.MonkeyPatch
) -> None:
    expires = datetime.now(UTC) + timedelta(hours=1)
    key = await issue(client, tenant, "viewer", expires_at=expires.isoformat())
    h = bearer(key["token"])
    assert (await client.get("/v1/sites", headers=h)).status_code == 200
    naive = {"name": "k", "role": "viewer", "expires_at": "2030-01-01T00:00:00"}
    r = await client.post("/v1/api-keys", json=naive, headers=tenant.headers)
    assert_problem(r, 422, "expires_at")
    monkeypatch.setattr("supplyline.access.auth.utcnow", lambda: expires + timedelta(seconds=1))
    body = assert_problem(await client.get("/v1/sites", headers=h), 401)
    assert "expired" in body["detail"]
    assert (await client.get("/v1/sites", headers=tenant.headers)).status_code == 200


async def test_platform_admin_creates_tenants(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    r = await client.post(
        "/v1/tenants", json={"slug": "initech", "name": "Initech"}, headers=PLATFORM_HEADERS
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["tenant"]["slug"] == "initech" and created["admin_key"]["role"] == "tenant_admin"
    h = bearer(created["admin_key"]["token"])
    assert (await client.get("/v1/sites", headers=h)).json()["items"] == []
    assert (await client.post("/v1/sites", json=SITE, headers=h)).status_code == 201
    listed = (await client.get("/v1/tenants", headers=PLATFORM_HEADERS)).json()
    assert {t["slug"] for t in listed} == {"acme", "initech"}

    r = await client.post("/v1/tenants", json={"slug": "initech", "name": "Again"}, headers=PLATFORM_HEADERS)
    assert_problem(r, 409, "slug")
    r = await client.post("/v1/tenants", json={"slug": "Bad Slug", "name": "x"}, headers=PLATFORM_HEADERS)
    assert_problem(r, 422, "slug")
    # Tenant keys cannot manage tenants; the platform admin holds no tenant's data.
    for headers in (tenant.headers, h):
        assert_problem(await client.get("/v1/tenants", headers=headers), 403)
        r = await client.post("/v1/tenants", json={"slug": "evil", "name": "Evil"}, headers=headers)
        assert_problem(r, 403)
    for method, path in [
        ("GET", "/v1/sites"),
        ("POST", "/v1/sites"),
        ("GET", "/v1/events"),
        ("GET", "/v1/api-keys"),
    ]:
        r = await client.request(
            method, path, json=SITE if method == "POST" else None, headers=PLATFORM_HEADERS
        )
        assert_problem(r, 403)
    assert_problem(await client.get("/v1/tenants", headers=bearer("platform-secreT")), 401)
