"""Telemetry's purge under governance: the tenant's default, after the retention policies, and
a legal hold that suspends it."""

from __future__ import annotations

from typing import Any

import httpx

from supplyline.bootstrap import Services
from tests.audit.conftest import entries
from tests.conftest import TenantCtx
from tests.governance.conftest import place_hold, release, set_retention
from tests.telemetry.fleet import Device, fleet, now_ms, send
from tests.telemetry.test_retention import DAY, points


async def test_a_hold_suspends_telemetry_purging_and_the_policies_come_first(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, other_tenant: TenantCtx
) -> None:
    w: dict[str, Any] = await fleet(client, tenant)
    now = now_ms()
    old, recent = now - 200 * DAY, now - DAY
    for code in ("cr-0", "trk-001"):
        device: Device = w["devices"]["gw" if code == "cr-0" else "tracker"]
        readings = [
            {"device": code, "seq": i, "ts": ts, "metrics": {"temperature_c": 4.0}}
            for i, ts in enumerate((old, recent))
        ]
        assert (await send(client, device, {"readings": readings})).json()["accepted"] == 2
    await services.telemetry.compactor.drain()
    compactor = services.telemetry.compactor

    await set_retention(client, tenant, telemetry=100)  # in place of the platform's 365
    hold = await place_hold(client, tenant, "telemetry")
    assert await compactor.purge() == 0
    assert await points(client, tenant, "cr-0") == [old, recent]

    # The tenant's retention policy comes before its governance setting.
    r = await client.post("/v1/retention-policies", json={"days": 300}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    await release(client, tenant, hold)
    assert await compactor.purge() == 0

    archived = await client.post(f"/v1/retention-policies/{r.json()['id']}/archive", headers=tenant.headers)
    assert archived.status_code == 200, archived.text
    assert await compactor.purge(other_tenant.id) == 0  # only the tenant named
    assert await compactor.purge(tenant.id) == 2
    assert await points(client, tenant, "cr-0") == [recent]
    assert await points(client, tenant, "trk-001") == [recent]

    (entry,) = await entries(services, tenant.id, action="retention.purge")
    assert entry["subject"] == "retention/telemetry" and entry["actor"] == "retention"
    assert entry["after"]["deleted"] == 2
    assert {p["days"] for p in entry["after"]["profiles"]} == {100}
