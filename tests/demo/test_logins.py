"""The demo's console logins: one per role, working, the same on a re-run, saved privately."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx

from supplyline.bootstrap import Services
from supplyline.console import create_console_app
from supplyline.demo import facts, ready_logins, ready_tenant
from supplyline.demo.credentials import credentials_path


async def test_every_role_logs_in_and_a_rerun_shows_the_same_passwords(
    services: Services, tmp_path: Path
) -> None:
    info, _ = await ready_tenant(services, tmp_path)
    logins = await ready_logins(services, info, tmp_path)
    assert [lg.role for lg in logins] == ["operator", "quality", "planner", "carrier"]
    assert await ready_logins(services, info, tmp_path) == logins
    path = credentials_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    app = create_console_app(services, run_consumers=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        seen = {}
        for lg in logins:
            c.cookies.clear()
            form = {"tenant": facts.TENANT_SLUG, "email": lg.email, "password": lg.password}
            assert (await c.post("/console/login", data=form)).status_code == 303, lg.role
            r = await c.get("/v1/shipments")
            seen[lg.role] = r.status_code, [s["number"] for s in r.json().get("items", [])]
    assert seen["carrier"] == (200, [facts.SHIPMENT])
    assert seen["operator"][0] == 200
    # A lost file gives new passwords that work, for the same people.
    path.unlink()
    await ready_tenant(services, tmp_path)
    again = await ready_logins(services, info, tmp_path)
    assert [lg.email for lg in again] == [lg.email for lg in logins]
    assert all(a.password != b.password for a, b in zip(again, logins, strict=True))
