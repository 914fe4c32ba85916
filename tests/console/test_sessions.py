"""Console sessions: cookies set at login, CSRF on every change, logout and ended sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from supplyline.bootstrap import Services
from supplyline.console import create_console_app
from tests.api.samples import assert_problem
from tests.conftest import TenantCtx
from tests.factories import post, world

PASSWORD = "correct horse battery"
SITE = {"code": "S9", "name": "Site 9", "kind": "store"}


@pytest.fixture
async def console(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_console_app(services, run_consumers=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


async def person(
    c: httpx.AsyncClient, tenant: TenantCtx, email: str, role: str = "site_operator", **grant: Any
) -> dict[str, Any]:
    body = {
        "email": email,
        "password": PASSWORD,
        **({"organization_id": grant["organization_id"]} if grant else {}),
    }
    user = await post(c, tenant.headers, "users", body)
    await post(c, tenant.headers, "role-assignments", {"role": role, "user_id": user["id"], **grant})
    return user


async def log_in(c: httpx.AsyncClient, tenant: TenantCtx, email: str) -> httpx.Response:
    form = {"tenant": tenant.slug, "email": email, "password": PASSWORD}
    r = await c.post("/console/login", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    return r


def cookie_line(r: httpx.Response, name: str) -> str:
    return next(line for line in r.headers.get_list("set-cookie") if line.startswith(f"{name}="))


async def test_login_sets_an_http_only_session_cookie_and_a_readable_csrf_cookie(
    console: httpx.AsyncClient, tenant: TenantCtx, services: Services
) -> None:
    await person(console, tenant, "ops@acme.example")
    r = await log_in(console, tenant, "ops@acme.example")
    session, csrf = cookie_line(r, "sl_session"), cookie_line(r, "sl_csrf")
    assert "HttpOnly" in session and "HttpOnly" not in csrf
    for line in (session, csrf):
        assert "SameSite=lax" in line and "Path=/" in line and "expires=" in line
        assert "Secure" not in line  # plain http
    assert console.cookies["sl_session"].startswith("sls_")
    page = await console.get("/")
    assert page.status_code == 200 and "<title>Alarms" in page.text
    assert console.cookies["sl_session"] not in page.text  # never readable by the page
    me = (await console.get("/v1/auth/me")).json()  # what the page asks to say who is logged in
    assert "ops@acme.example" in me["principal"]
    # Secure on https, and always when SUPPLYLINE_SECURE_COOKIES says so (behind a TLS proxy).
    form = {"tenant": tenant.slug, "email": "ops@acme.example", "password": PASSWORD}
    r = await console.post("https://test/console/login", data=form)
    assert "Secure" in cookie_line(r, "sl_session") and "Secure" in cookie_line(r, "sl_csrf")
    services.settings.secure_cookies = True
    assert "Secure" in cookie_line(await console.post("/console/login", data=form), "sl_session")


async def test_a_change_with_the_cookie_needs_the_csrf_header(
    console: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    await person(console, tenant, "ops@acme.example", role="operations_manager")
    await log_in(console, tenant, "ops@acme.example")
    assert (await console.get("/v1/sites")).status_code == 200  # a read needs no token
    assert_problem(await console.post("/v1/sites", json=SITE), 403, "X-CSRF-Token")
    wrong = {"X-CSRF-Token": "not-the-token"}
    assert_problem(await console.post("/v1/sites", json=SITE, headers=wrong), 403, "X-CSRF-Token")
    assert (await console.get("/v1/sites")).json()["items"] == []  # nothing half-written
    right = {"X-CSRF-Token": console.cookies["sl_csrf"]}
    created = await console.post("/v1/sites", json=SITE, headers=right)
    assert created.status_code == 201, created.text
    # Audited like any write, under the person.
    trail = (await console.get("/v1/audit", params={"action": "sites.create"}, headers=tenant.headers)).json()
    assert any("ops@acme.example" in e["actor"] for e in trail["items"]), trail
    # A bearer token needs no CSRF token, with or without the cookie beside it.
    r = await console.post("/v1/sites", json={**SITE, "code": "S10"}, headers=tenant.headers)
    assert r.status_code == 201, r.text


async def test_the_csrf_token_of_one_session_does_not_open_another(
    console: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    await person(console, tenant, "a@acme.example", role="operations_manager")
    await log_in(console, tenant, "a@acme.example")
    first = console.cookies["sl_csrf"]
    await log_in(console, tenant, "a@acme.example")  # a new session, a new token
    assert console.cookies["sl_csrf"] != first
    assert_problem(await console.post("/v1/sites", json=SITE, headers={"X-CSRF-Token": first}), 403)


async def test_logout_ends_the_session_and_clears_its_cookies(
    console: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    await person(console, tenant, "ops@acme.example")
    await log_in(console, tenant, "ops@acme.example")
    session, csrf = console.cookies["sl_session"], console.cookies["sl_csrf"]
    assert_problem(await console.post("/console/logout"), 403, "X-CSRF-Token")
    r = await console.post("/console/logout", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    assert 'sl_session=""' in cookie_line(r, "sl_session")
    assert "sl_session" not in console.cookies
    old = {"Cookie": f"sl_session={session}"}
    assert_problem(await console.get("/v1/auth/me", headers=old), 401)
    r = await console.get("/", headers=old)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    # /v1/auth/logout takes the cookie too, with the header.
    await log_in(console, tenant, "ops@acme.example")
    header = {"X-CSRF-Token": console.cookies["sl_csrf"]}
    assert (await console.post("/v1/auth/logout", headers=header)).status_code == 204
    assert_problem(await console.get("/v1/auth/me"), 401)


async def test_a_revoked_session_is_refused_and_the_console_goes_to_login(
    console: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    user = await person(console, tenant, "ops@acme.example")
    await log_in(console, tenant, "ops@acme.example")
    assert (await console.get("/v1/auth/me")).status_code == 200
    r = await console.post(f"/v1/users/{user['id']}/revoke-sessions", json={}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert_problem(await console.get("/v1/auth/me"), 401)
    r = await console.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/console/login"


async def test_a_cookie_holds_only_a_session(console: httpx.AsyncClient, tenant: TenantCtx) -> None:
    """An API key or the admin token in the cookie is refused: a cookie is a person's session."""
    for token in (tenant.token, "platform-secret"):
        assert_problem(await console.get("/v1/sites", headers={"Cookie": f"sl_session={token}"}), 401)


async def test_a_refused_login_says_so_without_a_session(
    console: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    await person(console, tenant, "ops@acme.example")
    form = {"tenant": tenant.slug, "email": "ops@acme.example", "password": "wrong"}
    r = await console.post("/console/login", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/console/login?error=1"
    assert "sl_session" not in console.cookies
    assert "Wrong tenant" in (await console.get("/console/login?error=1")).text
    r = await console.post("/console/login", json=form, headers={"Accept": "application/json"})
    assert_problem(r, 401)
    assert_problem(await console.post("/console/login", data={"tenant": tenant.slug}), 422, "email")
    ok = {**form, "password": PASSWORD}
    r = await console.post("/console/login", data=ok, headers={"Origin": "https://evil.example"})
    assert_problem(r, 403, "Origin")
    r = await console.post("/console/login", json=ok, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json()["user"]["email"] == "ops@acme.example"
    assert console.cookies["sl_session"].startswith("sls_")


async def test_a_carrier_person_sees_only_its_shipments_through_the_cookie(
    console: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    w = await world(console, tenant.headers)
    other = await post(
        console, tenant.headers, "organizations", {"code": "CAR2", "name": "Slow", "kind": "carrier"}
    )
    base = {"origin_site_id": w["dc"]["id"], "destination_site_id": w["store"]["id"]}
    mine = await post(
        console,
        tenant.headers,
        "shipments",
        {**base, "number": "SH-1", "carrier_organization_id": w["carrier"]["id"]},
    )
    await post(
        console,
        tenant.headers,
        "shipments",
        {**base, "number": "SH-2", "carrier_organization_id": other["id"]},
    )
    await person(console, tenant, "driver@car1.example", "partner_viewer", organization_id=w["carrier"]["id"])
    await log_in(console, tenant, "driver@car1.example")
    r = await console.get("/v1/shipments")
    assert r.status_code == 200, r.text
    assert [s["id"] for s in r.json()["items"]] == [mine["id"]]
    assert "Slow" not in r.text and "SH-2" not in r.text
