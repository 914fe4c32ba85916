"""What evaluating a batch leaves behind, in the readings' transaction: a condition event for
each transition (``rule.condition_raised`` / ``rule.condition_cleared``, which the actions
consumer turns into alarms and holds), and the states that changed, written together.

Only states that changed are written: a comparison whose newest reading's time alone moved is
not (the screen keeps such pairs out of order-checks with the devices' newest times instead).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from supplyline.db.dialect import upsert
from supplyline.kernel.events import NewEvent
from supplyline.kernel.uow import UnitOfWork
from supplyline.rules.engine import Transition
from supplyline.rules.events import CONDITION_CLEARED, CONDITION_RAISED
from supplyline.rules.tables import rules_state


class Effects:
    """One tenant's effects of one batch (or sweep): events staged on the unit of work as they
    are found, changed states kept and written by ``write``; both carry the time given."""

    def __init__(self, uow: UnitOfWork, tenant_id: uuid.UUID, now: datetime) -> None:
        self.uow = uow
        self.tenant_id = tenant_id
        self.now = now
        self.published = 0
        self._rows: list[dict[str, Any]] = []

    def transition(
        self, rule: Mapping[str, Any], device: uuid.UUID, code: str, t: Transition, correlation_id: str
    ) -> None:
        self.uow.publish(condition_event(self.tenant_id, rule, device, code, t, correlation_id, self.now))
        self.published += 1

    def changed(self, rule: Mapping[str, Any], device: uuid.UUID, state: dict[str, Any]) -> None:
        self._rows.append(
            {
                "rule_id": rule["id"],
                "device_id": device,
                "tenant_id": rule["tenant_id"],
                "state": state,
                "updated_at": self.now,
            }
        )

    async def write(self) -> None:
        await upsert(
            self.uow.conn,
            rules_state,
            self._rows,
            keys=("rule_id", "device_id"),
            update=("state", "updated_at"),
        )
        self._rows = []


def moved(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Worth writing: something other than the newest reading's time changed."""
    return {k: v for k, v in before.items() if k != "last_ts_ms"} != {
        k: v for k, v in after.items() if k != "last_ts_ms"
    } or (before.get("last_ts_ms") is None) != (after.get("last_ts_ms") is None)


def condition_event(
    tenant_id: uuid.UUID,
    rule: Mapping[str, Any],
    device: uuid.UUID,
    code: str,
    t: Transition,
    correlation_id: str,
    now: datetime,
) -> NewEvent:
    kind = CONDITION_RAISED if t.kind == "raised" else CONDITION_CLEARED
    value = t.value if t.value == t.value else 0.0  # NaN (no single value) is not JSON
    return NewEvent(
        type=kind.type,
        tenant_id=tenant_id,
        subject=f"rules/{rule['id']}",
        source="/supplyline/rules",
        data={
            "rule_id": str(rule["id"]),
            "code": rule["code"],
            "severity": rule["severity"],
            "device_id": str(device),
            "device": code,
            "metric": t.metric or "",
            "value": value,
            "at": datetime.fromtimestamp(t.at_ms / 1000, UTC).isoformat(),
            "late": t.late,
            "transition": t.kind,
        },
        time=now,
        actor="rules",
        correlation_id=correlation_id,
    )
