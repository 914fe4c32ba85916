"""Alarm use cases: raise (deduplicated), clear, acknowledge, assign, comment, escalate.

Rules raise and clear through an event-log consumer; people act through the API. Each change
publishes its event in the same transaction as the row it changes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.alarms.events import (
    ALARM_ACKNOWLEDGED,
    ALARM_ASSIGNED,
    ALARM_CLEARED,
    ALARM_COMMENTED,
    ALARM_ESCALATED,
    ALARM_RAISED,
)
from supplyline.alarms.model import SEVERITY_RANK, status_of
from supplyline.alarms.tables import alarms_alarm, alarms_comment, alarms_escalation_policy
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Conflict, NotFound
from supplyline.kernel.events import EventType, NewEvent
from supplyline.kernel.ids import new_id
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.resources import scoped

A = alarms_alarm


@dataclass(frozen=True)
class RaiseAlarm:
    type: str
    severity: str
    originator_kind: str
    originator_id: uuid.UUID
    originator: str
    at: datetime
    rule_id: uuid.UUID | None = None
    device_id: uuid.UUID | None = None
    asset_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    shipment_id: uuid.UUID | None = None
    lot_ids: list[uuid.UUID] = field(default_factory=list)
    owner_organization_id: uuid.UUID | None = None  # picks the escalation policy
    details: dict[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None


Key = tuple[uuid.UUID, uuid.UUID, str]  # (tenant, originator, alarm type)
# What a repeated raise changes, and what a clear changes: written as separate statements, so
# that neither overwrites what the other (or a person acknowledging meanwhile) did not touch.
_RAISED = ("severity", "last_raised_at", "raise_count", "details", "updated_at")
_CLEARED = ("active", "cleared_at", "ack_due_at", "updated_at")


class AlarmBook:
    """The open alarms of a batch of raises and clears, changed in memory, written together.

    A flapping fleet raises and clears alarms by the hundred; a read and a write per alarm
    inside the rule consumer's transaction would hold SQLite's one write lock (which ingestion
    waits for) for most of a second. The book reads the open alarms of every (originator,
    type) a batch names in one statement, applies raises and clears in order in memory,
    publishing each change's event as it happens, and ``flush`` writes the new rows and the
    changes with one statement each. Within its transaction it must be the only writer of
    those alarms: call ``forget`` after changing alarms any other way.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._open: dict[Key, dict[str, Any] | None] = {}
        self._policies: dict[uuid.UUID, list[dict[str, Any]]] = {}
        self._new: dict[uuid.UUID, dict[str, Any]] = {}
        self._raised: dict[uuid.UUID, dict[str, Any]] = {}
        self._cleared: dict[uuid.UUID, dict[str, Any]] = {}

    async def load(self, keys: set[Key]) -> None:
        """Read the open alarms of ``keys`` not yet known, in one statement."""
        missing = {k for k in keys if k not in self._open}
        if not missing:
            return
        tenants = sorted({k[0] for k in missing})
        originators = sorted({k[1] for k in missing})
        types = sorted({k[2] for k in missing})
        stmt = select(A).where(
            A.c.tenant_id.in_(tenants),
            A.c.originator_id.in_(originators),
            A.c.type.in_(types),
            A.c.active.is_(True),
        )
        for key in missing:
            self._open[key] = None
        for r in (await self.conn.execute(stmt)).mappings():
            key = (r["tenant_id"], r["originator_id"], r["type"])
            if key in missing:
                self._open[key] = dict(r)

    async def raise_(self, uow: UnitOfWork, tenant_id: uuid.UUID, cmd: RaiseAlarm) -> dict[str, Any]:
        """One open alarm per originator and type: a repeat raises its count (and severity)."""
        key = (tenant_id, cmd.originator_id, cmd.type)
        await self.load({key})
        now = utcnow()
        open_ = self._open[key]
        if open_ is not None:
            severity = max(open_["severity"], cmd.severity, key=lambda s: SEVERITY_RANK.get(s, 0))
            values = {
                "severity": severity,
                "last_raised_at": cmd.at,
                "raise_count": open_["raise_count"] + 1,
                "details": {**open_["details"], **cmd.details},
                "updated_at": now,
            }
            open_.update(values)
            if open_["id"] not in self._new:
                self._raised[open_["id"]] = open_
            _publish(uow, ALARM_RAISED, open_, cmd.correlation_id)
            return dict(open_)
        policy = await self._policy(tenant_id, cmd.owner_organization_id)
        first_after = policy["levels"][0]["after_s"] if policy else None
        alarm_id = new_id()
        row: dict[str, Any] = {
            "id": alarm_id,
            "tenant_id": tenant_id,
            "type": cmd.type,
            "originator_kind": cmd.originator_kind,
            "originator_id": cmd.originator_id,
            "originator": cmd.originator,
            "severity": cmd.severity,
            "active": True,
            "acknowledged": False,
            "assignee": None,
            "rule_id": cmd.rule_id,
            "device_id": cmd.device_id,
            "asset_id": cmd.asset_id,
            "site_id": cmd.site_id,
            "shipment_id": cmd.shipment_id,
            "lot_ids": [str(lot) for lot in cmd.lot_ids],
            "details": cmd.details,
            "raised_at": cmd.at,
            "last_raised_at": cmd.at,
            "raise_count": 1,
            "cleared_at": None,
            "acknowledged_at": None,
            "acknowledged_by": None,
            "escalation_policy_id": policy["id"] if policy else None,
            "escalation_level": 0,
            # The SLA runs from when we learnt of it, not from the reading's time.
            "ack_due_at": now + timedelta(seconds=first_after) if first_after else None,
            "escalated_at": None,
            "correlation_id": cmd.correlation_id,
            "created_at": now,
            "updated_at": now,
        }
        self._open[key] = self._new[alarm_id] = row
        _publish(uow, ALARM_RAISED, row, cmd.correlation_id)
        return dict(row)

    async def clear_for(
        self,
        uow: UnitOfWork,
        tenant_id: uuid.UUID,
        originator_id: uuid.UUID,
        type_: str,
        at: datetime,
        reason: str,
        correlation_id: str | None = None,
    ) -> dict[str, Any] | None:
        """The condition behind an open alarm stopped: clear it (None when none is open)."""
        key = (tenant_id, originator_id, type_)
        await self.load({key})
        row = self._open[key]
        if row is None:
            return None
        row.update({"active": False, "cleared_at": at, "ack_due_at": None, "updated_at": utcnow()})
        self._open[key] = None
        if row["id"] not in self._new:
            self._cleared[row["id"]] = row
        _publish(uow, ALARM_CLEARED, row, correlation_id, None, reason)
        return dict(row)

    async def flush(self) -> None:
        """Write what changed since the last flush: new alarms, then repeats, then clears."""
        if self._new:
            await self.conn.execute(A.insert(), list(self._new.values()))
        for changed, columns in ((self._raised, _RAISED), (self._cleared, _CLEARED)):
            if changed:
                stmt = update(A).where(A.c.id == bindparam("_id")).values({c: bindparam(c) for c in columns})
                await self.conn.execute(
                    stmt, [{"_id": row["id"], **{c: row[c] for c in columns}} for row in changed.values()]
                )
        self._new, self._raised, self._cleared = {}, {}, {}

    def forget(self) -> None:
        """Alarms were changed around the book (after a ``flush``): read them again when needed."""
        self._open.clear()

    async def _policy(self, tenant_id: uuid.UUID, owner: uuid.UUID | None) -> dict[str, Any] | None:
        """The escalation policy of the asset's owner, else the tenant's default."""
        rows = self._policies.get(tenant_id)
        if rows is None:
            p = alarms_escalation_policy
            stmt = select(p).where(p.c.tenant_id == tenant_id, p.c.archived_at.is_(None))
            found = (await self.conn.execute(stmt)).mappings()
            rows = sorted((dict(r) for r in found), key=lambda r: r["code"])
            self._policies[tenant_id] = rows
        for want in (owner, None) if owner is not None else (None,):
            for r in rows:
                if r["organization_id"] == want:
                    return r
        return None


async def raise_alarm(uow: UnitOfWork, tenant_id: uuid.UUID, cmd: RaiseAlarm) -> dict[str, Any]:
    """One open alarm per originator and type: a repeat raises its count (and severity)."""
    book = AlarmBook(uow.conn)
    row = await book.raise_(uow, tenant_id, cmd)
    await book.flush()
    return row


async def clear_for(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    originator_id: uuid.UUID,
    type_: str,
    at: datetime,
    reason: str,
    correlation_id: str | None = None,
) -> dict[str, Any] | None:
    """The condition behind an open alarm stopped: clear it (None when none is open)."""
    book = AlarmBook(uow.conn)
    row = await book.clear_for(uow, tenant_id, originator_id, type_, at, reason, correlation_id)
    await book.flush()
    return row


async def clear_of_rule(
    uow: UnitOfWork, tenant_id: uuid.UUID, rule_id: uuid.UUID, reason: str, correlation_id: str | None
) -> list[str]:
    """Clear every open alarm a rule raised (the rule changed or went away); their ids."""
    stmt = select(A).where(A.c.tenant_id == tenant_id, A.c.rule_id == rule_id, A.c.active.is_(True))
    rows = [dict(r) for r in (await uow.conn.execute(stmt)).mappings()]
    for row in rows:
        await _clear(uow, row, utcnow(), reason, correlation_id)
    return [str(row["id"]) for row in rows]


async def clear(uow: UnitOfWork, scope: Scope, alarm_id: uuid.UUID, reason: str | None) -> dict[str, Any]:
    row = await _get(uow.conn, scope, alarm_id, Action.WRITE)
    if not row["active"]:
        raise Conflict(f"alarm {alarm_id} is already cleared")
    return await _clear(uow, row, utcnow(), reason or f"cleared by {scope.actor}", None)


async def acknowledge(uow: UnitOfWork, scope: Scope, alarm_id: uuid.UUID) -> dict[str, Any]:
    row = await _get(uow.conn, scope, alarm_id, Action.WRITE)
    if row["acknowledged"]:
        return row  # acknowledging twice is what a double click does; not an error
    now = utcnow()
    values = {
        "acknowledged": True,
        "acknowledged_at": now,
        "acknowledged_by": scope.actor,
        "ack_due_at": None,
        "updated_at": now,
    }
    return await _change(uow, row, values, ALARM_ACKNOWLEDGED, scope.actor)


async def assign(uow: UnitOfWork, scope: Scope, alarm_id: uuid.UUID, assignee: str | None) -> dict[str, Any]:
    row = await _get(uow.conn, scope, alarm_id, Action.WRITE)
    values = {"assignee": assignee, "updated_at": utcnow()}
    return await _change(uow, row, values, ALARM_ASSIGNED, scope.actor)


async def comment(uow: UnitOfWork, scope: Scope, alarm_id: uuid.UUID, text: str) -> dict[str, Any]:
    row = await _get(uow.conn, scope, alarm_id, Action.WRITE)
    note = {
        "id": new_id(),
        "tenant_id": row["tenant_id"],
        "alarm_id": alarm_id,
        "author": scope.actor,
        "text": text,
        "created_at": utcnow(),
    }
    await uow.conn.execute(alarms_comment.insert().values(**note))
    data = {"id": str(alarm_id), "comment_id": str(note["id"]), "author": note["author"], "text": text}
    uow.publish(_event(ALARM_COMMENTED, row, data, scope.actor, None))
    return note


async def escalate_due(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Move every active, unacknowledged alarm past its SLA to the next level of its policy."""
    now = now or utcnow()
    stmt = select(A).where(A.c.active.is_(True), A.c.acknowledged.is_(False), A.c.ack_due_at <= now)
    due = [dict(r) for r in (await uow.conn.execute(stmt.limit(500))).mappings()]
    policies: dict[uuid.UUID, dict[str, Any] | None] = {}
    for row in due:
        pid = row["escalation_policy_id"]
        if pid not in policies:
            got = await uow.conn.execute(
                select(alarms_escalation_policy).where(alarms_escalation_policy.c.id == pid)
            )
            found = got.mappings().first()
            policies[pid] = dict(found) if found is not None else None
        levels = (policies[pid] or {}).get("levels") or []
        level = row["escalation_level"]
        if level >= len(levels):
            await uow.conn.execute(update(A).where(A.c.id == row["id"]).values(ack_due_at=None))
            continue
        nxt = levels[level + 1]["after_s"] if level + 1 < len(levels) else None
        values = {
            "escalation_level": level + 1,
            "assignee": levels[level]["assignee"],
            "escalated_at": now,
            "ack_due_at": now + timedelta(seconds=nxt) if nxt else None,
            "updated_at": now,
        }
        await _change(uow, row, values, ALARM_ESCALATED, "escalation", row["correlation_id"])
    return len(due)


async def any_due(conn: AsyncConnection, now: datetime | None = None) -> bool:
    """Whether some alarm is past its acknowledgement SLA (a cheap read before escalating)."""
    stmt = select(A.c.id).where(
        A.c.active.is_(True), A.c.acknowledged.is_(False), A.c.ack_due_at <= (now or utcnow())
    )
    return (await conn.execute(stmt.limit(1))).first() is not None


def sla(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The acknowledgement timer as the alarm shows it."""
    due = row["ack_due_at"]
    if due is None:
        return {"ack_due_at": None, "remaining_s": None, "breached": False}
    remaining = (due - now).total_seconds()
    return {"ack_due_at": due.isoformat(), "remaining_s": round(remaining, 1), "breached": remaining < 0}


# ---- helpers -----------------------------------------------------------------------------------


async def _get(conn: AsyncConnection, scope: Scope, alarm_id: uuid.UUID, need: Action) -> dict[str, Any]:
    scope.require("alarms", need)
    stmt = scoped(select(A), A, scope, need).where(A.c.id == alarm_id)
    row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        raise NotFound(f"no alarm {alarm_id}")
    return dict(row)


async def _clear(
    uow: UnitOfWork, row: dict[str, Any], at: datetime, reason: str, correlation_id: str | None
) -> dict[str, Any]:
    values = {"active": False, "cleared_at": at, "ack_due_at": None, "updated_at": utcnow()}
    return await _change(uow, row, values, ALARM_CLEARED, None, correlation_id, reason)


async def _change(
    uow: UnitOfWork,
    row: dict[str, Any],
    values: dict[str, Any],
    kind: EventType,
    actor: str | None,
    correlation_id: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    await uow.conn.execute(update(A).where(A.c.id == row["id"]).values(**values))
    new = {**row, **values}
    _publish(uow, kind, new, correlation_id, actor, reason)
    return new


def _publish(
    uow: UnitOfWork,
    kind: EventType,
    row: dict[str, Any],
    correlation_id: str | None,
    actor: str | None = None,
    reason: str | None = None,
) -> None:
    data = {
        "id": str(row["id"]),
        "type": row["type"],
        "severity": row["severity"],
        "status": status_of(row["active"], row["acknowledged"]),
        "originator": row["originator"],
        "originator_id": str(row["originator_id"]),
        "shipment_id": _s(row["shipment_id"]),
        "asset_id": _s(row["asset_id"]),
        "site_id": _s(row["site_id"]),
        "lot_ids": [str(x) for x in row["lot_ids"]],
        "assignee": row["assignee"],
        "escalation_level": row["escalation_level"],
        "ack_due_at": row["ack_due_at"].isoformat() if row["ack_due_at"] else None,
        "reason": reason,
    }
    uow.publish(_event(kind, row, data, actor or "rules", correlation_id))


def _event(
    kind: EventType, row: dict[str, Any], data: dict[str, Any], actor: str, correlation_id: str | None
) -> NewEvent:
    return NewEvent(
        type=kind.type,
        tenant_id=row["tenant_id"],
        subject=f"alarms/{row['id']}",
        source="/supplyline/alarms",
        data=data,
        actor=actor,
        correlation_id=correlation_id,
    )


def _s(value: Any) -> str | None:
    return None if value is None else str(value)
