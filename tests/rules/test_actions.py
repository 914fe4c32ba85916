"""From a reading to decisions: a rule's condition becomes the shipment's exception, an alarm,
holds on its lots (out of sellable stock), a work order, a webhook and checkpoints; all of it
carries the reading's correlation id, is idempotent on replay, and a late backlog only records."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import event

from supplyline import integrations, logistics
from supplyline.bootstrap import Services
from supplyline.kernel.events import NewEvent
from supplyline.kernel.uow import UnitOfWork
from tests.conftest import TenantCtx
from tests.factories import post
from tests.rules import support
from tests.telemetry.fleet import Device, fleet, now_ms, send

MIN = 60_000
ACTIONS = [
    {"type": "raise_alarm"},
    {"type": "hold_lots"},
    {"type": "create_work_order"},
    {"type": "notify_webhook", "params": {"url": "http://127.0.0.1:9/hook"}},
    {"type": "record_compliance"},
]


@pytest.fixture
async def w(client: httpx.AsyncClient, tenant: TenantCtx, services: Services) -> dict[str, Any]:
    services.telemetry.writer.evaluators[:] = [support.evaluator(services)]
    w = await fleet(client, tenant)
    h = tenant.headers
    w["position"] = await post(
        client,
        h,
        "inventory-positions",
        {
            "site_id": w["dc"]["id"],
            "product_id": w["product"]["id"],
            "lot_id": w["lot"]["id"],
            "on_hand": 600,
            "allocated": 100,
            "unit": "each",
        },
    )
    w["shipment"] = await post(
        client,
        h,
        "shipments",
        {
            "number": "SHP-1",
            "status": "in_transit",
            "origin_site_id": w["dc"]["id"],
            "destination_site_id": w["store"]["id"],
            "lots": [{"lot_id": w["lot"]["id"], "quantity": 400, "unit": "each"}],
            "devices": [{"device_id": w["tracker"]["id"], "assigned_at": "2026-01-01T00:00:00Z"}],
        },
    )
    w["rule"] = await post(
        client,
        h,
        "rules",
        {
            "code": "cold-chain-max",
            "name": "Vaccines above 8 C",
            "severity": "critical",
            "condition": {
                "kind": "threshold",
                "metric": "temperature_c",
                "op": ">",
                "value": 8,
                "clear_at": 7,
            },
            "actions": ACTIONS,
        },
    )
    return w


def reading(seq: int, ts: int, temp: float) -> dict[str, Any]:
    return {"device": "trk-001", "seq": seq, "ts": ts, "metrics": {"temperature_c": temp}}


async def settle(services: Services) -> None:
    for name in ("rules.actions", "trace.checkpoints"):
        await services.consumers.catch_up(name)


async def get(client: httpx.AsyncClient, tenant: TenantCtx, path: str, **params: Any) -> Any:
    r = await client.get(path, params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_an_excursion_holds_the_shipments_lots_and_records_everything_once(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    raw, headers = tracker.signed(reading(1, now_ms() - MIN, 9.4))
    r = await client.post("/v1/telemetry", content=raw, headers={**headers, "X-Correlation-Id": "reading-42"})
    assert r.status_code == 200, r.text
    await settle(services)

    exceeded = await get(client, tenant, "/v1/events", type="supplyline.shipment.temperature_exceeded.v1")
    assert [e["subject"] for e in exceeded["items"]] == [f"shipments/{w['shipment']['id']}"]
    assert exceeded["items"][0]["data"]["value"] == 9.4
    # Every consequence carries the correlation id of the request that brought the reading.
    chain = await get(client, tenant, "/v1/events", correlation_id="reading-42")
    kinds = {e["type"].split(".", 1)[1].rsplit(".", 1)[0] for e in chain["items"]}
    assert kinds >= {
        "rule.condition_raised",
        "shipment.temperature_exceeded",
        "alarm.raised",
        "lot.held",
        "work_order.opened",
        "notification.queued",
        "compliance.excursion_recorded",
    }

    (alarm,) = (await get(client, tenant, "/v1/alarms"))["items"]
    assert alarm["status"] == "active_unack" and alarm["severity"] == "critical"
    assert alarm["shipment_id"] == w["shipment"]["id"] and alarm["lot_ids"] == [w["lot"]["id"]]
    assert alarm["asset_id"] == w["trailer"]["id"] and alarm["originator"] == "trk-001"
    by_lot = await get(client, tenant, "/v1/alarms", lot_id=w["lot"]["id"])
    assert [a["id"] for a in by_lot["items"]] == [alarm["id"]]
    other_lot = await get(client, tenant, "/v1/alarms", lot_id=w["product"]["id"])
    assert other_lot["items"] == []
    (hold,) = (await get(client, tenant, "/v1/holds", status="active"))["items"]
    assert hold["lot_id"] == w["lot"]["id"] and hold["alarm_id"] == alarm["id"]
    lot = await get(client, tenant, f"/v1/lots/{w['lot']['id']}")
    assert lot["status"] == "quarantined"
    position = await get(client, tenant, f"/v1/inventory-positions/{w['position']['id']}")
    assert (position["held"], position["sellable"]) == (600, 0)
    assert len((await get(client, tenant, "/v1/work-orders"))["items"]) == 1
    (hook,) = (await get(client, tenant, "/v1/deliveries", status="pending"))["items"]
    assert hook["target"] == "webhook" and hook["correlation_id"] == "reading-42"
    checkpoints = (await get(client, tenant, "/v1/ledger/checkpoints"))["items"]
    assert {c["event_type"] for c in checkpoints} >= {
        "supplyline.shipment.temperature_exceeded.v1",
        "supplyline.lot.held.v1",
    }

    # A replay of the actions does nothing twice.
    await services.consumers.replay("rules.actions")
    assert len((await get(client, tenant, "/v1/alarms"))["items"]) == 1
    assert len((await get(client, tenant, "/v1/holds"))["items"]) == 1
    assert len((await get(client, tenant, "/v1/work-orders"))["items"]) == 1
    again = await get(client, tenant, "/v1/events", type="supplyline.lot.held.v1")
    assert len(again["items"]) == 1
    assert (await get(client, tenant, "/v1/ledger/verify"))["ok"] is True

    # The reading going back below the clear level clears the alarm (still unacknowledged).
    assert (await send(client, tracker, reading(2, now_ms(), 6.5))).status_code == 200
    await settle(services)
    cleared = await get(client, tenant, f"/v1/alarms/{alarm['id']}")
    assert cleared["status"] == "cleared_unack"


async def test_people_work_the_alarm_and_only_an_approver_releases_the_hold(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    assert (await send(client, tracker, reading(1, now_ms(), 10.0))).status_code == 200
    await settle(services)
    (alarm,) = (await get(client, tenant, "/v1/alarms", status="active_unack"))["items"]
    h = tenant.headers
    path = f"/v1/alarms/{alarm['id']}"
    assert (await client.post(f"{path}/assign", json={"assignee": "qa-lyon"}, headers=h)).status_code == 200
    r = await client.post(f"{path}/comments", json={"text": "Checking the reefer"}, headers=h)
    assert r.status_code == 201, r.text
    r = await client.post(f"{path}/acknowledge", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "active_ack"
    shown = await get(client, tenant, path)
    assert shown["assignee"] == "qa-lyon" and [c["text"] for c in shown["comments"]] == [
        "Checking the reefer"
    ]
    assert shown["sla"]["ack_due_at"] is None

    (hold,) = (await get(client, tenant, "/v1/holds"))["items"]
    r = await client.post("/v1/api-keys", json={"name": "ops", "role": "operator"}, headers=h)
    operator = {"Authorization": f"Bearer {r.json()['token']}"}
    release = f"/v1/holds/{hold['id']}/release"
    r = await client.post(release, json={"reason": "probe log fine"}, headers=operator)
    assert r.status_code == 403, r.text
    r = await client.post(release, json={"reason": "probe log fine"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "released", r.text
    assert (await client.post(release, json={"reason": "again"}, headers=h)).status_code == 409
    lot = await get(client, tenant, f"/v1/lots/{w['lot']['id']}")
    position = await get(client, tenant, f"/v1/inventory-positions/{w['position']['id']}")
    assert lot["status"] == "available" and (position["held"], position["sellable"]) == (0, 500)
    await settle(services)
    kinds = [c["event_type"] for c in (await get(client, tenant, "/v1/ledger/checkpoints"))["items"]]
    assert "supplyline.lot.released.v1" in kinds


async def test_a_late_backlog_is_recorded_for_compliance_without_an_alarm_or_hold(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    old = now_ms() - 300 * MIN
    backlog = {"readings": [reading(i + 1, old + i * 5 * MIN, t) for i, t in enumerate([5, 11, 5])]}
    assert (await send(client, tracker, backlog)).status_code == 200
    await settle(services)
    assert (await get(client, tenant, "/v1/alarms"))["items"] == []
    assert (await get(client, tenant, "/v1/holds"))["items"] == []
    recorded = await get(client, tenant, "/v1/events", type="supplyline.compliance.excursion_recorded.v1")
    assert [e["data"]["late"] for e in recorded["items"]] == [True]
    exceeded = await get(client, tenant, "/v1/events", type="supplyline.shipment.temperature_exceeded.v1")
    assert [e["data"]["late"] for e in exceeded["items"]] == [True]


async def test_disabling_a_rule_clears_its_open_alarms_with_the_reason(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    tracker: Device = w["devices"]["tracker"]
    assert (await send(client, tracker, reading(1, now_ms(), 10.0))).status_code == 200
    await settle(services)
    r = await client.patch(f"/v1/rules/{w['rule']['id']}", json={"enabled": False}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    await settle(services)
    (alarm,) = (await get(client, tenant, "/v1/alarms"))["items"]
    assert alarm["status"] == "cleared_unack"
    events = await get(client, tenant, "/v1/events", subject=f"alarms/{alarm['id']}")
    assert "rule disabled" in events["items"][-1]["data"]["reason"]


async def test_a_flapping_sensors_alarms_are_written_a_batch_at_a_time_and_match_one_at_a_time(
    client: httpx.AsyncClient, tenant: TenantCtx, services: Services, w: dict[str, Any]
) -> None:
    """Conditions that only raise and clear alarms are taken a batch at a time (on SQLite the
    consumer's transaction holds the write lock ingestion waits for): a handful of statements
    on the alarms and the action log for 21 conditions, with the alarms and events that taking
    them one by one gives."""
    rule = {
        "code": "humid",
        "name": "Humid",
        "severity": "minor",
        "condition": {"kind": "threshold", "metric": "humidity_pct", "op": ">", "value": 90},
        "actions": [{"type": "raise_alarm"}],
    }
    await post(client, tenant.headers, "rules", rule)
    start = now_ms() - 5 * MIN
    values = [95.0, 50.0] * 10 + [95.0]
    body = {
        "readings": [
            {"device": "cr-0", "seq": i + 1, "ts": start + i * 10_000, "metrics": {"humidity_pct": v}}
            for i, v in enumerate(values)
        ]
    }
    assert (await send(client, w["devices"]["cr-0"], body)).status_code == 200

    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sync_engine = services.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", seen)
    try:
        await services.consumers.catch_up("rules.actions")
    finally:
        event.remove(sync_engine, "before_cursor_execute", seen)
    on_alarms = [s for s in statements if "alarms_alarm" in s]
    on_log = [s for s in statements if "rules_action_log" in s]
    assert len(on_alarms) <= 3 and len(on_log) <= 2, (on_alarms, on_log)

    found = [a for a in (await get(client, tenant, "/v1/alarms", limit=100))["items"] if a["type"] == "humid"]
    assert len(found) == 11
    assert sorted(a["status"] for a in found) == ["active_unack"] + ["cleared_unack"] * 10
    raised = await get(client, tenant, "/v1/events", type="supplyline.alarm.raised.v1", limit=100)
    cleared = await get(client, tenant, "/v1/events", type="supplyline.alarm.cleared.v1", limit=100)
    assert len(raised["items"]) == 11 and len(cleared["items"]) == 10
    # Each alarm is raised before it is cleared, in the log's order.
    order = {e["subject"]: e["position"] for e in raised["items"]}
    assert all(order[e["subject"]] < e["position"] for e in cleared["items"])

    # A replay finds every condition done.
    await services.consumers.replay("rules.actions")
    again = [a for a in (await get(client, tenant, "/v1/alarms", limit=100))["items"] if a["type"] == "humid"]
    assert len(again) == 11


class _Recording:
    """A unit of work that notes the ids of the events published through it."""

    def __init__(self, uow: UnitOfWork, ids: set[str]) -> None:
        self._uow, self._ids = uow, ids
        self.correlation_id, self.previous = uow.correlation_id, uow.previous

    @property
    def conn(self) -> Any:
        return self._uow.conn

    def publish(self, ev: NewEvent) -> None:
        self._ids.add(str(ev.id))
        self._uow.publish(ev)


async def test_the_exception_holds_and_webhook_events_are_published_by_their_owners(
    client: httpx.AsyncClient,
    tenant: TenantCtx,
    services: Services,
    w: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rules ask logistics for the shipment's exception and the holds, and integrations for the
    webhook: each event of theirs on the log was published by their package's function."""
    by_logistics: set[str] = set()
    by_integrations: set[str] = set()
    record_excursion, hold_lot = logistics.record_excursion, logistics.hold_lot
    queue_webhook = integrations.queue_webhook

    def recorded(uow: UnitOfWork, *args: Any, **kw: Any) -> Any:
        return record_excursion(_Recording(uow, by_logistics), *args, **kw)  # type: ignore[arg-type]

    async def held(uow: UnitOfWork, *args: Any, **kw: Any) -> Any:
        return await hold_lot(_Recording(uow, by_logistics), *args, **kw)  # type: ignore[arg-type]

    async def queued(uow: UnitOfWork, *args: Any, **kw: Any) -> Any:
        return await queue_webhook(_Recording(uow, by_integrations), *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(logistics, "record_excursion", recorded)
    monkeypatch.setattr(logistics, "hold_lot", held)
    monkeypatch.setattr(integrations, "queue_webhook", queued)
    tracker: Device = w["devices"]["tracker"]
    assert (await send(client, tracker, reading(1, now_ms() - MIN, 9.4))).status_code == 200
    await settle(services)

    def ids(type_: str) -> set[str]:
        return {e["id"] for e in log["items"] if e["type"] == type_}

    owned = ["shipment.temperature_exceeded", "lot.held", "notification.queued"]
    log = await get(client, tenant, "/v1/events", type=[f"supplyline.{t}.v1" for t in owned])
    exceeded = ids("supplyline.shipment.temperature_exceeded.v1")
    held_ids = ids("supplyline.lot.held.v1")
    queued_ids = ids("supplyline.notification.queued.v1")
    assert len(exceeded) == 1 and len(held_ids) == 1 and len(queued_ids) == 1
    assert exceeded | held_ids == by_logistics
    assert queued_ids == by_integrations
    (note,) = [e for e in log["items"] if e["id"] in queued_ids]
    # Filed under what caused it, as before: the rule's subject and source.
    assert (note["subject"], note["source"]) == (f"rules/{w['rule']['id']}", "/supplyline/rules")
