"""The rule actions, one handler per kind, in one registry (``ACTIONS``).

A handler is asked for what the raised condition calls for through the package of the
capability that owns the effect: an alarm of ``alarms``, a hold of ``logistics``, a work order
of ``maintenance``, a webhook of ``integrations``; each of those publishes its own events.
Rules publish only their own (the compliance record). ``RuleActions`` refuses to start when
the registry and the kinds a rule may name (``model.ActionType``) differ, so a kind is never
accepted by validation and missing at run time.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from supplyline import alarms, integrations, logistics, maintenance, registry
from supplyline.eventlog import ConsumerWork
from supplyline.kernel.events import NewEvent, StoredEvent
from supplyline.rules.events import EXCURSION_RECORDED
from supplyline.rules.model import ActionType


@dataclass
class Raised:
    """A raised condition as its actions see it: what the rule and the device's context were
    when it was read, and the outcome the actions fill in (kept in ``rules_action_log``)."""

    work: ConsumerWork
    book: alarms.AlarmBook
    event: StoredEvent
    tenant: uuid.UUID
    rule: dict[str, Any] | None  # None: the rule is gone (its backlog is still recorded)
    place: registry.DevicePlace | None
    carried: list[tuple[uuid.UUID, list[uuid.UUID]]]  # shipments with their lots
    lot_ids: list[uuid.UUID]
    outcome: dict[str, Any]
    alarm_id: uuid.UUID | None = None  # set by raise_alarm; what later actions name

    @property
    def live_rule(self) -> dict[str, Any]:
        """The rule, for actions that respond (only a live rule's do)."""
        assert self.rule is not None
        return self.rule

    @property
    def data(self) -> dict[str, Any]:
        return self.event.data


Run = Callable[[Raised, Mapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Handler:
    run: Run  # (the condition, the action's params)
    # A record, not a response: it runs first, and for a backlog (late) excursion too, which
    # raises and holds nothing because it is not happening now.
    record: bool = False
    # It writes only through the batch's AlarmBook or staged events, so a batch of conditions
    # with nothing else runs together (``RuleActions.handle_batch``).
    batched: bool = False


async def raise_alarm(c: Raised, params: Mapping[str, Any]) -> None:
    rule, data, place = c.live_rule, c.data, c.place
    device_id = uuid.UUID(data["device_id"])
    alarm = await c.book.raise_(
        c.work,
        c.tenant,
        alarms.RaiseAlarm(
            type=rule["code"],
            severity=rule["severity"],
            originator_kind="device",
            originator_id=device_id,
            originator=data["device"] or str(device_id),
            at=datetime.fromisoformat(data["at"]),
            rule_id=rule["id"],
            device_id=device_id,
            asset_id=place.asset_id if place else None,
            site_id=place.site_id if place else None,
            shipment_id=c.carried[0][0] if c.carried else None,
            lot_ids=c.lot_ids,
            owner_organization_id=place.owner_organization_id if place else None,
            details={"metric": data["metric"], "value": data["value"], "at": data["at"]},
            correlation_id=c.event.correlation_id,
        ),
    )
    c.alarm_id = alarm["id"]
    c.outcome["alarm_id"] = str(c.alarm_id)


async def hold_lots(c: Raised, params: Mapping[str, Any]) -> None:
    """Every lot of the shipments the device travels with, held by logistics."""
    rule, data = c.live_rule, c.data
    await c.book.flush()  # the holds name the alarm
    reason = f"{rule['name']}: {data['metric']} {data['value']:g} at {data['at']} ({data['device']})"
    for shipment_id, lots in c.carried:
        for lot in lots:
            cmd = logistics.HoldLot(
                lot_id=lot,
                reason=reason,
                held_by=f"rule:{rule['code']}",
                cause_event_id=c.event.id,
                shipment_id=shipment_id,
                alarm_id=c.alarm_id,
                rule_id=rule["id"],
                correlation_id=c.event.correlation_id,
            )
            hold, _ = await logistics.hold_lot(c.work, c.tenant, cmd)
            c.outcome.setdefault("holds", []).append(str(hold["id"]))


async def create_work_order(c: Raised, params: Mapping[str, Any]) -> None:
    """A work order for the maintainer of the device's asset."""
    rule, data, place = c.live_rule, c.data, c.place
    await c.book.flush()  # the work order names the alarm
    order = await maintenance.open_work_order(
        c.work,
        c.tenant,
        maintenance.OpenWorkOrder(
            title=f"{rule['name']} on {data['device']}",
            asset_id=place.asset_id if place else None,
            device_id=uuid.UUID(data["device_id"]),
            organization_id=place.maintainer_organization_id if place else None,
            alarm_id=c.alarm_id,
            rule_id=rule["id"],
            cause_event_id=c.event.id,
            description=f"{data['metric']} {data['value']:g} at {data['at']}",
            correlation_id=c.event.correlation_id,
        ),
    )
    c.outcome["work_order_id"] = str(order["id"])


async def notify_webhook(c: Raised, params: Mapping[str, Any]) -> None:
    """The condition's CloudEvent, with the shipments and lots it concerns, to ``params.url``
    through the outbox."""
    body = {
        **c.event.cloudevent(),
        "shipments": c.outcome["shipments"],
        "lot_ids": [str(x) for x in c.lot_ids],
    }
    await integrations.queue_webhook(c.work, c.event, str(params.get("url", "")), body, actor="rules")


async def record_compliance(c: Raised, params: Mapping[str, Any]) -> None:
    """The excursion on the compliance record (``compliance.excursion_recorded``), which the
    ledger checkpoints."""
    d = c.data
    data = {
        "rule_id": d["rule_id"],
        "code": d["code"],
        "device_id": d["device_id"],
        "device": d["device"],
        "metric": d["metric"],
        "value": d["value"],
        "at": d["at"],
        "late": d["late"],
        "shipment_ids": [str(s) for s, _ in c.carried],
        "lot_ids": [str(x) for x in c.lot_ids],
    }
    c.work.publish(
        NewEvent(
            type=EXCURSION_RECORDED.type,
            tenant_id=c.tenant,
            subject=f"rules/{d['rule_id']}",
            source="/supplyline/rules",
            data=data,
            actor="rules",
        )
    )


ACTIONS: Mapping[ActionType, Handler] = {
    "raise_alarm": Handler(raise_alarm, batched=True),
    "hold_lots": Handler(hold_lots),
    "create_work_order": Handler(create_work_order),
    "notify_webhook": Handler(notify_webhook),
    "record_compliance": Handler(record_compliance, record=True, batched=True),
}


def check_actions(handled: Iterable[str]) -> None:
    """The kinds a rule may name and the kinds with a handler must be the same set."""
    kinds, handlers = set(get_args(ActionType)), set(handled)
    if missing := kinds - handlers:
        raise RuntimeError(f"rule actions without a handler: {', '.join(sorted(missing))}")
    if extra := handlers - kinds:
        raise RuntimeError(
            f"handlers of no rule action kind (add them to ActionType): {', '.join(sorted(extra))}"
        )
