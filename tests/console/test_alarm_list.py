"""The alarm list page against the /v1 contract: rows with severity, owner, SLA and escalation,
cursor paging, acknowledge sent with the CSRF token from the readable cookie, and a 401 sending
the person back to the login page.

/v1 is answered by the test (``page.route``), so each answer can be shaped; the page, its
scripts and its CSP are the real server's (the page opened by its file URL, which needs no
session)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Page, Request, Route, expect

from tests.console.conftest import axe_violations

ALARMS = "/console/static/app/alarms.html"
CSRF = "csrf-token-of-this-session"


def alarm(n: int, status: str = "active_unack", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-0000-0000-00000000000{n}",
        "type": f"temperature-high-{n}",
        "originator": f"logger-{n}",
        "severity": "critical",
        "status": status,
        "assignee": None,
        "escalation_level": 1,
        "raised_at": "2026-03-01T08:30:00+00:00",
        "sla": {"ack_due_at": "2026-03-01T09:00:00+00:00", "remaining_s": 720.0, "breached": False},
    } | extra


def fake_v1(seen: list[Request], answers: dict[str, Callable[[Request], tuple[int, Any]]]) -> Any:
    async def handle(route: Route, request: Request) -> None:
        seen.append(request)
        path = urlsplit(request.url).path
        if path == "/v1/stream":
            await route.fulfill(status=200, content_type="text/event-stream", body="retry: 60000\nid: 1\n\n")
            return
        status, body = answers[path](request)
        await route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    return handle


async def open_alarms(page: Page, url: str, answers: dict[str, Any]) -> list[Request]:
    seen: list[Request] = []
    await page.context.add_cookies([{"name": "sl_csrf", "value": CSRF, "url": url}])
    await page.route("**/v1/**", fake_v1(seen, answers))
    await page.goto(url + ALARMS)
    return seen


def first_or_next(request: Request) -> tuple[int, Any]:
    cursor = parse_qs(urlsplit(request.url).query).get("cursor")
    if cursor == ["page-2"]:
        return 200, {"items": [alarm(2, "active_ack", assignee="quality@acme.test")], "next_cursor": None}
    return 200, {"items": [alarm(1)], "next_cursor": "page-2"}


async def test_alarm_list_shows_pages_and_acknowledges_with_the_csrf_token(
    page: Page, console_url: str
) -> None:
    answers = {
        "/v1/auth/me": lambda r: (200, {"principal": "ops@acme.test"}),
        "/v1/alarms": first_or_next,
        f"/v1/alarms/{alarm(1)['id']}/acknowledge": lambda r: (200, alarm(1, "active_ack", sla=None)),
    }
    seen = await open_alarms(page, console_url, answers)

    await expect(page).to_have_title("Alarms · supplyline console")
    await expect(page.locator("#who")).to_have_text("ops@acme.test")
    row = page.get_by_role("row").filter(has_text="temperature-high-1")
    await expect(row).to_contain_text("Active, not acknowledged")
    await expect(row).to_contain_text("unassigned")
    await expect(row).to_contain_text("12 min left")
    await expect(row).to_contain_text("level 1")
    await expect(row.locator("time")).to_have_attribute("title", "2026-03-01 08:30:00 UTC")
    (listed,) = [r for r in seen if urlsplit(r.url).path == "/v1/alarms"]
    assert parse_qs(urlsplit(listed.url).query) == {"active": ["true"]}, "the default filter"
    assert await axe_violations(page) == []

    await page.get_by_role("button", name="Load more").click()
    second = page.get_by_role("row").filter(has_text="temperature-high-2")
    await expect(second).to_contain_text("quality@acme.test")
    await expect(page.get_by_role("button", name="Load more")).to_be_hidden()

    await page.get_by_role("button", name="Acknowledge temperature-high-1 on logger-1").click()
    await expect(row).to_contain_text("Active, acknowledged")
    await expect(page.get_by_role("status").filter(has_text="Acknowledged")).to_be_visible()
    (ack,) = [r for r in seen if r.url.endswith("/acknowledge")]
    headers = await ack.all_headers()
    assert ack.method == "POST"
    assert headers["x-csrf-token"] == CSRF
    assert headers.get("idempotency-key")
    reads = [r for r in seen if r.method == "GET" and urlsplit(r.url).path != "/v1/stream"]
    for read in reads:
        assert "x-csrf-token" not in await read.all_headers(), f"{read.url}: a read carries no CSRF token"


async def test_an_ended_session_goes_back_to_the_login_page(
    page: Page, console_url: str, page_errors: list[str]
) -> None:
    gone = (401, {"title": "Unauthorized", "status": 401})
    await open_alarms(page, console_url, {"/v1/auth/me": lambda r: gone, "/v1/alarms": lambda r: gone})

    await expect(page).to_have_url(
        f"{console_url}/console/login?next=%2Fconsole%2Fstatic%2Fapp%2Falarms.html"
    )
    await expect(page.get_by_label("Tenant", exact=True)).to_be_visible()
    page_errors[:] = [e for e in page_errors if "401" not in e]  # the two refused reads
