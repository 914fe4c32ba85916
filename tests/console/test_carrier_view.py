"""A carrier's person on the real console server, on each backend: the shipment list holds its
own shipments only, and what redaction takes from a carrier (the freight price, other
partners' names) is nowhere in the page, visible or not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from supplyline.bootstrap import Services
from supplyline.console import create_console_app
from tests.conftest import Backend, make_services, new_tenant
from tests.console.conftest import STATIC, axe_violations, need, serving
from tests.factories import post, world

PASSWORD = "a long carrier password"


@pytest.fixture
async def live(backend: Backend, tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The console on a real port; two carriers with a priced shipment each and a driver of the
    first (partner_viewer bound to its organisation): (URL, the world)."""
    need("The built console", STATIC / "app" / "shipments.html", "console")
    svc: Services = make_services(backend, tmp_path)
    acme = await new_tenant(svc, "acme")
    async with serving(create_console_app(svc, run_consumers=False)) as url:
        async with httpx.AsyncClient(base_url=url) as c:
            h = acme.headers
            w = await world(c, h)
            other = {"code": "CAR2", "name": "Slow Haulage", "kind": "carrier"}
            w["other"] = await post(c, h, "organizations", other)
            base = {
                "origin_site_id": w["dc"]["id"],
                "destination_site_id": w["store"]["id"],
                "planned_departure_at": "2026-12-01T08:00:00Z",
                "planned_arrival_at": "2026-12-01T14:30:00Z",
                "currency": "CHF",
            }
            mine = {
                "number": "SH-MINE",
                "carrier_organization_id": w["carrier"]["id"],
                "freight_cost": 4321.75,
            }
            theirs = {
                "number": "SH-THEIRS",
                "carrier_organization_id": w["other"]["id"],
                "freight_cost": 8765.5,
            }
            w["mine"] = await post(c, h, "shipments", {**base, **mine, "status": "in_transit"})
            w["theirs"] = await post(c, h, "shipments", {**base, **theirs})
            org = w["carrier"]["id"]
            body = {"email": "driver@car1.test", "password": PASSWORD, "organization_id": org}
            user = await post(c, h, "users", body)
            grant = {"role": "partner_viewer", "user_id": user["id"], "organization_id": org}
            await post(c, h, "role-assignments", grant)
        yield url, w
    await svc.close()


async def test_a_carrier_sees_only_its_shipments_redacted(
    live: tuple[str, dict[str, Any]], page: Page
) -> None:
    url, w = live
    await page.goto(url + "/console/shipments")  # no session: the login page, and back after
    await page.get_by_label("Tenant", exact=True).fill("acme")
    await page.get_by_label("E-mail", exact=True).fill("driver@car1.test")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_title("Shipments · supplyline console")

    row = page.get_by_role("row").filter(has_text="SH-MINE")
    await expect(row).to_contain_text("In transit")
    await expect(row).to_contain_text("Lyon DC (DC-LYON)")
    await expect(row).to_contain_text("Store 12 (ST-12)")
    await expect(row).to_contain_text("Fast Freight (CAR1)")
    await expect(row.locator("time")).to_have_count(2)
    link = row.get_by_role("link", name="SH-MINE")
    assert await link.get_attribute("href") == f"/console/shipment?id={w['mine']['id']}"
    await expect(page.get_by_role("row")).to_have_count(2)  # the header and its one shipment

    # The status filter asks the API again; its own shipment is back under "Any".
    await page.get_by_label("Status", exact=True).select_option("planned")
    await expect(page.get_by_text("No shipments match.")).to_be_visible()
    await page.get_by_label("Status", exact=True).select_option("")
    await expect(row).to_be_visible()
    assert await axe_violations(page) == []

    # What redaction takes from a carrier is in neither the text nor the markup.
    content, text = await page.content(), await page.locator("body").inner_text()
    for absent in (
        "SH-THEIRS",
        "Slow Haulage",
        "CAR2",
        "4321",
        "8765",
        "CHF",
        w["theirs"]["id"],
        w["other"]["id"],
    ):
        assert absent not in content and absent not in text, absent
    # The API's own answer to this person carries no price either (what the page was given).
    answer = await page.evaluate("async () => (await fetch('/v1/shipments')).json()")
    assert [s["number"] for s in answer["items"]] == ["SH-MINE"]
    assert "freight_cost" not in answer["items"][0] and "currency" not in answer["items"][0]
