"""Planner overrides: made, listed, withdrawn. Kept beside the statistical forecast (the forecast
tables are never written here), withdrawn rather than deleted so that FVA can replay what the
plan said at any time, and each change is an event on the log.

A caller reaches an override when it reaches both its product and its site (the same checks
replenishment makes), so a grant narrowed to a site sees and changes only that site's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics, registry
from supplyline.db.keyset import newest_first, page
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Conflict, Invalid, NotFound
from supplyline.kernel.events import NewEvent
from supplyline.kernel.ids import new_id
from supplyline.kernel.pagination import Page
from supplyline.kernel.rows import jsonable
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.planning.events import FORECAST_OVERRIDE_CREATED, FORECAST_OVERRIDE_WITHDRAWN
from supplyline.planning.override_model import Override, OverrideRequest
from supplyline.planning.tables import planning_override

OV = planning_override
SOURCE = "/supplyline/planning"


def subject(override_id: uuid.UUID | str) -> str:
    return f"forecast-overrides/{override_id}"


def view(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    out = jsonable(row)
    out.pop("tenant_id", None)
    if row["withdrawn_at"] is not None:
        out["status"] = "withdrawn"
    elif row["expires_at"] is not None and row["expires_at"] <= now:
        out["status"] = "expired"
    else:
        out["status"] = "active"
    return out


def as_override(row: Mapping[str, Any]) -> Override:
    return Override(
        id=row["id"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        kind=row["kind"],
        value=float(row["value"]),
        reason_code=row["reason_code"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        withdrawn_at=row["withdrawn_at"],
    )


async def require_series(
    conn: AsyncConnection, scope: Scope, product_id: uuid.UUID, site_id: uuid.UUID
) -> None:
    """404 unless the caller reaches both the product and the site."""
    if await logistics.product_unit(conn, scope, product_id) is None:
        raise NotFound(f"no product {product_id}")
    if not await registry.live_site_ids(conn, scope, [site_id]):
        raise NotFound(f"no site {site_id}")


async def create_override(
    uow: UnitOfWork, scope: Scope, request: OverrideRequest, *, now: datetime | None = None
) -> dict[str, Any]:
    """Store one override and publish ``forecast.override_created``."""
    scope.require("planning", Action.WRITE)
    now = now or utcnow()
    await require_series(uow.conn, scope, request.product_id, request.site_id)
    expires_at = request.expires_at or datetime.combine(request.ends_on + timedelta(days=1), time(), UTC)
    if expires_at <= now:
        field = "expires_at" if request.expires_at is not None else "ends_on"
        raise Invalid(field, "the override would already have expired: it must end in the future")
    row = {
        "id": new_id(),
        "tenant_id": scope.require_tenant(),
        **request.model_dump(exclude={"expires_at"}),
        "expires_at": expires_at.astimezone(UTC),
        "created_by": scope.actor or "unknown",
        "created_at": now,
        "withdrawn_at": None,
        "withdrawn_by": None,
    }
    await uow.conn.execute(OV.insert().values(**row))
    out = view(row, now)
    data = {k: out[k] for k in FORECAST_OVERRIDE_CREATED.data_model.model_fields}
    _publish(uow, scope, FORECAST_OVERRIDE_CREATED.type, row["id"], data)
    return out


async def withdraw_override(
    uow: UnitOfWork, scope: Scope, override_id: uuid.UUID, *, now: datetime | None = None
) -> dict[str, Any]:
    """Mark an override withdrawn (never deleted) and publish ``forecast.override_withdrawn``;
    409 when it already is."""
    scope.require("planning", Action.WRITE)
    now = now or utcnow()
    row = await _reached_row(uow.conn, scope, override_id)
    if row["withdrawn_at"] is not None:
        raise Conflict(f"override {override_id} was withdrawn at {row['withdrawn_at'].isoformat()}")
    uow.previous[subject(override_id)] = view(row, now)
    by = scope.actor or "unknown"
    await uow.conn.execute(
        OV.update()
        .where(OV.c.tenant_id == row["tenant_id"], OV.c.id == override_id, OV.c.withdrawn_at.is_(None))
        .values(withdrawn_at=now, withdrawn_by=by)
    )
    out = view({**row, "withdrawn_at": now, "withdrawn_by": by}, now)
    data = {k: out[k] for k in FORECAST_OVERRIDE_WITHDRAWN.data_model.model_fields}
    _publish(uow, scope, FORECAST_OVERRIDE_WITHDRAWN.type, override_id, data)
    return out


def _publish(uow: UnitOfWork, scope: Scope, type_: str, override_id: uuid.UUID, data: dict[str, Any]) -> None:
    uow.publish(
        NewEvent(
            type=type_,
            tenant_id=scope.require_tenant(),
            subject=subject(override_id),
            source=SOURCE,
            data=data,
            actor=scope.actor,
        )
    )


async def _reached_row(conn: AsyncConnection, scope: Scope, override_id: uuid.UUID) -> dict[str, Any]:
    stmt = select(OV).where(OV.c.tenant_id == scope.require_tenant(), OV.c.id == override_id)
    found = (await conn.execute(stmt)).mappings().first()
    if found is None:
        raise NotFound(f"no forecast override {override_id}")
    row = dict(found)
    try:
        await require_series(conn, scope, row["product_id"], row["site_id"])
    except NotFound:
        raise NotFound(f"no forecast override {override_id}") from None
    return row


async def get_override(
    conn: AsyncConnection, scope: Scope, override_id: uuid.UUID, *, now: datetime | None = None
) -> dict[str, Any]:
    scope.require("planning")
    return view(await _reached_row(conn, scope, override_id), now or utcnow())


def _narrowed(scope: Scope) -> bool:
    return any(scope.reaches(r) is not None for r in ("planning", "sites", "products"))


async def _reach_condition(conn: AsyncConnection, scope: Scope) -> ColumnElement[bool] | None:
    """For a narrowed caller, the products and sites of the tenant's overrides it reaches."""
    if not _narrowed(scope):
        return None
    pairs = (
        await conn.execute(
            select(OV.c.product_id, OV.c.site_id).where(OV.c.tenant_id == scope.require_tenant()).distinct()
        )
    ).all()
    sites = await registry.live_site_ids(conn, scope, list({s for _, s in pairs}))
    products = [p for p in {p for p, _ in pairs} if await logistics.product_unit(conn, scope, p) is not None]
    return and_(OV.c.site_id.in_(list(sites)), OV.c.product_id.in_(products))


def _active(now: datetime) -> ColumnElement[bool]:
    return and_(OV.c.withdrawn_at.is_(None), or_(OV.c.expires_at.is_(None), OV.c.expires_at > now))


async def list_overrides(
    conn: AsyncConnection,
    scope: Scope,
    *,
    product_id: uuid.UUID | None = None,
    site_id: uuid.UUID | None = None,
    active: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> Page[dict[str, Any]]:
    """The overrides the caller reaches, newest first; ``active``: only those that apply now
    (true) or only withdrawn and expired ones (false)."""
    scope.require("planning")
    now = now or utcnow()
    stmt = select(OV).where(OV.c.tenant_id == scope.require_tenant())
    if product_id is not None:
        stmt = stmt.where(OV.c.product_id == product_id)
    if site_id is not None:
        stmt = stmt.where(OV.c.site_id == site_id)
    if active is not None:
        stmt = stmt.where(_active(now) if active else not_(_active(now)))
    reach = await _reach_condition(conn, scope)
    if reach is not None:
        stmt = stmt.where(reach)
    found = await page(conn, stmt, newest_first(OV, "forecast-overrides"), cursor, limit)
    return Page([view(r, now) for r in found.items], found.next_cursor)


async def series_overrides(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    product_id: uuid.UUID,
    site_id: uuid.UUID,
    start: date,
    end: date,
) -> list[Override]:
    """Every override of one series touching ``start``..``end``, withdrawn and expired ones
    too: whether each applied is a question of the time asked about (``Override.active``)."""
    stmt = select(OV).where(
        OV.c.tenant_id == tenant_id,
        OV.c.product_id == product_id,
        OV.c.site_id == site_id,
        OV.c.starts_on <= end,
        OV.c.ends_on >= start,
    )
    return [as_override(dict(r)) for r in (await conn.execute(stmt)).mappings()]
