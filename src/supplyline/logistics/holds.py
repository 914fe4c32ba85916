"""Holding lots for inspection (quarantine) and releasing them with an approval.

A hold takes the whole lot out of sellable stock: its status becomes ``quarantined`` and every
inventory position of the lot counts its on-hand quantity as held. Releasing is a human
decision: only a role that may administer the tenant approves it, and the approver is recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.db.keyset import newest_first, page
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from supplyline.kernel.events import NewEvent
from supplyline.kernel.ids import new_id
from supplyline.kernel.pagination import Page
from supplyline.kernel.rows import jsonable
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.logistics.events import LOT_HELD, LOT_RELEASED
from supplyline.logistics.tables import (
    logistics_hold,
    logistics_inventory,
    logistics_lot,
    logistics_product,
    logistics_shipment,
)
from supplyline.resources import scoped

H = logistics_hold


@dataclass(frozen=True)
class HoldLot:
    lot_id: uuid.UUID
    reason: str
    held_by: str
    cause_event_id: uuid.UUID | None = None
    shipment_id: uuid.UUID | None = None
    alarm_id: uuid.UUID | None = None
    rule_id: uuid.UUID | None = None
    correlation_id: str | None = None


async def hold_lot(uow: UnitOfWork, tenant_id: uuid.UUID, cmd: HoldLot) -> tuple[dict[str, Any], bool]:
    """Quarantine the lot; returns the hold and whether it is new. A lot already on hold keeps
    its hold (one active hold per lot), and the same cause twice finds the hold it made."""
    conn = uow.conn
    # Without a cause (a person's hold) only an active hold counts: ``== None`` would be IS NULL
    # and find every earlier, released, cause-less hold of the lot.
    same = H.c.status == "active"
    if cmd.cause_event_id is not None:
        same = or_(same, H.c.cause_event_id == cmd.cause_event_id)
    current = await conn.execute(select(H).where(H.c.tenant_id == tenant_id, H.c.lot_id == cmd.lot_id, same))
    found = current.mappings().first()
    if found is not None:
        return dict(found), False
    lot = (await lot_details(conn, tenant_id, [cmd.lot_id])).get(cmd.lot_id)
    if lot is None:
        raise NotFound(f"no lot {cmd.lot_id}")
    now = utcnow()
    row = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "lot_id": cmd.lot_id,
        "status": "active",
        "reason": cmd.reason[:500],
        "quantity": lot["quantity"],
        "unit": lot["unit"],
        "previous_lot_status": lot["status"],
        "shipment_id": cmd.shipment_id,
        "alarm_id": cmd.alarm_id,
        "rule_id": cmd.rule_id,
        "cause_event_id": cmd.cause_event_id,
        "correlation_id": cmd.correlation_id,
        "held_by": cmd.held_by[:200],
        "created_at": now,
        "released_at": None,
        "released_by": None,
        "release_reason": None,
    }
    await conn.execute(H.insert().values(**row))
    await _set_lot(conn, tenant_id, cmd.lot_id, "quarantined", held=True)
    data = {
        "hold_id": str(row["id"]),
        "lot_id": str(cmd.lot_id),
        "lot_code": lot["lot_code"],
        "sku": lot["sku"],
        "quantity": lot["quantity"],
        "unit": lot["unit"],
        "reason": row["reason"],
        "shipment_id": _s(cmd.shipment_id),
        "alarm_id": _s(cmd.alarm_id),
        "rule_id": _s(cmd.rule_id),
    }
    uow.publish(_event(LOT_HELD.type, tenant_id, cmd.lot_id, data, cmd.held_by, cmd.correlation_id))
    return row, True


async def place_hold(uow: UnitOfWork, scope: Scope, lot_id: uuid.UUID, reason: str) -> dict[str, Any]:
    """A person's hold on a lot they may hold (``holds:write`` reaching it); the hold, recorded
    as theirs. A lot already on hold is a Conflict naming that hold (one active hold per lot)."""
    scope.require("holds", Action.WRITE)
    tenant_id = scope.require_tenant()
    lot = logistics_lot
    reached = scoped(select(lot.c.id), lot, scope, Action.WRITE, resource="holds").where(lot.c.id == lot_id)
    if (await uow.conn.execute(reached)).first() is None:
        raise NotFound(f"no lot {lot_id}")
    hold, created = await hold_lot(uow, tenant_id, HoldLot(lot_id, reason, scope.actor))
    if not created:
        raise Conflict(f"lot {lot_id} is already on hold ({hold['id']}, held by {hold['held_by']})")
    return hold_view(hold)


async def release_hold(uow: UnitOfWork, scope: Scope, hold_id: uuid.UUID, reason: str) -> dict[str, Any]:
    """The approver's decision: the lot goes back to the status it had and to sellable stock."""
    if not scope.can("holds", Action.APPROVE):
        roles = ", ".join(scope.roles) or "none"
        raise Forbidden(f"releasing a hold needs 'holds:approve'; roles {roles} may not approve")
    tenant_id = scope.require_tenant()
    conn = uow.conn
    found = (
        (await conn.execute(scoped(select(H), H, scope, Action.APPROVE).where(H.c.id == hold_id)))
        .mappings()
        .first()
    )
    if found is None:
        raise NotFound(f"no hold {hold_id}")
    if found["status"] != "active":
        raise Conflict(f"hold {hold_id} was already released by {found['released_by']}")
    now = utcnow()
    values = {"status": "released", "released_at": now, "released_by": scope.actor, "release_reason": reason}
    await conn.execute(update(H).where(H.c.id == hold_id).values(**values))
    await _set_lot(conn, tenant_id, found["lot_id"], found["previous_lot_status"], held=False)
    lot = (await lot_details(conn, tenant_id, [found["lot_id"]]))[found["lot_id"]]
    data = {
        "hold_id": str(hold_id),
        "lot_id": str(found["lot_id"]),
        "lot_code": lot["lot_code"],
        "sku": lot["sku"],
        "quantity": found["quantity"],
        "unit": found["unit"],
        "reason": reason,
        "approved_by": scope.actor,
    }
    uow.publish(
        _event(LOT_RELEASED.type, tenant_id, found["lot_id"], data, scope.actor, found["correlation_id"])
    )
    return hold_view({**found, **values})


async def list_holds(
    conn: AsyncConnection,
    scope: Scope,
    filters: Mapping[str, Any],
    cursor: str | None = None,
    limit: int = 50,
) -> Page[dict[str, Any]]:
    scope.require("holds")
    stmt = scoped(select(H), H, scope)
    for name in ("status", "lot_id", "shipment_id", "alarm_id"):
        value = filters.get(name)
        if isinstance(value, list | tuple | set | frozenset):
            stmt = stmt.where(H.c[name].in_(list(value)))
        elif value is not None:
            stmt = stmt.where(H.c[name] == value)
    if filters.get("status") not in (None, "active", "released"):
        raise Invalid("status", "is one of active, released")
    found = await page(conn, stmt, newest_first(H, "holds"), cursor, limit)
    return Page([hold_view(r) for r in found.items], found.next_cursor)


def hold_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return jsonable(row)


async def lot_details(
    conn: AsyncConnection, tenant_id: uuid.UUID, lot_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Lot code, product SKU, quantity, unit and status of each lot (for holds and partners)."""
    lot, p = logistics_lot, logistics_product
    stmt = (
        select(lot.c.id, lot.c.lot_code, lot.c.quantity, lot.c.unit, lot.c.status, lot.c.product_id, p.c.sku)
        .join(p, p.c.id == lot.c.product_id)
        .where(lot.c.tenant_id == tenant_id, lot.c.id.in_(list(lot_ids)))
    )
    return {r.id: dict(r._mapping) for r in await conn.execute(stmt)}


async def shipment_numbers(
    conn: AsyncConnection, tenant_id: uuid.UUID, shipment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    s = logistics_shipment
    stmt = select(s.c.id, s.c.number).where(s.c.tenant_id == tenant_id, s.c.id.in_(list(shipment_ids)))
    return {r.id: r.number for r in await conn.execute(stmt)}


async def _set_lot(
    conn: AsyncConnection, tenant_id: uuid.UUID, lot_id: uuid.UUID, status: str, held: bool
) -> None:
    """The lot's status, and its positions' held quantity (all of on hand, or none)."""
    now = utcnow()
    lot, inv = logistics_lot, logistics_inventory
    await conn.execute(
        update(lot)
        .where(lot.c.tenant_id == tenant_id, lot.c.id == lot_id)
        .values(status=status, updated_at=now, version=lot.c.version + 1)
    )
    await conn.execute(
        update(inv)
        .where(inv.c.tenant_id == tenant_id, inv.c.lot_id == lot_id)
        .values(held=inv.c.on_hand if held else 0.0, updated_at=now, version=inv.c.version + 1)
    )


def _event(
    type_: str, tenant_id: uuid.UUID, lot_id: uuid.UUID, data: dict[str, Any], actor: str, cid: str | None
) -> NewEvent:
    return NewEvent(
        type=type_,
        tenant_id=tenant_id,
        subject=f"lots/{lot_id}",
        source="/supplyline/logistics",
        data=data,
        actor=actor,
        correlation_id=cid,
    )


def _s(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)
