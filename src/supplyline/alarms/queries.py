"""The read side of alarms: filtered, newest first, keyset-paginated, inside the caller's tenant."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.alarms.model import STATUSES, status_of
from supplyline.alarms.service import sla
from supplyline.alarms.tables import alarms_alarm, alarms_comment
from supplyline.db.keyset import newest_first, page
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Invalid, NotFound
from supplyline.kernel.pagination import Page
from supplyline.kernel.rows import jsonable
from supplyline.kernel.scope import Scope
from supplyline.resources import scoped

A = alarms_alarm
ID_FILTERS = ("originator_id", "rule_id", "device_id", "asset_id", "site_id", "shipment_id")


def view(row: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    out = jsonable(row)
    out["status"] = status_of(row["active"], row["acknowledged"])
    out["sla"] = sla(dict(row), now or utcnow())
    return out


async def list_alarms(
    conn: AsyncConnection,
    scope: Scope,
    filters: Mapping[str, Any],
    cursor: str | None = None,
    limit: int = 50,
) -> Page[dict[str, Any]]:
    scope.require("alarms")
    stmt = scoped(select(A), A, scope)
    status = filters.get("status")
    if status is not None:
        if status not in STATUSES:
            raise Invalid("status", f"'{status}' is not one of {', '.join(STATUSES)}")
        active, ack = status.split("_")
        stmt = stmt.where(A.c.active.is_(active == "active"), A.c.acknowledged.is_(ack == "ack"))
    for name in ("severity", "type", "assignee"):
        if filters.get(name) is not None:
            stmt = stmt.where(A.c[name] == filters[name])
    for name in ID_FILTERS:
        if filters.get(name) is not None:
            stmt = stmt.where(A.c[name] == filters[name])
    if filters.get("active") is not None:
        stmt = stmt.where(A.c.active.is_(bool(filters["active"])))
    lot = filters.get("lot_id")
    if lot is not None:  # a JSON list: matched as text rather than with dialect-only SQL
        stmt = stmt.where(A.c.lot_ids.cast(String).contains(str(lot)))
    found = await page(conn, stmt, newest_first(A, "alarms"), cursor, limit)
    now = utcnow()
    return Page([view(r, now) for r in found.items], found.next_cursor)


async def get_alarm(conn: AsyncConnection, scope: Scope, alarm_id: uuid.UUID) -> dict[str, Any]:
    scope.require("alarms")
    stmt = scoped(select(A), A, scope).where(A.c.id == alarm_id)
    row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        raise NotFound(f"no alarm {alarm_id}")
    c = alarms_comment
    notes = await conn.execute(
        select(c.c.id, c.c.author, c.c.text, c.c.created_at)
        .where(c.c.tenant_id == row["tenant_id"], c.c.alarm_id == alarm_id)
        .order_by(c.c.created_at)
    )
    out = view(dict(row))
    out["comments"] = [
        {"id": str(n.id), "author": n.author, "text": n.text, "created_at": n.created_at.isoformat()}
        for n in notes
    ]
    return out


async def shipment_alarm_windows(
    conn: AsyncConnection, scope: Scope, since: datetime, metric: str
) -> list[tuple[uuid.UUID, datetime, datetime | None]]:
    """``(shipment, raised, cleared or None)`` of the alarms on ``metric`` about a shipment,
    raised or still active since ``since``, that the caller reaches: how long goods were out."""
    stmt = scoped(select(A.c.shipment_id, A.c.raised_at, A.c.cleared_at, A.c.details), A, scope).where(
        A.c.shipment_id.is_not(None), (A.c.cleared_at.is_(None)) | (A.c.cleared_at >= since)
    )
    return [
        (r.shipment_id, r.raised_at, r.cleared_at)
        for r in await conn.execute(stmt)
        if isinstance(r.details, dict) and r.details.get("metric") == metric
    ]
