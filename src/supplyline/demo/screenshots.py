"""``make screenshots``: a PNG of every console view on the demo data, for the README and docs.

The demo tenant is staged after its excursion (``scene``) in a fresh SQLite database in a
temporary directory, the console server (``create_console_app``) answers on a free port of
127.0.0.1 in this process, and Debian's chromium, driven by Playwright with an explicit
executable (Playwright's own browsers are never downloaded), logs in on the login page as the
person each view is for and waits for the view's data before taking a 1280 x 800 picture:
the operator for alarms, shipments, inventory and whatever other view is built, the planner
for planning, and the carrier's person for the partner's shipment list (``shipments-carrier``).
The shipment page (``shipment``), when built, shows the story's shipment with its excursions,
pictured whole (1280 wide, as long as the page): its charts are below the fold.

Playwright is a development dependency: it is imported only when pictures are taken.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet

from supplyline.bootstrap import build_services
from supplyline.console import built_views, create_console_app
from supplyline.db import create_engine
from supplyline.db.migrate import upgrade
from supplyline.demo.scene import Scene, stage_scene
from supplyline.kernel.host import pick_port
from supplyline.settings import Settings

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

VIEWPORT = {"width": 1280, "height": 800}
ROLES = {"planning": "planner", "lineage": "quality"}  # who a view is pictured for; else the operator
# What shows that a view's data is in: a selector that must match, for the views known here.
READY = {
    "alarms": "#alarms tbody tr",
    "shipments": "#shipments tbody tr",
    "inventory": "#positions tbody tr",
    "planning": "#chart canvas",
    "shipment": "#temperature-chart canvas",
    "lineage": "#graph svg",
    "devices": "main table tbody tr",
}
# Any other view: one of these, then no cell still saying "…" (a name being read).
ANY_DATA = "main table tbody tr, main canvas, main svg"
# Pictured whole (1280 wide, as long as the page): a detail page's charts are below the fold.
FULL_PAGE = {"shipment"}
SETTLED = """() => ![...document.querySelectorAll("td, dd, span")].some((e) => e.textContent === "…")"""


@dataclass(frozen=True)
class Shot:
    view: str  # the file's name without .png
    path: str  # the address shown
    role: str


def plan(views: list[str], scene: Scene) -> list[Shot]:
    """The pictures to take of the built ``views``, in order."""
    shots = []
    for view in views:
        path = "/" if view == "alarms" else f"/console/{view}"
        if view == "planning":
            path += f"?product={scene.ids['product']}&site={scene.ids['site']}"
        if view == "shipment":
            path += f"?id={scene.ids['shipment']}"
        if view == "lineage":
            path += f"?lot={scene.ids['lot']}"
        shots.append(Shot(view, path, ROLES.get(view, "operator")))
        if view == "shipments":
            shots.append(Shot("shipments-carrier", path, "carrier"))
    return shots


async def take_screenshots(out: Path, work_dir: Path, chromium: Path, *, devices: int = 40) -> list[Path]:
    """Stage the demo in ``work_dir``, picture every built view into ``out``; the files written."""
    views = built_views()
    if not views:
        raise RuntimeError("the console is not built: run `make console`")
    _prepare(out, chromium)
    settings = Settings(
        database_url=f"sqlite:///{work_dir / 'screenshots.db'}",
        data_dir=work_dir,
        secret_key=Fernet.generate_key().decode(),
    )
    engine = create_engine(settings.resolved_database_url)
    await upgrade(engine)
    await engine.dispose()
    svc = build_services(settings)
    try:
        scene = await stage_scene(svc, work_dir, extra_devices=devices)
        async with _serving(create_console_app(svc, run_consumers=False)) as url:
            return await _pictures(url, scene, plan(views, scene), out, chromium)
    finally:
        await svc.close()


def _prepare(out: Path, chromium: Path) -> None:
    if not chromium.exists():
        raise RuntimeError(f"no chromium at {chromium}: run `make browser`")
    out.mkdir(parents=True, exist_ok=True)


@contextlib.asynccontextmanager
async def _serving(app: Any) -> AsyncIterator[str]:
    import uvicorn

    port = pick_port("127.0.0.1", 0)
    if port is None:
        raise RuntimeError("no free port on 127.0.0.1")
    # A page's event stream stays open: shutdown ends it rather than waiting for it.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    if not server.started:
        raise RuntimeError("the console server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _pictures(url: str, scene: Scene, shots: list[Shot], out: Path, chromium: Path) -> list[Path]:
    from playwright.async_api import async_playwright

    written = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            for role in dict.fromkeys(s.role for s in shots):
                mine = [s for s in shots if s.role == role]
                written += await _as(browser, url, scene, role, mine, out)
        finally:
            await browser.close()
    return written


async def _as(
    browser: Browser, url: str, scene: Scene, role: str, shots: list[Shot], out: Path
) -> list[Path]:
    """Log in as ``role`` on the login page, then picture each of its shots."""
    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    written = []
    try:
        login = scene.logins[role]
        await page.goto(f"{url}/console/login")
        await page.get_by_label("Tenant", exact=True).fill(scene.info.slug)
        await page.get_by_label("E-mail", exact=True).fill(login.email)
        await page.get_by_label("Password", exact=True).fill(login.password)
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url(lambda u: "/console/login" not in u)
        for shot in shots:
            await page.goto(url + shot.path)
            await _wait_for_data(page, shot.view)
            if errors:
                raise RuntimeError(f"{shot.view} as {role}: the page reported errors: {errors}")
            target = out / f"{shot.view}.png"
            await page.screenshot(path=str(target), full_page=shot.view in FULL_PAGE)
            written.append(target)
    finally:
        await context.close()
    return written


async def _wait_for_data(page: Page, view: str) -> None:
    await page.locator(READY.get(view, ANY_DATA)).first.wait_for(state="visible", timeout=15_000)
    await page.wait_for_function(SETTLED, timeout=15_000)
    await page.wait_for_timeout(300)  # the last paint (a chart's canvas) after the data
