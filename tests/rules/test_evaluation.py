"""Rules meet the readings as they are stored: a signed reading over HTTP raises a rule's
condition in the same transaction, a restart resumes a duration, a backlog is recorded as late."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from supplyline.bootstrap import Services
from tests.conftest import TenantCtx
from tests.rules import support
from tests.telemetry.fleet import Device, fleet, now_ms, send

MIN = 60_000


@pytest.fixture
async def w(client: httpx.AsyncClient, tenant: TenantCtx, services: Services) -> dict[str, Any]:
    # Rules are read again every batch here (in service, within ttl seconds of a change).
    services.telemetry.writer.evaluators[:] = [support.evaluator(services)]
    return await fleet(client, tenant)


def reading(seq: int, ts: int, temp: float) -> dict[str, Any]:
    return {"device": "trk-001", "seq": seq, "ts": ts, "metrics": {"temperature_c": temp}}


def above(value: float, kind: str = "threshold", **extra: Any) -> dict[str, Any]:
    """A condition on temperature_c being above ``value``."""
    return {"kind": kind, "metric": "temperature_c", "op": ">", "value": value, **extra}


async def add_rule(client: httpx.AsyncClient, tenant: TenantCtx, **body: Any) -> dict[str, Any]:
    r = await client.post("/v1/rules", json={"name": "Cold chain", **body}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def transitions(client: httpx.AsyncClient, tenant: TenantCtx, rule: dict[str, Any]) -> list[Any]:
    r = await client.get("/v1/events", params={"subject": f"rules/{rule['id']}"}, headers=tenant.headers)
    return [
        (e["data"]["transition"], e["data"]["value"], e["data"]["late"], e["data"]["device"])
        for e in r.json()["items"]
        if "condition_" in e["type"]
    ]


async def test_a_reading_beyond_a_threshold_raises_and_a_return_clears(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    rule = await add_rule(client, tenant, code="cold-chain-max", condition=above(8, clear_at=7))
    t = now_ms() - 3 * MIN
    for seq, temp in enumerate([4.0, 9.0, 7.5, 6.5], start=1):
        assert (await send(client, tracker, reading(seq, t + seq * MIN // 2, temp))).status_code == 200
    assert await transitions(client, tenant, rule) == [
        ("raised", 9.0, False, "trk-001"),
        ("cleared", 6.5, False, "trk-001"),
    ]


async def test_the_most_specific_rule_applies_and_a_disabled_one_silences_its_site(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]  # on the reefer at the Lyon DC, in region EU
    default = await add_rule(client, tenant, code="max", condition=above(8))
    regional = await add_rule(client, tenant, code="max", region_id=w["region"]["id"], condition=above(5))
    assert (await send(client, tracker, reading(1, now_ms(), 6.0))).status_code == 200
    assert await transitions(client, tenant, default) == []
    assert [x[0] for x in await transitions(client, tenant, regional)] == ["raised"]
    # A tenant-wide rule of another code, disabled at this site: silent here.
    anywhere = await add_rule(client, tenant, code="door", condition=above(1))
    await add_rule(client, tenant, code="door", site_id=w["dc"]["id"], enabled=False, condition=above(1))
    assert (await send(client, tracker, reading(2, now_ms(), 6.5))).status_code == 200
    assert await transitions(client, tenant, anywhere) == []


async def test_a_duration_resumes_after_a_restart(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any], services: Services
) -> None:
    tracker: Device = w["devices"]["tracker"]
    rule = await add_rule(client, tenant, code="warm-too-long", condition=above(8, "duration", for_s=600))
    t = now_ms() - 9 * MIN
    assert (await send(client, tracker, reading(1, t, 9.0))).status_code == 200
    assert (await send(client, tracker, reading(2, t + 5 * MIN, 9.5))).status_code == 200
    # A restart: a new evaluator knows only what the database kept.
    services.telemetry.writer.evaluators[:] = [support.evaluator(services)]
    assert await transitions(client, tenant, rule) == []
    assert (await send(client, tracker, reading(3, t + 9 * MIN, 9.2))).status_code == 200
    assert await transitions(client, tenant, rule) == []
    assert (await send(client, tracker, reading(4, t + 10 * MIN, 9.1))).status_code == 200
    assert await transitions(client, tenant, rule) == [("raised", 9.1, False, "trk-001")]


async def test_a_replayed_backlog_is_recorded_but_not_raised_as_now(
    client: httpx.AsyncClient, tenant: TenantCtx, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    rule = await add_rule(client, tenant, code="cold-chain-max", condition=above(8))
    six_hours_ago = now_ms() - 360 * MIN
    backlog = {
        "readings": [reading(i + 1, six_hours_ago + i * 5 * MIN, t) for i, t in enumerate([5, 10, 11, 5])]
    }
    assert (await send(client, tracker, backlog)).status_code == 200
    assert await transitions(client, tenant, rule) == [
        ("raised", 10.0, True, "trk-001"),
        ("cleared", 5.0, True, "trk-001"),
    ]
