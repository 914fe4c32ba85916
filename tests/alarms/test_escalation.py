"""Alarms deduplicate per originator and type, and escalate by the policy of whoever owns the
asset when nobody acknowledges them in time; the SLA timer shows on the alarm."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from supplyline import alarms
from supplyline.bootstrap import Services
from supplyline.kernel.clock import utcnow
from tests.conftest import TenantCtx
from tests.factories import post, world


def _raise(tracker: str, owner: str | None = None, severity: str = "major") -> alarms.RaiseAlarm:
    return alarms.RaiseAlarm(
        type="cold-chain-max",
        severity=severity,
        originator_kind="device",
        originator_id=uuid.UUID(tracker),
        originator="trk-001",
        at=utcnow(),
        owner_organization_id=uuid.UUID(owner) if owner else None,
    )


async def _policies(client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]) -> None:
    level = {"notify_url": None}
    await post(
        client,
        tenant.headers,
        "escalation-policies",
        {"code": "default", "name": "Default", "levels": [{"after_s": 600, "assignee": "ops", **level}]},
    )
    await post(
        client,
        tenant.headers,
        "escalation-policies",
        {
            "code": "carrier",
            "name": "Carrier-owned reefers",
            "organization_id": w["carrier"]["id"],
            "levels": [
                {"after_s": 60, "assignee": "carrier-dispatch", **level},
                {"after_s": 300, "assignee": "carrier-manager", **level},
            ],
        },
    )


async def test_an_unacknowledged_alarm_climbs_the_owners_policy(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services
) -> None:
    w = await world(client, tenant.headers)
    await _policies(client, tenant, w)
    async with services.uow() as uow:
        alarm = await alarms.raise_alarm(uow, tenant.id, _raise(w["tracker"]["id"], w["carrier"]["id"]))
        again = await alarms.raise_alarm(uow, tenant.id, _raise(w["tracker"]["id"], severity="critical"))
        await uow.commit()
    # The same originator and type: one alarm, counted twice, at the higher severity.
    assert again["id"] == alarm["id"] and again["raise_count"] == 2 and again["severity"] == "critical"
    shown = (await client.get(f"/v1/alarms/{alarm['id']}", headers=tenant.headers)).json()
    assert 0 < shown["sla"]["remaining_s"] <= 60 and not shown["sla"]["breached"]

    later = utcnow() + timedelta(seconds=61)
    async with services.uow() as uow:
        assert await alarms.escalate_due(uow, later) == 1
        await uow.commit()
    shown = (await client.get(f"/v1/alarms/{alarm['id']}", headers=tenant.headers)).json()
    assert (shown["escalation_level"], shown["assignee"]) == (1, "carrier-dispatch")
    async with services.uow() as uow:
        assert await alarms.escalate_due(uow, later + timedelta(seconds=301)) == 1
        assert await alarms.escalate_due(uow, later + timedelta(seconds=10_000)) == 0  # top level
        await uow.commit()
    shown = (await client.get(f"/v1/alarms/{alarm['id']}", headers=tenant.headers)).json()
    assert (shown["escalation_level"], shown["assignee"]) == (2, "carrier-manager")
    events = await client.get(
        "/v1/events", params={"subject": f"alarms/{alarm['id']}"}, headers=tenant.headers
    )
    kinds = [e["type"] for e in events.json()["items"]]
    assert kinds.count("supplyline.alarm.escalated.v1") == 2


async def test_an_acknowledged_alarm_stops_its_clock_and_the_default_policy_applies_elsewhere(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services
) -> None:
    w = await world(client, tenant.headers)
    await _policies(client, tenant, w)
    async with services.uow() as uow:
        alarm = await alarms.raise_alarm(uow, tenant.id, _raise(w["tracker"]["id"]))  # no owner
        await uow.commit()
    shown = (await client.get(f"/v1/alarms/{alarm['id']}", headers=tenant.headers)).json()
    assert 540 < shown["sla"]["remaining_s"] <= 600
    r = await client.post(f"/v1/alarms/{alarm['id']}/acknowledge", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["sla"]["ack_due_at"] is None
    async with services.uow() as uow:
        assert await alarms.escalate_due(uow, utcnow() + timedelta(hours=2)) == 0
    listed = (await client.get("/v1/alarms", params={"status": "active_ack"}, headers=tenant.headers)).json()
    assert [a["id"] for a in listed["items"]] == [str(alarm["id"])]
    r = await client.get("/v1/alarms", params={"status": "bogus"}, headers=tenant.headers)
    assert r.status_code == 422
    # Newest first, a page at a time.
    async with services.uow() as uow:
        for n in range(3):
            cmd = _raise(w["tracker"]["id"])
            cmd = alarms.RaiseAlarm(**{**cmd.__dict__, "type": f"other-{n}"})
            await alarms.raise_alarm(uow, tenant.id, cmd)
        await uow.commit()
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/alarms", params=params, headers=tenant.headers)).json()
        seen += [a["type"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["other-2", "other-1", "other-0", "cold-chain-max"]
