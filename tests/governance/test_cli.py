"""``supplyline governance purge``: an operator runs the purge now and sees what went."""

from __future__ import annotations

import json
from datetime import timedelta

from supplyline import access, governance
from supplyline.bootstrap import Services
from supplyline.kernel.clock import utcnow
from supplyline.kernel.events import NewEvent
from supplyline.kernel.scope import Scope
from supplyline.telemetry.events import TELEMETRY_PURGED
from tests.cli.conftest import Invoke, with_services
from tests.governance.conftest import catch_up


async def _old_event_and_a_retention(svc: Services) -> None:
    async with svc.read_engine.connect() as conn:
        acme = (await access.get_tenant_by_slug(conn, "acme")).id
    scope = Scope.system(acme)
    async with svc.uow() as uow:
        days: dict[governance.DataClass, int | None] = {
            "telemetry": None,
            "events": 7,
            "audit": None,
            "traceability": None,
        }
        await governance.set_retention(uow, scope, days, svc.settings.telemetry_retention_days)
        data = {"readings": 3, "at": "2026-01-01T00:00:00+00:00"}
        old = utcnow() - timedelta(days=30)
        uow.publish(NewEvent(TELEMETRY_PURGED.type, acme, f"tenants/{acme}/telemetry", data, time=old))
        await uow.commit()
    await catch_up(svc)


def test_purge_now_reports_what_went_and_the_ledger_still_verifies(migrated: None, invoke: Invoke) -> None:
    invoke("admin", "create-tenant", "acme", "--name", "Acme", "--json")
    with_services(_old_event_and_a_retention)

    report = json.loads(invoke("governance", "purge", "--tenant", "acme", "--json").output)
    assert report["telemetry_readings"] == 0
    (events,) = report["purges"]
    assert {k: events[k] for k in ("data_class", "days", "deleted", "held")} == {
        "data_class": "events",
        "days": 7,
        "deleted": 1,
        "held": False,
    }

    text = invoke("governance", "purge").output
    assert "Telemetry: 0 readings purged." in text and "events" in text
    with_services(catch_up)
    assert "no problems" in invoke("ledger", "verify").output
