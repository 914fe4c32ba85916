"""The console's pages: served from package data, with the headers a page needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib import resources

import httpx
import pytest

from supplyline.bootstrap import Services
from supplyline.console import create_console_app
from supplyline.console.pages import CSP
from tests.conftest import TenantCtx
from tests.console.conftest import STATIC, need


@pytest.fixture
async def console(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_console_app(services, run_consumers=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


async def test_pages_forbid_inline_script_framing_and_caching(console: httpx.AsyncClient) -> None:
    need("The built console", STATIC / "app" / "login.html", "console")
    r = await console.get("/console/login")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert csp == CSP and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["cache-control"] == "no-store"
    assert "<script>" not in r.text and " style=" not in r.text  # nothing inline the CSP refuses
    # Without a session the console is the login page.
    r = await console.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    assert r.headers["cache-control"] == "no-store"


async def test_static_files_come_from_the_package(console: httpx.AsyncClient) -> None:
    need("The built console", STATIC / "app" / "login.html", "console")
    shipped = resources.files("supplyline.console").joinpath("static", "app", "login.js").read_text()
    r = await console.get("/console/static/app/login.js")
    assert r.status_code == 200 and r.text == shipped
    assert r.headers["content-security-policy"] == CSP and r.headers["cache-control"] == "no-cache"
    assert (await console.get("/console/static/vendor/uplot/uPlot.esm.js")).status_code == 200
    assert (await console.get("/console/static/../pages.py")).status_code == 404


async def test_views_need_a_session_and_come_back_after_the_login(
    console: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    need("The built console", STATIC / "app" / "login.html", "console")
    r = await console.get("/console/alarms?status=active_unack")
    assert r.status_code == 303
    assert r.headers["location"] == "/console/login?next=%2Fconsole%2Falarms%3Fstatus%3Dactive_unack"
    assert (await console.get("/console/no-such-view")).status_code == 404
    assert (await console.get("/console/..%2Fpages.py")).status_code == 404
    login = await console.get("/console/login")
    assert login.status_code == 200 and 'id="login-form"' in login.text


async def test_pages_stay_out_of_the_api_document(console: httpx.AsyncClient) -> None:
    paths = (await console.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if not p.startswith("/v1/") and p not in ("/healthz", "/readyz", "/metrics")]
    assert "/v1/stream" in paths
    assert "text/event-stream" in paths["/v1/stream"]["get"]["responses"]["200"]["content"]
