"""What a rule does when its condition starts or stops holding: an event-log consumer.

The evaluator only records that a condition changed (inside the readings' transaction, so it
stays cheap); this consumer asks logistics for the shipment's business exception and runs the
rule's actions, each by its handler in ``rules.handlers`` (an alarm, holds on the shipment's
lots, a work order for the asset's maintainer, a webhook, a compliance record). Everything it
does commits with its log position and carries the correlation id of the reading that caused
it; a replayed event finds its entry in ``rules_action_log`` and does nothing twice.

A backlog (a ``late`` change) is recorded for compliance and on the shipment, and raises no
alarm and holds nothing: it is not happening now, and an inspector decides from the record.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import alarms, logistics, registry
from supplyline.eventlog import ConsumerWork, EventLog
from supplyline.kernel.clock import Clock
from supplyline.kernel.events import NewEvent, StoredEvent
from supplyline.kernel.scope import Scope
from supplyline.rules.events import CONDITION_CLEARED, CONDITION_RAISED
from supplyline.rules.handlers import ACTIONS, Raised, check_actions
from supplyline.rules.tables import rules_action_log, rules_rule

# What a backlog takes when its rule lists no record (see the module's docstring).
_BACKLOG_RECORD: Mapping[str, Any] = {"type": "record_compliance", "params": {}}
RULE_UPDATED = "supplyline.rule.updated.v1"
RULE_ARCHIVED = "supplyline.rule.archived.v1"


class RuleActions:
    name = "rules.actions"
    # Events a transaction: conditions that only raise and clear alarms cost a few statements a
    # batch, but one with holds or work orders still costs a dozen of its own.
    batch_size = 200

    def __init__(self, log: EventLog, clock: Clock) -> None:
        check_actions(ACTIONS)
        self.log = log
        self.clock = clock  # the time of each action log entry
        self._context: dict[uuid.UUID, _Context] = {}

    def accepts(self, event_type: str) -> bool:
        return event_type in (CONDITION_RAISED.type, CONDITION_CLEARED.type, RULE_UPDATED, RULE_ARCHIVED)

    async def reset(self, conn: AsyncConnection) -> None:
        """Nothing to forget: alarms and holds are not a projection, and the action log makes a
        replay find what was already done."""

    async def handle(self, conn: AsyncConnection, event: StoredEvent) -> None:
        await self.handle_batch(conn, [event])

    async def handle_batch(self, conn: AsyncConnection, events: list[StoredEvent]) -> None:
        """A batch in a handful of statements when its conditions only raise and clear alarms:
        one read of what was already done, one of the open alarms, then the alarms, the events
        and the action log written together (``AlarmBook``). A condition with other actions
        (holds, work orders, webhooks) or a rule change runs on its own, after what came
        before it is written, as the consumer always did."""
        events = [e for e in events if e.tenant_id is not None]
        if not events:
            return
        log = rules_action_log
        got = await conn.execute(select(log.c.event_id).where(log.c.event_id.in_([e.id for e in events])))
        done = {r.event_id for r in got}
        todo = [e for e in events if e.id not in done]
        book = alarms.AlarmBook(conn)
        await book.load(
            {
                (_tenant(e), uuid.UUID(e.data["device_id"]), e.data["code"])
                for e in todo
                if e.type in (CONDITION_RAISED.type, CONDITION_CLEARED.type)
            }
        )
        staged: list[NewEvent] = []
        logged: list[dict[str, Any]] = []
        for event in todo:
            work = ConsumerWork(conn, self.log, event.correlation_id)
            if event.type == CONDITION_CLEARED.type:
                outcome = await self._cleared(work, book, event)
            elif event.type == CONDITION_RAISED.type and self._alarm_only(event):
                outcome = await self._raised(work, book, event)
            else:
                await self._write(conn, book, staged, logged)
                if event.type == CONDITION_RAISED.type:
                    outcome = await self._raised(work, book, event)
                else:
                    outcome = await self._rule_changed(work, event)
                    book.forget()
            staged += work.take()
            logged.append(
                {
                    "event_id": event.id,
                    "tenant_id": event.tenant_id,
                    "rule_id": outcome.pop("rule_id", None),
                    "outcome": outcome,
                    "done_at": self.clock(),
                }
            )
        await self._write(conn, book, staged, logged)

    async def _write(
        self,
        conn: AsyncConnection,
        book: alarms.AlarmBook,
        staged: list[NewEvent],
        logged: list[dict[str, Any]],
    ) -> None:
        """Alarms, then the events that name them, then the action log; the lists are emptied."""
        await book.flush()
        if staged:
            await self.log.append(conn, staged, staged[0].correlation_id or "")
        if logged:
            await conn.execute(rules_action_log.insert(), logged)
        staged.clear()
        logged.clear()

    def _alarm_only(self, event: StoredEvent) -> bool:
        """Whether the condition's rule does nothing but alarms and records (as it was read by
        ``prepare``; unknown: False, it takes the path that reads it)."""
        found = self._context.get(event.id)
        if found is None:
            return False
        rule = found[0]
        return rule is None or all(ACTIONS[a["type"]].batched for a in rule["actions"])

    async def prepare(self, conn: AsyncConnection, events: list[StoredEvent]) -> None:
        """Read what the raised conditions need before the runner opens its write transaction
        (on SQLite that transaction holds the write lock ingestion waits for). A batch names
        the same rules and devices again and again: each is read once."""
        self._context = {}
        rules: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any] | None] = {}
        places: dict[tuple[uuid.UUID, uuid.UUID], registry.DevicePlace | None] = {}
        for event in events:
            if event.type == CONDITION_RAISED.type and event.tenant_id is not None:
                self._context[event.id] = await _context(conn, event, rules, places)

    async def _raised(self, work: ConsumerWork, book: alarms.AlarmBook, event: StoredEvent) -> dict[str, Any]:
        """The shipments' exceptions, then the rule's records, then (live, enabled rules
        only) its responses in the order the rule lists them: an alarm before the holds and
        the work order that name it."""
        data, tenant = event.data, _tenant(event)
        found = self._context.pop(event.id, None) or await _context(work.conn, event, {}, {})
        rule, place, carried, numbers = found
        outcome: dict[str, Any] = {
            "rule_id": uuid.UUID(data["rule_id"]),
            "late": data["late"],
            "shipments": [str(s) for s, _ in carried],
            "actions": [],
        }
        lot_ids = list(dict.fromkeys(lot for _, lots in carried for lot in lots))
        raised = Raised(work, book, event, tenant, rule, place, carried, lot_ids, outcome)
        for shipment_id, lots in carried:
            logistics.record_excursion(work, tenant, _excursion(event, shipment_id, numbers, lots), "rules")
        listed = [] if rule is None else list(rule["actions"])
        records = list({a["type"]: a for a in listed if ACTIONS[a["type"]].record}.values())
        if data["late"] and not records:
            records = [_BACKLOG_RECORD]  # a backlog is recorded whatever the rule lists
        for action in records:
            await self._run(raised, action)
        if data["late"] or rule is None or not rule["enabled"] or rule["archived_at"] is not None:
            return outcome
        for action in listed:
            if not ACTIONS[action["type"]].record:
                await self._run(raised, action)
        return outcome

    @staticmethod
    async def _run(raised: Raised, action: Mapping[str, Any]) -> None:
        await ACTIONS[action["type"]].run(raised, action.get("params") or {})
        raised.outcome["actions"].append(action["type"])

    async def _cleared(
        self, work: ConsumerWork, book: alarms.AlarmBook, event: StoredEvent
    ) -> dict[str, Any]:
        data = event.data
        tenant = _tenant(event)
        cleared = await book.clear_for(
            work,
            tenant,
            uuid.UUID(data["device_id"]),
            data["code"],
            datetime.fromisoformat(data["at"]),
            f"condition cleared: {data['metric']} {data['value']:g}",
            event.correlation_id,
        )
        return {
            "rule_id": uuid.UUID(data["rule_id"]),
            "cleared_alarm": str(cleared["id"]) if cleared else None,
        }

    async def _rule_changed(self, work: ConsumerWork, event: StoredEvent) -> dict[str, Any]:
        """A rule's condition changed, or it was disabled or archived: its conditions in
        progress restart under the new definition, and its open alarms are cleared with the
        change as the reason (recorded on each alarm's event)."""
        tenant = _tenant(event)
        archived = event.type == RULE_ARCHIVED
        record = event.data if archived else event.data["record"]
        changed = [] if archived else list(event.data.get("changed", []))
        if not archived and not {"condition", "enabled"} & set(changed):
            return {"rule_id": uuid.UUID(record["id"]), "effect": "none"}
        rule_id = uuid.UUID(record["id"])
        if archived:
            why = f"rule archived by {event.actor}"
        elif "enabled" in changed and not record["enabled"]:
            why = f"rule disabled by {event.actor}"
        else:
            why = f"rule changed by {event.actor}: {', '.join(changed)}"
        cleared = await alarms.clear_of_rule(work, tenant, rule_id, why, event.correlation_id)
        return {"rule_id": rule_id, "effect": why, "cleared_alarms": cleared}


_Context = tuple[
    dict[str, Any] | None,
    registry.DevicePlace | None,
    list[tuple[uuid.UUID, list[uuid.UUID]]],
    dict[uuid.UUID, str],
]


async def _context(
    conn: AsyncConnection,
    event: StoredEvent,
    rules: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any] | None],
    places: dict[tuple[uuid.UUID, uuid.UUID], registry.DevicePlace | None],
) -> _Context:
    """The rule as it stands, where the device is, and the shipments (with lots) it carried;
    ``rules`` and ``places`` remember what earlier events of the batch read."""
    data, tenant = event.data, _tenant(event)
    scope = Scope.system(tenant, "rules")
    device_id, rule_id = uuid.UUID(data["device_id"]), uuid.UUID(data["rule_id"])
    if (tenant, rule_id) not in rules:
        rules[(tenant, rule_id)] = await _rule(conn, tenant, rule_id)
    if (tenant, device_id) not in places:
        places[(tenant, device_id)] = await registry.device_place(conn, scope, device_id)
    rule, place = rules[(tenant, rule_id)], places[(tenant, device_id)]
    carried = await logistics.shipment_context(conn, scope, device_id, datetime.fromisoformat(data["at"]))
    numbers = await logistics.shipment_numbers(conn, tenant, [s for s, _ in carried]) if carried else {}
    return rule, place, carried, numbers


def _excursion(
    event: StoredEvent, shipment_id: uuid.UUID, numbers: Mapping[uuid.UUID, str], lots: list[uuid.UUID]
) -> logistics.ShipmentExcursion:
    d = event.data
    return logistics.ShipmentExcursion(
        shipment_id=shipment_id,
        shipment_number=numbers.get(shipment_id, ""),
        rule_id=uuid.UUID(d["rule_id"]),
        rule_code=d["code"],
        severity=d["severity"],
        device_id=uuid.UUID(d["device_id"]),
        device=d["device"],
        metric=d["metric"],
        value=d["value"],
        at=d["at"],
        late=d["late"],
        lot_ids=lots,
    )


async def _rule(conn: AsyncConnection, tenant: uuid.UUID, rule_id: uuid.UUID) -> dict[str, Any] | None:
    r = rules_rule
    row = (await conn.execute(select(r).where(r.c.tenant_id == tenant, r.c.id == rule_id))).mappings().first()
    return dict(row) if row else None


def _tenant(event: StoredEvent) -> uuid.UUID:
    assert event.tenant_id is not None  # checked by handle
    return event.tenant_id
