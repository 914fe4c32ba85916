"""Opening work orders (idempotent per cause) and listing them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.db.keyset import by_id, page
from supplyline.kernel.clock import utcnow
from supplyline.kernel.events import EventType, NewEvent
from supplyline.kernel.ids import new_id
from supplyline.kernel.pagination import Page
from supplyline.kernel.rows import jsonable
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.maintenance.tables import maintenance_work_order
from supplyline.resources import scoped

W = maintenance_work_order


class WorkOrderOpened(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID
    title: str
    asset_id: uuid.UUID | None = None
    device_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    alarm_id: uuid.UUID | None = None


WORK_ORDER_OPENED = EventType(
    "work_order.opened", 1, WorkOrderOpened, "A work order was opened for a provider."
)
EVENT_TYPES = [WORK_ORDER_OPENED]


@dataclass(frozen=True)
class OpenWorkOrder:
    title: str
    asset_id: uuid.UUID | None
    device_id: uuid.UUID | None
    organization_id: uuid.UUID | None  # the asset's maintainer: the service provider
    alarm_id: uuid.UUID | None = None
    rule_id: uuid.UUID | None = None
    cause_event_id: uuid.UUID | None = None
    description: str | None = None
    correlation_id: str | None = None


async def open_work_order(uow: UnitOfWork, tenant_id: uuid.UUID, cmd: OpenWorkOrder) -> dict[str, Any]:
    if cmd.cause_event_id is not None:
        found = await uow.conn.execute(
            select(W).where(W.c.tenant_id == tenant_id, W.c.cause_event_id == cmd.cause_event_id)
        )
        row = found.mappings().first()
        if row is not None:
            return dict(row)
    row_: dict[str, Any] = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "title": cmd.title[:300],
        "description": cmd.description,
        "status": "open",
        "asset_id": cmd.asset_id,
        "device_id": cmd.device_id,
        "organization_id": cmd.organization_id,
        "alarm_id": cmd.alarm_id,
        "rule_id": cmd.rule_id,
        "cause_event_id": cmd.cause_event_id,
        "correlation_id": cmd.correlation_id,
        "created_at": utcnow(),
        "closed_at": None,
    }
    await uow.conn.execute(W.insert().values(**row_))
    data = {k: (None if row_[k] is None else str(row_[k])) for k in WorkOrderOpened.model_fields}
    uow.publish(
        NewEvent(
            type=WORK_ORDER_OPENED.type,
            tenant_id=tenant_id,
            subject=f"work-orders/{row_['id']}",
            source="/supplyline/maintenance",
            data=data,
            actor="rules",
            correlation_id=cmd.correlation_id,
        )
    )
    return row_


async def list_work_orders(
    conn: AsyncConnection, scope: Scope, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page[dict[str, Any]]:
    scope.require("work-orders")
    stmt = scoped(select(W), W, scope)
    if status is not None:
        stmt = stmt.where(W.c.status == status)
    found = await page(conn, stmt, by_id(W, "work-orders"), cursor, limit)
    return Page([jsonable(r) for r in found.items], found.next_cursor)


async def asset_failures(
    conn: AsyncConnection, scope: Scope, since: datetime, until: datetime
) -> list[tuple[uuid.UUID, datetime]]:
    """``(asset, opened at)`` of the work orders on an asset opened in ``[since, until)`` that the
    caller reaches. Every work order here is corrective (opened by a rule on a failing asset or by a
    person reporting one): the platform schedules no preventive work yet."""
    stmt = scoped(select(W.c.asset_id, W.c.created_at), W, scope).where(
        W.c.asset_id.is_not(None), W.c.created_at >= since, W.c.created_at < until
    )
    return [(r.asset_id, r.created_at) for r in await conn.execute(stmt)]
