"""The evaluator reads time from the one clock it is given: a clock set in the past decides
which transitions are live (not a backlog), and is the time of the states and events written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from supplyline.bootstrap import Services
from supplyline.rules.tables import rules_state
from tests.conftest import TenantCtx
from tests.rules import support
from tests.rules.test_evaluation import above, add_rule, reading, transitions
from tests.telemetry.fleet import Device, fleet, now_ms, send

MIN = 60_000


async def test_a_set_clock_decides_what_is_live_and_stamps_what_is_written(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services
) -> None:
    w = await fleet(client, tenant)
    tracker: Device = w["devices"]["tracker"]
    six_hours_ago = now_ms() - 360 * MIN
    # The evaluator's "now" is 12 minutes into a backlog of six hours ago: by that clock the
    # excursion at minute 5 happened 7 minutes ago, inside the live window (by the wall clock
    # it would be a backlog, marked late).
    then = datetime.fromtimestamp((six_hours_ago + 12 * MIN) / 1000, UTC)
    services.telemetry.writer.evaluators[:] = [support.evaluator(services, support.SetClock(then))]
    rule = await add_rule(client, tenant, code="cold-chain-max", condition=above(8, clear_at=7))
    temps = [5.0, 10.0, 11.0]
    backlog = {"readings": [reading(i + 1, six_hours_ago + i * 5 * MIN, t) for i, t in enumerate(temps)]}
    assert (await send(client, tracker, backlog)).status_code == 200

    r = await client.get("/v1/events", params={"subject": f"rules/{rule['id']}"}, headers=tenant.headers)
    raised: list[dict[str, Any]] = [e for e in r.json()["items"] if "condition_" in e["type"]]
    assert [(e["data"]["transition"], e["data"]["late"]) for e in raised] == [("raised", False)]
    assert datetime.fromisoformat(raised[0]["time"]) == then
    async with services.read_engine.connect() as conn:
        stored = (await conn.execute(select(rules_state.c.updated_at, rules_state.c.state))).all()
    assert [(row.updated_at, row.state["holding"]) for row in stored] == [(then, True)]

    # The same clock moved on past the live window: the next excursion is a backlog.
    later = support.SetClock(then + timedelta(hours=2))
    services.telemetry.writer.evaluators[:] = [support.evaluator(services, later)]
    more = [6.0, 12.0]
    body = {"readings": [reading(i + 4, six_hours_ago + (i + 3) * 5 * MIN, t) for i, t in enumerate(more)]}
    assert (await send(client, tracker, body)).status_code == 200
    changes = [(x[0], x[2]) for x in await transitions(client, tenant, rule)]
    assert changes == [("raised", False), ("cleared", True), ("raised", True)]


async def test_a_dry_run_without_an_end_ends_at_the_services_clock(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services
) -> None:
    await fleet(client, tenant)
    services.clock = support.SetClock(datetime(2024, 6, 1, tzinfo=UTC))
    rule = {"code": "max", "name": "Max", "condition": above(8)}
    body = {"rule": rule, "from": "2024-06-01T00:00:00Z"}
    r = await client.post("/v1/rules/dry-run", json=body, headers=tenant.headers)
    assert r.status_code == 422, r.text  # "to" (the clock's now) is not after "from"
    assert [e["field"] for e in r.json()["errors"]] == ["to"]
    body = {"rule": rule, "from": "2024-05-31T00:00:00Z"}
    r = await client.post("/v1/rules/dry-run", json=body, headers=tenant.headers)
    assert r.status_code == 200, r.text
