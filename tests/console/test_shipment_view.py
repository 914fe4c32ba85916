"""The headline path through the console, on each backend, with the real loop behind it: an
operator logs in, a signed reading posted to /v1/telemetry raises an alarm that appears without
reload, the operator acknowledges it, opens its shipment and sees the excursion shaded on the
temperature chart against the product's band, with the time out of range, the positions on the
offline map and the hold on the timeline. An auditor sees the trail's checkpoints there too."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from supplyline import access
from supplyline.bootstrap import Services
from supplyline.console import create_console_app
from tests.conftest import Backend, TenantCtx, make_services, new_tenant
from tests.console.conftest import STATIC, axe_violations, need, serving
from tests.e2e.test_cold_chain_loop import _world
from tests.telemetry.fleet import Device, now_ms, send

PASSWORD = "a long operator password"
LOOP_S = 30_000  # what waits on the consumers (rules, alarms, holds, the trail) on a busy machine
START = now_ms  # readings are stamped near now: late readings do not raise alarms


@pytest.fixture
async def loop(
    backend: Backend, tmp_path: Path
) -> AsyncIterator[tuple[str, Services, TenantCtx, dict[str, Any]]]:
    """The console server with the event consumers running (rules, alarms, holds, the trail),
    a tenant with a cold-chain shipment and its tracker, and an operator and an auditor."""
    need("The built console", STATIC / "app" / "shipment.html", "console")
    svc = make_services(backend, tmp_path, stream_max_s=60.0, stream_poll_s=0.2)
    acme = await new_tenant(svc, "acme")
    app = create_console_app(svc, run_consumers=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        w = await _world(c, acme)
    async with svc.uow() as uow:
        for email, role in (("ops@acme.test", "site_operator"), ("audit@acme.test", "auditor")):
            user = await access.create_user(uow, acme.scope, email, email.split("@")[0].title(), PASSWORD)
            await access.assign_role(uow, acme.scope, access.AssignRole(role, uuid.UUID(str(user["id"]))))
        await uow.commit()
    stop = asyncio.Event()
    await svc.telemetry.start()
    background = asyncio.create_task(svc.run_background(stop))
    try:
        async with serving(app) as url:
            yield url, svc, acme, w
    finally:
        stop.set()
        svc.events.notifier.notify()
        await background
        await svc.close()


async def log_in(page: Page, url: str, email: str, path: str = "/") -> None:
    await page.goto(url + path)  # no session: the login page, and back here after it
    await page.get_by_label("Tenant", exact=True).fill("acme")
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()


async def post_readings(url: str, tracker: Device, values: list[float], first_seq: int, t0: int) -> None:
    """Signed readings, one a minute from ``t0``, with a position that moves north-east."""
    async with httpx.AsyncClient(base_url=url) as c:
        for i, value in enumerate(values):
            seq = first_seq + i
            body = {
                "device": tracker.code,
                "ts": t0 + (seq - 1) * 60_000,
                "seq": seq,
                "metrics": {"temperature_c": value, "lat": 45.76 + seq * 0.05, "lon": 4.84 + seq * 0.04},
            }
            r = await send(c, tracker, body)
            assert r.status_code == 200 and r.json()["accepted"] == 1, r.text


async def test_an_operator_sees_the_alarm_live_acknowledges_it_and_finds_the_excursion_shaded(
    loop: tuple[str, Services, TenantCtx, dict[str, Any]], page: Page
) -> None:
    url, _, _, w = loop
    tracker: Device = w["devices"]["tracker"]
    t0 = START() - 10 * 60_000
    await post_readings(url, tracker, [4.5, 5.0], 1, t0)

    await log_in(page, url, "ops@acme.test")
    await expect(page).to_have_title("Alarms · supplyline console")
    await expect(page.locator("#live")).to_have_text("Live: new alarms appear without reloading.")
    await expect(page.locator("#empty")).to_be_visible()

    await post_readings(url, tracker, [9.5, 10.2], 3, t0)  # above the vaccine's 8 °C
    row = page.get_by_role("row").filter(has_text="cold-chain-max")
    await expect(row).to_contain_text("Active, not acknowledged", timeout=LOOP_S)
    await row.get_by_role("button", name="Acknowledge cold-chain-max on trk-001").click()
    await expect(row).to_contain_text("Active, acknowledged")

    await post_readings(url, tracker, [6.0, 4.0], 5, t0)  # back inside the band
    await row.get_by_role("link", name="Open the shipment of cold-chain-max on trk-001").click()
    await expect(page).to_have_title("Shipment SHP-E2E · supplyline console")
    await expect(page.locator("#band")).to_contain_text("2 °C to 8 °C (Vaccine 10x)")
    await expect(page.locator("#temperature-chart canvas")).to_have_count(1)
    shade = page.locator("#temperature-chart .excursion-high")
    await expect(shade).to_have_count(1)
    box = await shade.bounding_box()
    assert box is not None and box["width"] > 10 and box["height"] > 100  # drawn, not a sliver
    await expect(page.locator("#temperature-chart .band-box")).to_have_count(1)
    excursions = page.locator("#excursions tbody tr")
    await expect(excursions).to_have_count(1)
    await expect(excursions.first).to_contain_text("max 10.2 °C")
    await expect(excursions.first).to_contain_text("2 min")  # 9.5 at minute 2 until 6.0 at minute 4
    await expect(page.locator("#out-of-range")).to_have_text(
        "Cumulative time out of range: 2 min in 1 excursion."
    )

    await expect(page.locator("#map polyline.track")).to_have_count(1)
    await expect(page.locator("#map rect.site")).to_have_count(1)  # the store has no coordinates
    await expect(page.locator("#places")).to_contain_text("Last position of trk-001")
    await expect(page.locator("#places")).to_contain_text("Destination: Store 12 (ST-12) (no coordinates)")

    timeline = page.locator("#timeline")
    await expect(timeline).to_contain_text("Temperature exceeded: 9.5 °C on trk-001")
    await expect(timeline).to_contain_text("Alarm raised: cold-chain-max (critical) on trk-001")
    await expect(timeline).to_contain_text("Alarm cold-chain-max acknowledged")
    await expect(timeline).to_contain_text("Lot L2026-11 held", timeout=LOOP_S)
    await expect(page.locator("#timeline-gaps")).to_contain_text("trail checkpoints are not shown")
    assert await axe_violations(page) == []
    if shots := os.environ.get("SUPPLYLINE_SCREENSHOTS"):
        await page.screenshot(path=f"{shots}/shipment.png", full_page=True)


async def test_an_auditor_sees_the_trails_checkpoints_on_the_shipments_timeline(
    loop: tuple[str, Services, TenantCtx, dict[str, Any]], page: Page
) -> None:
    url, _, acme, w = loop
    await post_readings(url, w["devices"]["tracker"], [4.0, 9.1, 4.2], 1, START() - 5 * 60_000)
    async with httpx.AsyncClient(base_url=url, headers=acme.headers) as c:
        for _ in range(100):  # the rule, the hold and then the trail run behind the ingest
            found = (
                await c.get("/v1/ledger/checkpoints", params={"subject": f"lots/{w['lot']['id']}"})
            ).json()
            if found["items"]:
                break
            await asyncio.sleep(0.1)
        assert found["items"], "no checkpoint of the hold"

    await log_in(page, url, "audit@acme.test", f"/console/shipment?id={w['shipment']['id']}")
    await expect(page).to_have_title("Shipment SHP-E2E · supplyline console")
    checkpoints = page.locator("#timeline li.kind-checkpoint")
    await expect(checkpoints.filter(has_text="lot.held")).to_have_count(1)
    await expect(checkpoints.filter(has_text="shipment.temperature_exceeded")).to_have_count(1)
    await expect(page.locator("#timeline-gaps")).to_have_text("")
    await expect(page.locator("#excursions tbody tr")).to_have_count(1)
