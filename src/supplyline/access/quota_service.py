"""Use cases for quotas: the platform admin sets a tenant's, a tenant admin its API keys'.

A tenant without a row of its own has the platform defaults (SUPPLYLINE_QUOTA_*); a row
replaces them whole, a null in it meaning no limit. A key's row limits that key on top of its
tenant's limit; a key without one is bounded by its tenant's alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.access.events import QUOTA_CLEARED, QUOTA_SET
from supplyline.access.quotas import Quota
from supplyline.access.tables import access_api_key, access_quota, access_tenant
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Invalid, NotFound
from supplyline.kernel.events import NewEvent
from supplyline.kernel.ids import new_id
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

LIMITS = ("requests_per_s", "requests_burst", "readings_per_s", "devices")
KEY_LIMITS = ("requests_per_s", "requests_burst")  # readings and devices are the tenant's


@dataclass(frozen=True)
class QuotaView:
    tenant_id: uuid.UUID
    api_key_id: uuid.UUID | None
    quota: Quota
    # Where the limits come from: "tenant" or "api_key" (a row), "default" (the settings, for a
    # tenant without a row) or "none" (a key without a row: its tenant's limit alone applies).
    source: str
    updated_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        names = KEY_LIMITS if self.api_key_id else LIMITS
        return {
            "tenant_id": str(self.tenant_id),
            **({"api_key_id": str(self.api_key_id)} if self.api_key_id else {}),
            **{name: getattr(self.quota, name) for name in names},
            "source": self.source,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def _quota(row: Any) -> Quota:
    return Quota(**{name: row[name] for name in LIMITS})


async def load_quotas(conn: AsyncConnection) -> tuple[dict[uuid.UUID, Quota], dict[uuid.UUID, Quota]]:
    """Every row: (tenant id -> tenant-wide quota, API key id -> key quota). A few rows per
    tenant at most, so the whole table is read at each refresh of the in-memory copy."""
    tenants: dict[uuid.UUID, Quota] = {}
    keys: dict[uuid.UUID, Quota] = {}
    for row in (await conn.execute(select(access_quota))).mappings():
        if row["api_key_id"] is None:
            tenants[row["tenant_id"]] = _quota(row)
        else:
            keys[row["api_key_id"]] = _quota(row)
    return tenants, keys


def _row_of(tenant_id: uuid.UUID, key_id: uuid.UUID | None) -> ColumnElement[bool]:
    t = access_quota
    key = t.c.api_key_id.is_(None) if key_id is None else t.c.api_key_id == key_id
    return (t.c.tenant_id == tenant_id) & key


async def _stored(conn: AsyncConnection, tenant_id: uuid.UUID, key_id: uuid.UUID | None) -> Any:
    return (await conn.execute(select(access_quota).where(_row_of(tenant_id, key_id)))).mappings().first()


async def lock_tenant(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """The tenant must exist; its row stays locked to the end of the transaction (PostgreSQL;
    SQLite writers are serialised anyway), so concurrent writes of its quota, or creates of
    devices under a limit, queue up. NO KEY UPDATE: inserts elsewhere that refer to the tenant
    (they take FOR KEY SHARE) do not wait for it."""
    stmt = select(access_tenant.c.id).where(access_tenant.c.id == tenant_id).with_for_update(key_share=True)
    if (await conn.execute(stmt)).first() is None:
        raise NotFound(f"no tenant {tenant_id}")


async def _lock_key(conn: AsyncConnection, tenant_id: uuid.UUID, key_id: uuid.UUID) -> None:
    t = access_api_key
    stmt = select(t.c.id).where(t.c.id == key_id, t.c.tenant_id == tenant_id).with_for_update(key_share=True)
    if (await conn.execute(stmt)).first() is None:
        raise NotFound(f"no API key {key_id}")


async def _write(
    uow: UnitOfWork, scope: Scope, tenant_id: uuid.UUID, key_id: uuid.UUID | None, q: Quota
) -> datetime:
    """Replace the row (the caller holds the lock); returns its updated_at."""
    now = utcnow()
    values = {name: getattr(q, name) for name in LIMITS}
    if await _stored(uow.conn, tenant_id, key_id) is None:
        await uow.conn.execute(
            insert(access_quota).values(
                id=new_id(), tenant_id=tenant_id, api_key_id=key_id, updated_at=now, **values
            )
        )
    else:
        await uow.conn.execute(
            update(access_quota).where(_row_of(tenant_id, key_id)).values(updated_at=now, **values)
        )
    data = {"tenant_id": str(tenant_id), "api_key_id": str(key_id) if key_id else None, **values}
    uow.publish(_event(QUOTA_SET.type, scope, tenant_id, key_id, data))
    return now


def _event(
    type_: str, scope: Scope, tenant_id: uuid.UUID, key_id: uuid.UUID | None, data: dict[str, Any]
) -> NewEvent:
    subject = f"api-keys/{key_id}/quotas" if key_id else f"tenants/{tenant_id}/quotas"
    return NewEvent(
        type=type_,
        tenant_id=tenant_id,
        subject=subject,
        source="/supplyline/access",
        data=data,
        actor=scope.actor,
    )


async def tenant_quota(
    conn: AsyncConnection, scope: Scope, tenant_id: uuid.UUID, defaults: Quota
) -> QuotaView:
    scope.require_platform()
    found = (await conn.execute(select(access_tenant.c.id).where(access_tenant.c.id == tenant_id))).first()
    if found is None:
        raise NotFound(f"no tenant {tenant_id}")
    row = await _stored(conn, tenant_id, None)
    if row is None:
        return QuotaView(tenant_id, None, defaults, "default", None)
    return QuotaView(tenant_id, None, _quota(row), "tenant", row["updated_at"])


async def set_tenant_quota(uow: UnitOfWork, scope: Scope, tenant_id: uuid.UUID, quota: Quota) -> QuotaView:
    """Replace the tenant's limits (the defaults no longer apply to it)."""
    scope.require_platform()
    quota.checked()
    await lock_tenant(uow.conn, tenant_id)
    at = await _write(uow, scope, tenant_id, None, quota)
    return QuotaView(tenant_id, None, quota, "tenant", at)


async def clear_tenant_quota(
    uow: UnitOfWork, scope: Scope, tenant_id: uuid.UUID, defaults: Quota
) -> QuotaView:
    """Remove the tenant's own limits: the platform defaults apply again."""
    scope.require_platform()
    await lock_tenant(uow.conn, tenant_id)
    gone = await uow.conn.execute(delete(access_quota).where(_row_of(tenant_id, None)))
    if gone.rowcount:
        data = {"tenant_id": str(tenant_id), "api_key_id": None}
        uow.publish(_event(QUOTA_CLEARED.type, scope, tenant_id, None, data))
    return QuotaView(tenant_id, None, defaults, "default", None)


async def key_quota(conn: AsyncConnection, scope: Scope, key_id: uuid.UUID) -> QuotaView:
    scope.require("quotas")
    tenant_id = scope.require_tenant()
    t = access_api_key
    stmt = select(t.c.id).where(t.c.id == key_id, t.c.tenant_id == tenant_id)
    if (await conn.execute(stmt)).first() is None:
        raise NotFound(f"no API key {key_id}")
    row = await _stored(conn, tenant_id, key_id)
    if row is None:
        return QuotaView(tenant_id, key_id, Quota(), "none", None)
    return QuotaView(tenant_id, key_id, _quota(row), "api_key", row["updated_at"])


async def set_key_quota(uow: UnitOfWork, scope: Scope, key_id: uuid.UUID, quota: Quota) -> QuotaView:
    """Limit one API key of the caller's tenant. Only requests/s applies to a key: readings and
    devices are the tenant's, whichever key sends them."""
    scope.require("quotas", Action.WRITE)
    tenant_id = scope.require_tenant()
    for name in LIMITS:
        if name not in KEY_LIMITS and getattr(quota, name) is not None:
            raise Invalid(name, "a limit of the tenant as a whole, not of one key")
    quota.checked()
    await _lock_key(uow.conn, tenant_id, key_id)
    at = await _write(uow, scope, tenant_id, key_id, quota)
    return QuotaView(tenant_id, key_id, quota, "api_key", at)
