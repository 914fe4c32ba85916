"""Inventory and holds on the real console server, on each backend: an operator holds a lot and
sees its sellable stock drop at once, is refused (with the API's reason) when releasing it, and
a quality person (who approves releases) releases it and sees the stock sellable again."""

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

PASSWORD = "a long inventory password"


async def person(c: httpx.AsyncClient, headers: dict[str, str], email: str, role: str) -> None:
    user = await post(c, headers, "users", {"email": email, "password": PASSWORD})
    await post(c, headers, "role-assignments", {"role": role, "user_id": user["id"]})


@pytest.fixture
async def live(backend: Backend, tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The console on a real port; a tenant with a lot in stock at the DC (100 on hand, 10
    allocated), an operator and a quality person: (URL, the world)."""
    need("The built console", STATIC / "app" / "inventory.html", "console")
    svc: Services = make_services(backend, tmp_path)
    acme = await new_tenant(svc, "acme")
    async with serving(create_console_app(svc, run_consumers=False)) as url:
        async with httpx.AsyncClient(base_url=url) as c:
            w = await world(c, acme.headers)
            base = {"product_id": w["product"]["id"], "lot_id": w["lot"]["id"], "unit": "each"}
            w["position"] = await post(
                c,
                acme.headers,
                "inventory-positions",
                {**base, "site_id": w["dc"]["id"], "on_hand": 100, "allocated": 10},
            )
            await person(c, acme.headers, "ops@acme.test", "site_operator")
            await person(c, acme.headers, "qa@acme.test", "quality")
        yield url, w
    await svc.close()


async def log_in(page: Page, url: str, email: str) -> None:
    await page.goto(url + "/console/inventory")  # no session: the login page, and back after
    await page.get_by_label("Tenant", exact=True).fill("acme")
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_title("Inventory · supplyline console")


async def test_hold_and_release_a_lot_with_reasons(
    live: tuple[str, dict[str, Any]], page: Page, page_errors: list[str]
) -> None:
    url, _ = live
    await log_in(page, url, "ops@acme.test")
    row = page.get_by_role("row").filter(has_text="L2026-11")
    held, sellable = row.locator("td.held"), row.locator("td.sellable")
    await expect(row).to_contain_text("Lyon DC (DC-LYON)")
    await expect(row).to_contain_text("Vaccine 10x (VAC-01)")
    await expect(sellable).to_have_text("90 each")
    await page.get_by_label("Site", exact=True).select_option(label="Store 12 (ST-12)")
    await expect(page.get_by_text("No inventory positions match.")).to_be_visible()
    await page.get_by_label("Site", exact=True).select_option(label="Lyon DC (DC-LYON)")
    await expect(sellable).to_have_text("90 each")
    assert await axe_violations(page) == []

    # Place a hold: the reason is required, then held and sellable change at once.
    await row.get_by_role("button", name="Place hold on lot L2026-11").click()
    dialog = page.get_by_role("dialog", name="Place hold on lot L2026-11")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Place hold").click()
    await expect(dialog.get_by_text("A reason is required.")).to_be_visible()
    assert await axe_violations(page) == []
    await dialog.get_by_label("Reason", exact=True).fill("seal broken on arrival")
    await dialog.get_by_role("button", name="Place hold").click()
    await expect(dialog).to_be_hidden()
    await expect(held).to_have_text("100 each")
    await expect(sellable).to_have_text("0 each")

    # The operator may not approve the release: the API's refusal, named.
    await row.get_by_role("button", name="Release hold on lot L2026-11").click()
    dialog = page.get_by_role("dialog", name="Release hold on lot L2026-11")
    await dialog.get_by_label("Reason", exact=True).fill("looks fine to me")
    await dialog.get_by_role("button", name="Release hold").click()
    refusal = dialog.get_by_role("alert")
    await expect(refusal).to_contain_text("Not released: you may not approve hold releases")
    await expect(refusal).to_contain_text("holds:approve")
    page_errors[:] = [e for e in page_errors if "403" not in e]  # the refused release
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(sellable).to_have_text("0 each")
    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_title("Log in · supplyline console")

    # Quality approves it with its finding: sellable again at once.
    await log_in(page, url, "qa@acme.test")
    await row.get_by_role("button", name="Release hold on lot L2026-11").click()
    dialog = page.get_by_role("dialog", name="Release hold on lot L2026-11")
    await dialog.get_by_label("Reason", exact=True).fill("inspected: seal intact, logger in range")
    await dialog.get_by_role("button", name="Release hold").click()
    await expect(dialog).to_be_hidden()
    await expect(held).to_have_text("0 each")
    await expect(sellable).to_have_text("90 each")
    await expect(row.get_by_role("button", name="Place hold on lot L2026-11")).to_be_visible()
    assert await axe_violations(page) == []
