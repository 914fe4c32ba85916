"""Use cases: a tenant's retention per data class, and its legal holds.

Every write and every purge of a tenant takes the tenant's governance lock first (PostgreSQL;
SQLite serialises writers anyway), and a purge reads the settings and holds after taking it:
a hold placed while a purge runs waits for it, and a purge that starts after the hold commits
sees it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.db.dialect import lock_for_transaction, upsert
from supplyline.governance.model import (
    DATA_CLASSES,
    ClassRetention,
    DataClass,
    LegalHold,
    RetentionView,
    check_days,
    hold_covers,
)
from supplyline.governance.tables import governance_legal_hold, governance_retention
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Conflict, Invalid, NotFound
from supplyline.kernel.ids import new_id
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.telemetry import TenantRules

RESOURCE = "governance"
RETENTION_OBJECT = "governance/retention"
_LOCK_LABEL = b"supplyline.governance.tenant"


async def lock_tenant(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """The tenant's governance lock, to the end of the transaction."""
    digest = hashlib.sha256(_LOCK_LABEL + tenant_id.bytes).digest()
    await lock_for_transaction(conn, int.from_bytes(digest[:8], "big", signed=True))


async def _stored(conn: AsyncConnection, tenant_id: uuid.UUID) -> dict[str, ClassRetention]:
    t = governance_retention
    rows = await conn.execute(select(t).where(t.c.tenant_id == tenant_id))
    return {
        r.data_class: ClassRetention(r.data_class, r.days, "tenant", r.updated_at, r.updated_by) for r in rows
    }


async def _view(conn: AsyncConnection, tenant_id: uuid.UUID, telemetry_default: int) -> RetentionView:
    stored = await _stored(conn, tenant_id)
    defaults: dict[DataClass, int | None] = {cls: None for cls in DATA_CLASSES}
    defaults["telemetry"] = telemetry_default
    classes = tuple(stored.get(cls) or ClassRetention(cls, defaults[cls], "default") for cls in DATA_CLASSES)
    return RetentionView(tenant_id, classes)


async def retention(conn: AsyncConnection, scope: Scope, telemetry_default: int) -> RetentionView:
    """The caller's tenant's retention of each data class; ``telemetry_default`` is the platform's
    (SUPPLYLINE_TELEMETRY_RETENTION_DAYS)."""
    scope.require(RESOURCE)
    return await _view(conn, scope.require_tenant(), telemetry_default)


async def set_retention(
    uow: UnitOfWork, scope: Scope, days: Mapping[DataClass, int | None], telemetry_default: int
) -> RetentionView:
    """Replace the tenant's retention whole: each class's days, or None for the default."""
    scope.require(RESOURCE, Action.WRITE)
    tenant_id = scope.require_tenant()
    check_days(days)
    await lock_tenant(uow.conn, tenant_id)
    before = await _view(uow.conn, tenant_id, telemetry_default)
    uow.previous[RETENTION_OBJECT] = before.as_dict()
    t, now = governance_retention, utcnow()
    current = {c.data_class: c for c in before.classes}
    kept = [cls for cls in DATA_CLASSES if days[cls] is not None]
    changed = [
        {
            "tenant_id": tenant_id,
            "data_class": cls,
            "days": days[cls],
            "updated_at": now,
            "updated_by": scope.actor,
        }
        for cls in kept
        if current[cls].source != "tenant" or current[cls].days != days[cls]
    ]
    await upsert(
        uow.conn, t, changed, keys=("tenant_id", "data_class"), update=("days", "updated_at", "updated_by")
    )
    await uow.conn.execute(delete(t).where(t.c.tenant_id == tenant_id, t.c.data_class.not_in(kept)))
    return await _view(uow.conn, tenant_id, telemetry_default)


async def place_hold(uow: UnitOfWork, scope: Scope, data_class: DataClass | None, reason: str) -> LegalHold:
    """Suspend purging ``data_class`` (None: every class) in the caller's tenant until released."""
    scope.require(RESOURCE, Action.WRITE)
    tenant_id = scope.require_tenant()
    if data_class is not None and data_class not in DATA_CLASSES:
        raise Invalid("data_class", f"not a data class; use {', '.join(DATA_CLASSES)} or null (all)")
    if not reason.strip():
        raise Invalid("reason", "say why the data must be kept")
    await lock_tenant(uow.conn, tenant_id)
    hold = LegalHold(new_id(), tenant_id, data_class, reason, utcnow(), scope.actor, None, None, None)
    values = {name: getattr(hold, name) for name in LegalHold.__dataclass_fields__}
    await uow.conn.execute(governance_legal_hold.insert().values(**values))
    return hold


async def _hold(conn: AsyncConnection, tenant_id: uuid.UUID, hold_id: uuid.UUID) -> LegalHold:
    t = governance_legal_hold
    row = (
        (await conn.execute(select(t).where(t.c.id == hold_id, t.c.tenant_id == tenant_id)))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no legal hold {hold_id}")
    return LegalHold.from_row(row)


async def release_hold(uow: UnitOfWork, scope: Scope, hold_id: uuid.UUID, reason: str | None) -> LegalHold:
    """Release a hold: purging its class resumes at the next run, unless another hold covers it."""
    scope.require(RESOURCE, Action.WRITE)
    tenant_id = scope.require_tenant()
    await lock_tenant(uow.conn, tenant_id)
    hold = await _hold(uow.conn, tenant_id, hold_id)
    if not hold.active:
        raise Conflict(f"legal hold {hold_id} was released already, at {hold.released_at}")
    uow.previous[f"governance/legal-holds/{hold_id}"] = hold.as_dict()
    now = utcnow()
    t = governance_legal_hold
    await uow.conn.execute(
        update(t)
        .where(t.c.id == hold_id)
        .values(released_at=now, released_by=scope.actor, release_reason=reason)
    )
    return await _hold(uow.conn, tenant_id, hold_id)


async def list_holds(conn: AsyncConnection, scope: Scope, *, active: bool | None = None) -> list[LegalHold]:
    """The caller's tenant's holds, newest first; ``active`` keeps only those (not) in force."""
    scope.require(RESOURCE)
    t = governance_legal_hold
    stmt = select(t).where(t.c.tenant_id == scope.require_tenant())
    if active is not None:
        stmt = stmt.where(t.c.released_at.is_(None) if active else t.c.released_at.is_not(None))
    rows = await conn.execute(stmt.order_by(t.c.placed_at.desc(), t.c.id.desc()))
    return [LegalHold.from_row(r) for r in rows.mappings()]


async def is_held(conn: AsyncConnection, tenant_id: uuid.UUID, data_class: DataClass) -> bool:
    """Whether an active hold of the tenant suspends purging ``data_class``."""
    t = governance_legal_hold
    stmt = select(t.c.data_class).where(t.c.tenant_id == tenant_id, t.c.released_at.is_(None))
    return any(hold_covers(held, data_class) for held in (await conn.execute(stmt)).scalars())


async def retention_days(conn: AsyncConnection, tenant_id: uuid.UUID, data_class: DataClass) -> int | None:
    """The tenant's own setting for ``data_class`` (None: none, the default applies)."""
    t = governance_retention
    stmt = select(t.c.days).where(t.c.tenant_id == tenant_id, t.c.data_class == data_class)
    days = (await conn.execute(stmt)).scalar()
    return None if days is None else int(days)


async def telemetry_rules(conn: AsyncConnection, tenant_id: uuid.UUID) -> TenantRules:
    """What telemetry's purge asks (``supplyline.telemetry.RulesSource``), in its transaction."""
    await lock_tenant(conn, tenant_id)
    return TenantRules(
        days=await retention_days(conn, tenant_id, "telemetry"),
        held=await is_held(conn, tenant_id, "telemetry"),
    )
