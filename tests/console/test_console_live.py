"""An operator's path through the real console server, on each backend: log in on the login
page, see an alarm raised meanwhile appear without reloading (the event stream), acknowledge
it, and find a change without the CSRF token refused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from supplyline import access, alarms
from supplyline.bootstrap import Services
from supplyline.console import create_console_app
from supplyline.kernel.clock import utcnow
from supplyline.kernel.scope import Scope
from tests.conftest import Backend, make_services, new_tenant
from tests.console.conftest import STATIC, axe_violations, need, serving

PASSWORD = "a long operator password"


@pytest.fixture
async def live(backend: Backend, tmp_path: Path) -> AsyncIterator[tuple[str, Services, uuid.UUID]]:
    """The console app on a real port with one tenant and an operator: (URL, services, tenant)."""
    need("The built console", STATIC / "app" / "login.html", "console")
    svc = make_services(backend, tmp_path, stream_max_s=60.0)
    acme = await new_tenant(svc, "acme")
    async with svc.uow() as uow:
        user = await access.create_user(uow, acme.scope, "ops@acme.test", "Olga Ops", PASSWORD)
        await access.assign_role(uow, acme.scope, access.AssignRole("operator", uuid.UUID(str(user["id"]))))
        await uow.commit()
    async with serving(create_console_app(svc, run_consumers=False)) as url:
        yield url, svc, acme.id
    await svc.close()


async def raise_alarm(svc: Services, tenant: uuid.UUID, type_: str, originator: str) -> dict[str, Any]:
    async with svc.uow() as uow:
        row = await alarms.raise_alarm(
            uow, tenant, alarms.RaiseAlarm(type_, "critical", "device", uuid.uuid4(), originator, utcnow())
        )
        await uow.commit()
    return row


async def test_operator_sees_a_new_alarm_live_and_acknowledges_it(
    live: tuple[str, Services, uuid.UUID], page: Page, page_errors: list[str]
) -> None:
    # ``live`` before ``page``: the page (and its event stream) closes before the server stops.
    url, svc, tenant = live
    await raise_alarm(svc, tenant, "temperature-high", "logger-7")

    await page.goto(url + "/")  # no session yet: the login page, and back after
    await page.get_by_label("Tenant", exact=True).fill("acme")
    await page.get_by_label("E-mail", exact=True).fill("ops@acme.test")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_title("Alarms · supplyline console")
    await expect(page.get_by_role("row").filter(has_text="temperature-high")).to_be_visible()
    await expect(page.locator("#live")).to_have_text("Live: new alarms appear without reloading.")

    raised = await raise_alarm(svc, tenant, "humidity-high", "logger-9")
    row = page.get_by_role("row").filter(has_text="humidity-high")
    await expect(row).to_contain_text("Active, not acknowledged")
    assert await axe_violations(page) == []

    await row.get_by_role("button", name="Acknowledge humidity-high on logger-9").click()
    await expect(row).to_contain_text("Active, acknowledged")
    async with svc.read_engine.connect() as conn:
        stored = await alarms.get_alarm(conn, Scope.system(tenant), raised["id"])
    assert stored["acknowledged_by"] is not None

    # Assign, comment and clear in the alarm's dialog, each stored through /v1.
    await page.get_by_role("button", name="Manage humidity-high on logger-9").click()
    dialog = page.get_by_role("dialog", name="humidity-high on logger-9")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("Owner").fill("olga")
    await dialog.get_by_role("button", name="Assign", exact=True).click()
    await expect(dialog.locator("#manage-state")).to_contain_text("owner olga")
    await dialog.get_by_label("Comment").fill("Door left open at dock 4; closed it.")
    await dialog.get_by_role("button", name="Add comment").click()
    await expect(dialog.locator("#comments")).to_contain_text("Door left open at dock 4; closed it.")
    await dialog.get_by_label("Reason for clearing").fill("dock door closed")
    await dialog.get_by_role("button", name="Clear alarm").click()
    await expect(dialog.locator("#manage-state")).to_contain_text("Cleared, acknowledged")
    assert await axe_violations(page) == []
    await dialog.get_by_role("button", name="Close").click()
    await expect(dialog).to_be_hidden()
    async with svc.read_engine.connect() as conn:
        stored = await alarms.get_alarm(conn, Scope.system(tenant), raised["id"])
    assert (stored["assignee"], stored["active"]) == ("olga", False)
    assert [c["text"] for c in stored["comments"]] == ["Door left open at dock 4; closed it."]

    forged = await page.evaluate(
        """async (id) => {
            const r = await fetch(`/v1/alarms/${id}/acknowledge`,
                                  { method: "POST", credentials: "same-origin" });
            return { status: r.status, body: await r.json() };
        }""",
        str(raised["id"]),
    )
    assert forged["status"] == 403
    assert [e["field"] for e in forged["body"]["errors"]] == ["X-CSRF-Token"]
    page_errors[:] = [e for e in page_errors if "403" not in e]  # the forged change, refused
