"""The console in a real browser: the login page renders, is labelled and keyboard-usable, and
axe-core finds no serious or critical accessibility violation at tablet width."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.console.conftest import axe_violations


async def test_login_page_renders_a_labelled_form_without_serious_axe_violations(
    page: Page, console_url: str
) -> None:
    await page.goto(console_url + "/")

    await expect(page).to_have_title("Log in · supplyline console")
    await expect(page.get_by_role("heading", level=1)).to_have_text("supplyline console")
    tenant, email, password = (
        page.get_by_label(name, exact=True) for name in ("Tenant", "E-mail", "Password")
    )
    for field in (tenant, email, password):
        await expect(field).to_be_visible()
    await expect(password).to_have_attribute("type", "password")
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()

    assert await axe_violations(page) == []


async def test_login_form_is_used_by_keyboard_and_names_the_missing_field(
    page: Page, console_url: str
) -> None:
    await page.goto(console_url + "/")
    order = []
    for _ in range(4):
        await page.keyboard.press("Tab")
        order.append(
            await page.evaluate("() => document.activeElement.id || document.activeElement.textContent")
        )
    assert order == ["tenant", "email", "password", "Log in"]

    await page.get_by_label("Tenant", exact=True).fill("acme")
    await page.get_by_label("E-mail", exact=True).fill("ops@acme.test")
    await page.keyboard.press("Enter")

    password = page.get_by_label("Password", exact=True)
    await expect(password).to_have_attribute("aria-invalid", "true")
    await expect(password).to_be_focused()
    await expect(page.locator("#password-error")).to_have_text("Password is required.")
    assert page.url.endswith("/console/login"), "nothing was posted"
