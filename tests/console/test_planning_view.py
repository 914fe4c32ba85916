"""The planning view in a real browser, on each backend: a planner sees the latest forecast
with its provenance and bands, the overrides with their reason codes beside it, and a
replenishment recommendation whose reasons name held stock once a lot is on hold."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from supplyline import access, logistics
from supplyline.bootstrap import Services
from supplyline.console import create_console_app
from supplyline.kernel.clock import utcnow
from supplyline.planning.tables import planning_demand
from tests.conftest import Backend, TenantCtx, make_services, new_tenant
from tests.console.conftest import STATIC, axe_violations, need, serving
from tests.factories import post, world

PASSWORD = "a long planner password"


@pytest.fixture
async def planned(
    backend: Backend, tmp_path: Path
) -> AsyncIterator[tuple[str, Services, TenantCtx, dict[str, Any]]]:
    """The console on a real port; a tenant with stock, sixty days of demand, a forecast run,
    one override, and a planner who may log in."""
    need("The built console", STATIC / "app" / "planning.html", "console")
    svc = make_services(backend, tmp_path, stream_max_s=5.0)
    acme = await new_tenant(svc, "acme")
    app = create_console_app(svc, run_consumers=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        w = await world(c, acme.headers)
        position = {"site_id": w["dc"]["id"], "product_id": w["product"]["id"], "lot_id": w["lot"]["id"]}
        await post(
            c,
            acme.headers,
            "inventory-positions",
            {**position, "on_hand": 120, "held": 0, "allocated": 0, "unit": "each"},
        )
        end = utcnow().date() - timedelta(days=1)
        rows = [
            {
                "tenant_id": acme.id,
                "product_id": uuid.UUID(w["product"]["id"]),
                "site_id": uuid.UUID(w["dc"]["id"]),
                "day": end - timedelta(days=i),
                "source": "events",
                "quantity": float(10 + (i % 7) * 3),
                "updated_at": utcnow(),
            }
            for i in range(60)
        ]
        async with svc.engine.begin() as conn:
            await conn.execute(planning_demand.insert(), rows)
        series = {"product_id": w["product"]["id"], "site_id": w["dc"]["id"]}
        w["run"] = await post(c, acme.headers, "forecasts/runs", series)
        today = utcnow().date()
        override = {
            **series,
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=6)).isoformat(),
            "kind": "percent",
            "value": 20,
            "reason_code": "promotion",
        }
        w["override"] = await post(c, acme.headers, "forecast-overrides", override)
    async with svc.uow() as uow:
        user = await access.create_user(uow, acme.scope, "plan@acme.test", "Paula Plan", PASSWORD)
        await access.assign_role(uow, acme.scope, access.AssignRole("planner", uuid.UUID(str(user["id"]))))
        await uow.commit()
    async with serving(app) as url:
        yield url, svc, acme, w
    await svc.close()


async def test_a_planner_sees_bands_provenance_overrides_and_a_recommendation_that_counts_a_hold(
    planned: tuple[str, Services, TenantCtx, dict[str, Any]], page: Page
) -> None:
    url, svc, acme, w = planned
    view = f"/console/planning?product={w['product']['id']}&site={w['dc']['id']}"
    await page.goto(url + view)  # no session: the login page, and back here after it
    await page.get_by_label("Tenant", exact=True).fill("acme")
    await page.get_by_label("E-mail", exact=True).fill("plan@acme.test")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_title("Planning · supplyline console")
    await expect(page.get_by_label("Product")).to_have_value(w["product"]["id"])

    run = w["run"]["run"]
    provenance = page.locator("#provenance")
    await expect(provenance).to_contain_text(run["model"])
    await expect(provenance).to_contain_text(run["input"]["fingerprint"][:16])
    await expect(provenance).to_contain_text("request")
    await expect(page.locator("#chart canvas")).to_have_count(1)
    await expect(page.locator("#chart")).to_have_attribute("role", "img")
    await expect(page.locator("#points tbody tr")).to_have_count(len(w["run"]["points"]))
    first = page.locator("#points tbody tr").first
    await expect(first).to_contain_text("promotion")  # the override applies to the first week
    await expect(page.get_by_role("row").filter(has_text="+20%")).to_contain_text("promotion")

    await page.get_by_role("button", name="Recommend").click()
    reasons = page.locator("#reasons")
    await expect(reasons).not_to_contain_text("held stock")
    await expect(page.locator("#stock")).to_contain_text("Sellable")
    assert await axe_violations(page) == []

    async with svc.uow() as uow:
        await logistics.hold_lot(
            uow, acme.id, logistics.HoldLot(uuid.UUID(w["lot"]["id"]), "temperature excursion", "rule")
        )
        await uow.commit()
    await page.get_by_role("button", name="Recommend").click()
    await expect(reasons.locator("li.held")).to_contain_text("held stock")
    await expect(page.locator("#stock")).to_contain_text("Held")
    if shots := os.environ.get("SUPPLYLINE_SCREENSHOTS"):  # a picture for the docs, on request
        await page.screenshot(path=f"{shots}/planning.png", full_page=True)
