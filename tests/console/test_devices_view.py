"""Devices and sites on the real console server, on each backend: an operations manager sees
each device's health in words (reporting, silent, never seen), its battery, clock skew, refused
messages and credential age; imports a file with a bad row and is shown the row and field with
nothing created; then imports the fixed file, watches the progress bar complete, and finds the
new site."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import update

from supplyline.bootstrap import Services
from supplyline.console import create_console_app
from supplyline.telemetry.tables import telemetry_device_state
from tests.conftest import Backend, TenantCtx, make_services, new_tenant
from tests.console.conftest import STATIC, axe_violations, need, serving
from tests.factories import post
from tests.telemetry.fleet import Device, fleet, now_ms, send

PASSWORD = "a long devices password"
EMAIL = "ops@acme.test"


def document(asset_type: str) -> dict[str, Any]:
    return {
        "sites": [{"code": "DC-PARIS", "name": "Paris DC", "kind": "warehouse", "region": "EU"}],
        "zones": [{"site": "DC-PARIS", "code": "CHILL-1", "name": "Chilled 1", "kind": "chilled"}],
        "assets": [
            {
                "code": "TRL-8",
                "name": "Reefer 8",
                "asset_type": "reefer",
                "site": "DC-PARIS",
                "attributes": {"setpoint_c": 4},
            },
            {
                "code": "TRL-9",
                "name": "Reefer 9",
                "asset_type": asset_type,
                "site": "DC-PARIS",
                "attributes": {"setpoint_c": 4},
            },
        ],
    }


async def reading(
    c: httpx.AsyncClient, device: Device, seq: int, ts: int, **metrics: float
) -> dict[str, Any]:
    r = await send(c, device, {"device": device.code, "seq": seq, "ts": ts, "metrics": metrics})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


@pytest.fixture
async def live(backend: Backend, tmp_path: Path) -> AsyncIterator[tuple[str, Services, TenantCtx]]:
    """The console on a real port; a fleet whose sensor cr-0 reports a battery and had one
    message refused, cr-1 is silent, cr-2 was never heard from and the tracker's clock runs ten
    minutes ahead; an operations manager."""
    need("The built console", STATIC / "app" / "devices.html", "console")
    svc: Services = make_services(backend, tmp_path)
    acme = await new_tenant(svc, "acme")
    async with serving(create_console_app(svc, run_consumers=False)) as url:
        async with httpx.AsyncClient(base_url=url) as c:
            w = await fleet(c, acme)
            d = w["devices"]
            await reading(c, d["cr-1"], 1, now_ms(), temperature_c=4.0)
            await svc.telemetry.compactor.drain()
            s = telemetry_device_state
            async with svc.engine.begin() as conn:
                await conn.execute(update(s).where(s.c.device_id == uuid.UUID(d["cr-1"].id)).values(silent=1))
            await reading(c, d["cr-0"], 1, now_ms(), temperature_c=4.2, battery_v=3.61)
            refused = await reading(c, d["cr-0"], 2, now_ms(), no_such_metric=1.0)
            assert refused["rejected"] == 1
            await reading(c, d["tracker"], 1, now_ms() + 600_000, temperature_c=5.0)
            user = await post(c, acme.headers, "users", {"email": EMAIL, "password": PASSWORD})
            await post(
                c, acme.headers, "role-assignments", {"role": "operations_manager", "user_id": user["id"]}
            )
        yield url, svc, acme
    await svc.close()


def row(page: Page, code: str) -> Any:
    return page.locator(f'#devices tbody tr[data-device="{code}"]')


async def sites_named(url: str, acme: TenantCtx, code: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=url) as c:
        r = await c.get("/v1/sites", params={"code": code}, headers=acme.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_device_health_and_onboarding_from_a_file(
    live: tuple[str, Services, TenantCtx], page: Page, page_errors: list[str], tmp_path: Path
) -> None:
    url, svc, acme = live
    await page.goto(url + "/console/devices")  # no session: the login page, and back after
    await page.get_by_label("Tenant", exact=True).fill("acme")
    await page.get_by_label("E-mail", exact=True).fill(EMAIL)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_title("Devices and sites · supplyline console")
    await expect(page.get_by_role("link", name="Devices")).to_have_attribute("aria-current", "page")

    await expect(page.locator("#devices tbody tr")).to_have_count(5)
    reporting = row(page, "cr-0")
    await expect(reporting.locator("td.status")).to_have_text("Reporting")
    await expect(reporting).to_contain_text("3.61 V")
    await expect(reporting.locator("td").nth(7)).to_have_text("1unknown metric: 1")
    await expect(reporting.locator("td").nth(2)).to_have_text("Lyon DCTRL-1")
    await expect(reporting.locator("time")).to_have_count(1)
    await expect(reporting.locator("td").nth(8)).to_have_text("0")  # no late readings
    await expect(reporting.locator("td").nth(9)).to_have_text(re.compile(r"^\d+ (s|min)$"))
    await expect(row(page, "cr-1")).to_contain_text("Silent")
    await expect(row(page, "cr-2")).to_contain_text("Never seen")
    await expect(row(page, "trk-001")).to_contain_text(re.compile(r"ahead (9|10) min"))
    assert await axe_violations(page) == []

    await page.get_by_label("Silent only").check()
    await expect(page.locator("#devices tbody tr")).to_have_count(1)
    await expect(row(page, "cr-1")).to_be_visible()
    await page.get_by_label("Silent only").uncheck()
    await expect(page.locator("#devices tbody tr")).to_have_count(5)

    bad = tmp_path / "paris.json"
    bad.write_text(json.dumps(document("no-such-type")))
    await page.get_by_label("Onboarding file (JSON or CSV)").set_input_files(bad)
    await page.get_by_role("button", name="Import").click()
    report = page.locator("#report")
    await expect(report).to_contain_text("Nothing was imported")
    refused = report.get_by_role("row").filter(has_text="asset_type")
    await expect(refused).to_contain_text("assets")
    await expect(refused).to_contain_text("row 2")
    await expect(refused).to_contain_text("no-such-type")
    async with svc.read_engine.connect() as conn:  # all or nothing: not even the good rows
        for name, code in (("sites", "DC-PARIS"), ("assets", "TRL-8")):
            found = await svc.resources.list_page(conn, acme.scope, name, filters={"code": code})
            assert found.items == [], name
    assert await axe_violations(page) == []
    if shots := os.environ.get("SUPPLYLINE_SCREENSHOTS"):
        await page.locator("#report").screenshot(path=f"{shots}/devices-refused.png")
    expected = [e for e in page_errors if "422" in e]
    assert expected, page_errors
    for e in expected:
        page_errors.remove(e)

    sheet = tmp_path / "sites.csv"  # one section, rows named by the file's lines
    sheet.write_text("code,name,kind,region\nDC-NICE,Nice DC,warehouse,EU\nST-9,Store 9,shed,EU\n")
    await page.get_by_label("Onboarding file (JSON or CSV)").set_input_files(sheet)
    await expect(page.get_by_label("Rows of a CSV file are")).to_have_value("sites")
    await page.get_by_role("button", name="Import").click()
    await expect(report).to_contain_text("Refused: sites.csv has 1 problem")
    await expect(report.get_by_role("row").filter(has_text="line 3")).to_contain_text("kind")
    assert await sites_named(url, acme, "DC-NICE") == []
    for e in [e for e in page_errors if "422" in e]:
        page_errors.remove(e)

    good = tmp_path / "paris-fixed.json"
    good.write_text(json.dumps(document("reefer")))
    await page.get_by_label("Onboarding file (JSON or CSV)").set_input_files(good)
    await page.get_by_role("button", name="Import").click()
    await expect(report).to_contain_text("Imported: 4 rows from paris-fixed.json, in one transaction")
    await expect(report.get_by_role("row").filter(has_text="assets")).to_contain_text("2")
    progress = page.get_by_label("Import progress")
    await expect(progress).to_have_attribute("value", "100")
    await expect(page.locator("#phase")).to_have_text("Done: every row was imported.")
    await expect(page.get_by_label("Site").locator("option", has_text="Paris DC (DC-PARIS)")).to_have_count(1)
    created = await sites_named(url, acme, "DC-PARIS")
    assert [s["name"] for s in created] == ["Paris DC"]
    assert await axe_violations(page) == []
    if shots := os.environ.get("SUPPLYLINE_SCREENSHOTS"):  # a picture for the docs, on request
        await page.screenshot(path=f"{shots}/devices.png", full_page=True)
