"""Browser fixtures: Debian's headless chromium driven by Playwright, and the console's pages
on a real port.

Chromium comes from `make browser` (apt-get), axe-core and the built pages from `make console`;
without them the browser tests skip saying which target to run, unless
SUPPLYLINE_REQUIRE_SERVICES=1 (CI), where a missing piece fails the run instead.

The pages are served by the console server itself (``supplyline.console``), with its
Content-Security-Policy (no inline script or style): a page that would break under it breaks
here too.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from starlette.types import ASGIApp

from supplyline.console import create_console_app
from supplyline.kernel.host import pick_port
from tests.conftest import REQUIRE_SERVICES, Backend, make_services

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("SUPPLYLINE_TEST_CHROMIUM", "/usr/bin/chromium"))
STATIC = ROOT / "src" / "supplyline" / "console" / "static"
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
LOGIN_PAGE = "/console/login"
# A tablet held upright: the narrowest width the console promises to be usable at.
TABLET = {"width": 768, "height": 1024}


def need(what: str, path: Path, target: str) -> None:
    """Skip (or fail under SUPPLYLINE_REQUIRE_SERVICES=1) when a built piece is missing."""
    if path.exists():
        return
    message = f"{what} is missing ({path}): run `make {target}`"
    if REQUIRE_SERVICES:
        pytest.fail(f"SUPPLYLINE_REQUIRE_SERVICES=1 and {message}")
    pytest.skip(message)


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """An ASGI app on a free port of 127.0.0.1, served by uvicorn in this event loop: its URL."""
    port = pick_port("127.0.0.1", 0)
    assert port is not None
    # A page left open holds its event stream: shutdown ends it rather than waiting for it.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn says it listens only through this flag
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    assert server.started, "the console server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def console_url(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[str]:
    """The console server on an empty SQLite database (tests that answer /v1 themselves,
    with ``page.route``, open the pages by their file URLs, which need no session)."""
    need("The built console", STATIC / "app" / "login.html", "console")
    shutil.copyfile(sqlite_template, tmp_path / "console.db")
    svc = make_services(Backend("sqlite", f"sqlite:///{tmp_path / 'console.db'}", None), tmp_path)
    async with serving(create_console_app(svc, run_consumers=False)) as url:
        yield url
    await svc.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    need("Debian's chromium", CHROMIUM, "browser")
    async with async_playwright() as pw:
        # An explicit executable: Playwright's own browser builds are never downloaded.
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        await chromium.close()


@pytest.fixture
def page_errors() -> list[str]:
    """What went wrong in the page; a test expecting a failed request removes it from here."""
    return []


@pytest.fixture
async def page(browser: Browser, page_errors: list[str]) -> AsyncIterator[Page]:
    """A fresh tablet-sized page that fails the test on any uncaught script error, console
    error or failed request (a missing file, a script the CSP refused)."""
    context: BrowserContext = await browser.new_context(viewport=TABLET)
    tab = await context.new_page()
    errors = page_errors
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield tab
    await context.close()
    assert not errors, f"the page reported errors: {errors}"


async def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Run axe-core (from the npm lock file) in the page; the violations of these impacts.

    axe is offered at a same-origin URL the test intercepts, so the page's CSP (script-src
    'self') lets it load exactly as the console's own scripts do."""
    need("axe-core", AXE, "console")
    await page.route("**/__test__/axe.min.js", lambda route: route.fulfill(path=AXE))
    await page.add_script_tag(url="/__test__/axe.min.js")
    result = await page.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in impacts
    ]
